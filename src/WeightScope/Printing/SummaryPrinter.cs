using System.Globalization;
using System.Text;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Printing;

/// <summary>
/// Renders a <see cref="ModelSummary"/> the way Keras 3's <c>model.summary(show_trainable=True)</c> prints it: a boxed
/// table, then the Total / Trainable / Non-trainable (/ Optimizer) lines with sizes. A weight file does not hold the
/// output shapes Keras shows (they need the layers' shape inference), so the second column lists the weights each layer
/// owns with their shapes instead, which is what a reader of a weight file wants to see there.
/// </summary>
public static class SummaryPrinter
{
    private const int MaxNameWidth = 40;
    private const int MaxWeightsWidth = 48;
    private const int MinNameWidth = 16;
    private const int MinWeightsWidth = 20;

    /// <summary>The summary as text, lines separated by <c>\n</c>, ending with a newline.</summary>
    /// <param name="summary">What to print.</param>
    /// <param name="maxWidth">
    /// Fit the table in this many characters (a terminal's width) by wrapping the Weights and Layer columns, down to a
    /// readable minimum; null for the natural width (at most 40 + 48 characters for those two columns).
    /// </param>
    public static string Format(ModelSummary summary, int? maxWidth = null)
    {
        ArgumentNullException.ThrowIfNull(summary);
        string[] header = ["Layer (type)", "Weights", "Param #", "Trainable"];
        var cells = summary.Rows.Select(r => new[]
        {
            LayerCell(r),
            string.Join(", ", r.Weights.Select(w => w.Name + " " + PythonShape(w.Tensor.Shape))),
            r.Params.ToString("N0", CultureInfo.InvariantCulture),
            r.Trainable switch { LayerTrainable.Yes => "Y", LayerTrainable.No => "N", LayerTrainable.Unknown => "?", _ => "-" },
        }).ToList();

        int[] widths =
        [
            Math.Clamp(cells.Select(c => c[0].Length).Append(header[0].Length).Max(), header[0].Length, MaxNameWidth),
            Math.Clamp(cells.Select(c => c[1].Length).Append(header[1].Length).Max(), header[1].Length, MaxWeightsWidth),
            cells.Select(c => c[2].Length).Append(header[2].Length).Max(),
            header[3].Length,
        ];
        if (maxWidth is { } max) Fit(widths, max);
        var align = new[] { Align.Left, Align.Left, Align.Right, Align.Center };

        var sb = new StringBuilder();
        sb.Append("Model: \"").Append(summary.ModelName).Append("\"\n");
        Border(sb, widths, '┏', '━', '┳', '┓');
        Row(sb, widths, align, header.Select(h => new List<string> { h }).ToArray(), '┃');
        Border(sb, widths, '┡', '━', '╇', '┩');
        for (int i = 0; i < cells.Count; i++)
        {
            if (i > 0) Border(sb, widths, '├', '─', '┼', '┤');
            var wrapped = cells[i].Select((text, col) => Wrap(text, widths[col], col switch { 0 => " ", 1 => ", ", _ => null })).ToArray();
            Row(sb, widths, align, wrapped, '│');
        }
        Border(sb, widths, '└', '─', '┴', '┘');

        return sb.Append(FormatTotals(summary)).ToString();
    }

    /// <summary>
    /// The footer of <see cref="Format"/>: Total / Trainable / Non-trainable params, then optimizer state (in Total or
    /// not, as the Keras version that wrote the file counts it) and tensors owned by no layer. <c>info</c> prints the same
    /// lines, so both say one thing.
    /// </summary>
    /// <param name="summary">The summary.</param>
    public static string FormatTotals(ModelSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var sb = new StringBuilder();
        Total(sb, "Total params", summary.Total);
        Total(sb, "Trainable params", summary.Trainable);
        Total(sb, "Non-trainable params", summary.NonTrainable);
        if (summary.Optimizer.Params > 0)
        {
            if (summary.TotalIncludesOptimizer) Total(sb, "Optimizer params", summary.Optimizer);
            else Total(sb, "Optimizer state", summary.Optimizer, ", not in Total");
        }
        if (summary.Other.Params > 0) Total(sb, "Unknown-role params", summary.Other, ": the file does not record which are trainable");
        if (summary.OutsideModel.Params > 0) Total(sb, "Other tensors", summary.OutsideModel, ", owned by no layer (metrics, unmapped state, tensors outside state_dict()), not in Total");
        return sb.ToString();
    }

