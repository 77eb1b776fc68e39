using System.Globalization;
using WeightScope.Printing;
using WeightScope.Tensors;

namespace WeightScope.Export;

/// <summary>What one line of a text export holds.</summary>
public enum PerLine
{
    /// <summary>One value per line.</summary>
    Value,

    /// <summary>One row (the last dimension) per line.</summary>
    Row,
}

/// <summary>Options of <see cref="Text"/>.</summary>
public sealed record TextExportOptions
{
    /// <summary>
    /// True (the default): every float is written as the shortest text that reads back to the same value of its dtype
    /// (<see cref="PythonFloat.Repr(double, Tensors.DType)"/>: Python's <c>repr</c> for float64, numpy's
    /// <c>str(np.float32(v))</c> for float32), so <c>np.loadtxt</c> and any parser get the exact bits. False: torch's
    /// notation with <see cref="Print"/>'s precision, which rounds.
    /// </summary>
    public bool RoundTrip { get; init; } = true;

    /// <summary>When <see cref="RoundTrip"/> is false, torch print options: <see cref="PrintOptions.Precision"/> and
    /// <see cref="PrintOptions.SciMode"/> choose the notation exactly as <c>print(tensor)</c> does (threshold and line
    /// width do not apply: every value is written).</summary>
    public PrintOptions Print { get; init; } = PrintOptions.Default;

    /// <summary>Values or rows per line.</summary>
    public PerLine PerLine { get; init; } = PerLine.Value;

    /// <summary>True for CSV (comma-separated, no padding); false for text (values of a row space-separated and aligned as torch aligns them).</summary>
    public bool Csv { get; init; }
}

/// <summary>
/// Plain text and CSV: every value, in output order, one value or one row per line: floats as the shortest text that
/// reads back exactly (or, with a precision, as torch formats tensor elements), integer words as integers.
/// </summary>
public static class Text
{
    /// <summary>Extension of text files.</summary>
    public const string TextExtension = ".txt";

    /// <summary>Extension of CSV files.</summary>
    public const string CsvExtension = ".csv";

    /// <summary>Writes <paramref name="t"/>'s values.</summary>
    public static void Write(ExportTensor t, TextWriter output, TextExportOptions? options = null)
    {
        options ??= new TextExportOptions();
        var texts = options.RoundTrip ? FormatRoundTrip(t, out int torchWidth) : Format(t, options.Print, out torchWidth);
        long rowLength = options.PerLine == PerLine.Row && t.Shape.Count > 0 ? t.Shape[^1] : 1;
        if (rowLength == 0) return;
        // Rows of a text file are aligned as torch aligns them: to its formatter's width (which, with sci_mode forced,
        // is the width of the notation torch would have chosen, so forced notation may not pad at all, as in torch);
        // shortest texts are right-aligned to the longest.
        int width = options.Csv || options.PerLine == PerLine.Value ? 0 : torchWidth;
        string sep = options.Csv ? "," : " ";
        var line = new System.Text.StringBuilder();
        for (long i = 0; i < texts.LongLength; i += rowLength)
        {
            line.Clear();
            for (long j = i; j < i + rowLength; j++)
            {
                if (j > i) line.Append(sep);
                line.Append(width > 0 ? texts[j].PadLeft(width) : texts[j]);
            }
            output.WriteLine(line.ToString());
        }
    }

    /// <summary>Each value as the shortest text that reads back to it in its dtype (integer words as integers).</summary>
    public static string[] FormatRoundTrip(ExportTensor t) => FormatRoundTrip(t, out _);

    private static string[] FormatRoundTrip(ExportTensor t, out int width)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.Words is not null) return Format(t, PrintOptions.Default, out width);
        var dtype = t.SourceDType;
        // An integer tensor (not converted to words) holds whole numbers: written as integers, as numpy writes them.
        var texts = dtype.IsFloatingPoint()
            ? Array.ConvertAll(t.Values, v => PythonFloat.Repr(v, dtype))
            : Array.ConvertAll(t.Values, v => v.ToString("R", CultureInfo.InvariantCulture));
        width = texts.Length == 0 ? 0 : texts.Max(x => x.Length);
        return texts;
    }

    /// <summary>Each value as text: torch's element format (common notation chosen from all values) without padding.</summary>
    public static string[] Format(ExportTensor t, PrintOptions print) => Format(t, print, out _);

    private static string[] Format(ExportTensor t, PrintOptions print, out int width)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.Words is not null)
        {
            var ints = t.Signed || t.WordBits < 64
                ? Array.ConvertAll(t.Words, w => w.ToString(CultureInfo.InvariantCulture))
                : Array.ConvertAll(t.Words, w => unchecked((ulong)w).ToString(CultureInfo.InvariantCulture));
            width = new ElementFormatter(ints).Width;
            return ints;
        }
        var f = new ElementFormatter(t.Values, print);
        width = f.Width;
        return Array.ConvertAll(t.Values, v => f.Format(v).TrimStart());
    }
}
