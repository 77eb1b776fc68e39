using System.Globalization;
using WeightScope.Analysis;

namespace WeightScope.Plotting;

/// <summary>Options for <see cref="Plot.Histogram"/>.</summary>
public sealed record HistogramPlotOptions
{
    /// <summary>Logarithmic count axis (plt.yscale('log')).</summary>
    public bool LogScale { get; init; }

    /// <summary>Title; default "NAME distribution" for one tensor, "Weight distributions" for several.</summary>
    public string? Title { get; init; }

    /// <summary>Figure width in pixels.</summary>
    public int Width { get; init; } = 800;

    /// <summary>Figure height in pixels.</summary>
    public int Height { get; init; } = 500;
}

/// <summary>The figures: weight histograms (<c>plt.hist</c>) and heatmaps (<c>plt.imshow</c> with a diverging map).</summary>
public static partial class Plot
{
    private static readonly Rgb Axis = new(68, 68, 68), Grid = new(230, 230, 230), Muted = new(100, 100, 100);
    private const int TickLength = 5;

    /// <summary>
    /// A histogram figure: bars per bin, several histograms overlaid in distinct semi-transparent colours with a legend,
    /// axes "Weight Value" and "Frequency" with round ticks, NaN/Inf counts (not binned) noted under the title.
    /// </summary>
    public static Figure Histogram(IReadOnlyList<Histogram> histograms, HistogramPlotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(histograms);
        if (histograms.Count == 0) throw new ArgumentException("no histogram to plot", nameof(histograms));
        var o = options ?? new HistogramPlotOptions();
        string title = o.Title ?? (histograms.Count == 1 ? $"{histograms[0].Name} distribution" : "Weight distributions");
        var fig = new Figure(o.Width, o.Height, title);
        double left = 80, right = o.Width - 24, top = 56, bottom = o.Height - 58;

        double xMin = histograms.Min(h => h.Edges[0]), xMax = histograms.Max(h => h.Edges[^1]);
        double pad = (xMax - xMin) * 0.02;
        xMin -= pad;
        xMax += pad;
        long maxCount = Math.Max(1, histograms.Max(h => h.Counts.Max()));
        double yMin, yMax;
        Func<double, double> yScale;
        if (o.LogScale)
        {
            // A count of 1 must still show as a bar: the axis starts at half a count, as matplotlib's log bars do.
            yMin = Math.Log10(0.5);
            yMax = Math.Log10(maxCount) + 0.15;
            yScale = c => c <= 0 ? double.NaN : Math.Log10(c);
        }
        else
        {
            yMin = 0;
            yMax = maxCount * 1.05;
            yScale = c => c;
        }
        double X(double v) => left + (v - xMin) / (xMax - xMin) * (right - left);
        double Y(double v) => bottom - (v - yMin) / (yMax - yMin) * (bottom - top);

        // Grid and y ticks.
        var yTicks = o.LogScale
            ? Enumerable.Range(0, (int)Math.Floor(yMax) + 1).Select(k => (double)k).ToArray()
            : Ticks.Nice(0, yMax, 8);
        var yLabels = o.LogScale ? yTicks.Select(k => k < 6 ? Math.Pow(10, k).ToString("0", CultureInfo.InvariantCulture) : $"1e{k}").ToArray() : Ticks.Labels(yTicks);
        for (int i = 0; i < yTicks.Length; i++)
        {
            double y = Math.Round(Y(yTicks[i]));
            if (y < top - 0.5) continue;
            fig.Line(left, y, right, y, Grid);
            fig.Line(left - TickLength, y, left, y, Axis);
            fig.Text(left - TickLength - 3, y + 4, yLabels[i], TextAnchor.End);
        }

        // Bars: one colour per tensor, semi-transparent when overlaid.
        double opacity = histograms.Count == 1 ? 0.9 : 0.5;
        for (int s = 0; s < histograms.Count; s++)
        {
            var h = histograms[s];
            for (int i = 0; i < h.Counts.Count; i++)
            {
                if (h.Counts[i] == 0) continue;
                double x0 = X(h.Edges[i]), x1 = X(h.Edges[i + 1]), y = Y(yScale(h.Counts[i]));
                fig.Rect(x0, y, Math.Max(1, x1 - x0), bottom - y, ColorMaps.Series(s), opacity);
            }
        }

        // X ticks and the frame.
        var xTicks = Ticks.Nice(xMin, xMax, 9);
        var xLabels = Ticks.Labels(xTicks);
        for (int i = 0; i < xTicks.Length; i++)
        {
            double x = Math.Round(X(xTicks[i]));
            fig.Line(x, bottom, x, bottom + TickLength, Axis);
            fig.Text(x, bottom + TickLength + 14, xLabels[i], TextAnchor.Middle);
        }
        fig.Line(left, top, left, bottom, Axis);
        fig.Line(left, bottom, right, bottom, Axis);

        fig.Text(o.Width / 2.0, 26, title, TextAnchor.Middle, large: true);
        var notes = histograms.Select(NonFiniteNote).Where(n => n is not null).ToList();
        if (notes.Count > 0) fig.Text(o.Width / 2.0, 44, string.Join("; ", notes), TextAnchor.Middle, color: Muted);
        fig.Text((left + right) / 2, o.Height - 14, "Weight Value", TextAnchor.Middle);
        fig.Text(22, (top + bottom) / 2, o.LogScale ? "Frequency (log scale)" : "Frequency", TextAnchor.Middle, vertical: true);

        if (histograms.Count > 1) Legend(fig, histograms.Select(h => h.Name).ToList(), right - 10, top + 10, opacity);
        return fig;
    }

    private static string? NonFiniteNote(Histogram h)
    {
        var parts = new List<string>();
        if (h.NaN > 0) parts.Add($"{h.NaN:N0} NaN");
        if (h.PositiveInfinity > 0) parts.Add($"{h.PositiveInfinity:N0} +Inf");
        if (h.NegativeInfinity > 0) parts.Add($"{h.NegativeInfinity:N0} -Inf");
        return parts.Count == 0 ? null : $"{h.Name}: {string.Join(", ", parts)} not shown";
    }

    // A boxed legend whose top-right corner is at (right, top).
    private static void Legend(Figure fig, List<string> names, double right, double top, double opacity)
    {
        const int Row = 18, Swatch = 12, Padding = 8;
        double width = names.Max(n => BitmapFonts.Regular.Measure(n)) + Swatch + 3 * Padding;
        double height = names.Count * Row + Padding;
        double x = right - width;
        fig.Rect(x, top, width, height, Rgb.White, 0.85, new Rgb(200, 200, 200));
        for (int i = 0; i < names.Count; i++)
        {
            double y = top + Padding / 2.0 + i * Row;
            fig.Rect(x + Padding, y + 3, Swatch, Swatch, ColorMaps.Series(i), opacity);
            fig.Text(x + 2 * Padding + Swatch, y + 14, names[i]);
        }
    }
}
