using System.Globalization;

namespace WeightScope.Cli.Output;

/// <summary>Plain-text rendering helpers: aligned tables and human sizes.</summary>
internal static class Text
{
    /// <summary>A size as the library writes it for every presenter (the viewer shows the same strings).</summary>
    public static string Bytes(long n) => global::WeightScope.Output.Units.Bytes(n);

    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Renders rows as columns; <paramref name="rightAligned"/> marks numeric columns.</summary>
    public static void Table(TextWriter o, string[] header, IReadOnlyList<string[]> rows, bool[] rightAligned)
    {
        var width = header.Select(h => h.Length).ToArray();
        foreach (var r in rows)
            for (int i = 0; i < r.Length; i++) width[i] = Math.Max(width[i], r[i].Length);
        void Line(string[] cells)
        {
            var parts = new string[cells.Length];
            for (int i = 0; i < cells.Length; i++)
            {
                bool last = i == cells.Length - 1;
                parts[i] = rightAligned[i] ? cells[i].PadLeft(width[i]) : last ? cells[i] : cells[i].PadRight(width[i]);
            }
            o.WriteLine(string.Join("  ", parts).TrimEnd());
        }
        Line(header);
        Line(width.Select(w => new string('─', w)).ToArray());
        foreach (var r in rows) Line(r);
    }
}
