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
        // Lines go out in blocks: Console.Out flushes on every write, and a table of 600,000 tensors written line by
        // line spends most of its time in write(2).
        var block = new System.Text.StringBuilder();
        void Line(string[] cells)
        {
            int start = block.Length;
            for (int i = 0; i < cells.Length; i++)
            {
                if (i > 0) block.Append("  ");
                bool last = i == cells.Length - 1;
                if (rightAligned[i]) block.Append(' ', width[i] - cells[i].Length).Append(cells[i]);
                else block.Append(cells[i]).Append(' ', last ? 0 : width[i] - cells[i].Length);
            }
            int end = block.Length;
            while (end > start && char.IsWhiteSpace(block[end - 1])) end--;
            block.Length = end;
            block.Append(o.NewLine);
            if (block.Length >= 1 << 16)
            {
                o.Write(block);
                block.Clear();
            }
        }
        Line(header);
        Line(width.Select(w => new string('─', w)).ToArray());
        foreach (var r in rows) Line(r);
        o.Write(block);
    }
}