    /// <summary>A shape as Python prints a tuple: <c>(16, 64)</c>, <c>(64,)</c>, <c>()</c>.</summary>
    internal static string PythonShape(Shape shape) => shape.Rank switch
    {
        0 => "()",
        1 => $"({shape[0]},)",
        _ => "(" + string.Join(", ", shape) + ")",
    };

    // Narrows the Weights column, then the Layer column, until the table (4 columns, 3 characters of border and padding
    // each, plus the closing bar) fits; never below their minimums, since a table wrapped to nothing helps no one.
    private static void Fit(int[] widths, int max)
    {
        int excess = widths.Sum() + 3 * widths.Length + 1 - max;
        int take = Math.Clamp(excess, 0, Math.Max(0, widths[1] - MinWeightsWidth));
        widths[1] -= take;
        excess -= take;
        widths[0] -= Math.Clamp(excess, 0, Math.Max(0, widths[0] - MinNameWidth));
    }

    private static string LayerCell(SummaryRow r)
    {
        var prefix = r.Depth == 0 ? "" : new string(' ', 3 * r.Depth) + "└ ";
        var name = r.Name.Length == 0 ? "(root)" : r.Name;
        return prefix + name + (r.Type is null ? "" : $" ({r.Type})");
    }

    private static void Total(StringBuilder sb, string label, WeightCount count, string suffix = "") =>
        sb.Append(' ').Append(label).Append(": ").Append(count.Params.ToString("N0", CultureInfo.InvariantCulture))
          .Append(" (").Append(count.ReadableSize()).Append(')').Append(suffix).Append('\n');

    private enum Align { Left, Right, Center }

    private static void Border(StringBuilder sb, int[] widths, char left, char fill, char mid, char right)
    {
        sb.Append(left);
        for (int i = 0; i < widths.Length; i++)
        {
            if (i > 0) sb.Append(mid);
            sb.Append(fill, widths[i] + 2);
        }
        sb.Append(right).Append('\n');
    }

    private static void Row(StringBuilder sb, int[] widths, Align[] align, List<string>[] lines, char bar)
    {
        int height = lines.Max(l => l.Count);
        for (int line = 0; line < height; line++)
        {
            sb.Append(bar);
            for (int col = 0; col < widths.Length; col++)
            {
                if (col > 0) sb.Append(bar);
                var text = line < lines[col].Count ? lines[col][line] : "";
                sb.Append(' ').Append(Pad(text, widths[col], align[col])).Append(' ');
            }
            sb.Append(bar).Append('\n');
        }
    }

    private static string Pad(string text, int width, Align align) => align switch
    {
        Align.Right => text.PadLeft(width),
        Align.Center => text.PadLeft((width + text.Length) / 2).PadRight(width),
        _ => text.PadRight(width),
    };

    // Breaks a cell into lines of at most `width` characters: after a separator where there is one (so "kernel (3, 3, 1, 32)"
    // stays whole), else hard at the width, as rich folds a long word.
    private static List<string> Wrap(string text, int width, string? separator)
    {
        var lines = new List<string>();
        if (text.Length <= width) { lines.Add(text); return lines; }
        var parts = separator is null ? [text] : text.Split(separator);
        var current = new StringBuilder();
        for (int i = 0; i < parts.Length; i++)
        {
            var part = parts[i] + (i < parts.Length - 1 ? separator!.TrimEnd() : "");
            if (current.Length > 0 && current.Length + 1 + part.Length > width)
            {
                lines.Add(current.ToString());
                current.Clear();
            }
            if (current.Length > 0) current.Append(' ');
            current.Append(part);
            while (current.Length > width)
            {
                lines.Add(current.ToString(0, width));
                current.Remove(0, width);
            }
        }
        if (current.Length > 0) lines.Add(current.ToString());
        return lines;
    }
}
