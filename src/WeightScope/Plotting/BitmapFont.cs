namespace WeightScope.Plotting;

/// <summary>An anti-aliased bitmap font for printable ASCII: a fixed-size cell per glyph, 4-bit coverage, its own advance.</summary>
internal sealed class BitmapFont(int cellWidth, int height, int ascent, int[] advances, byte[] coverage)
{
    private const char First = ' ', Last = '~';

    /// <summary>Line height in pixels.</summary>
    public int Height { get; } = height;

    /// <summary>Pixels from the top of a line to the baseline.</summary>
    public int Ascent { get; } = ascent;

    /// <summary>Width of <paramref name="text"/> in pixels.</summary>
    public int Measure(string text) => text.Sum(c => advances[Index(c)]);

    /// <summary>Horizontal advance of one character.</summary>
    public int Advance(char c) => advances[Index(c)];

    /// <summary>Coverage 0–255 of pixel (<paramref name="x"/>, <paramref name="y"/>) of a glyph cell.</summary>
    public byte Coverage(char c, int x, int y)
    {
        if (x < 0 || x >= cellWidth || y < 0 || y >= Height) return 0;
        long pixel = ((long)Index(c) * Height + y) * cellWidth + x;
        byte packed = coverage[pixel / 2];
        return (byte)(((pixel & 1) == 0 ? packed >> 4 : packed & 0xF) * 17);
    }

    /// <summary>Width of a glyph cell (a glyph may draw past its advance by a pixel).</summary>
    public int CellWidth => cellWidth;

    // Characters outside printable ASCII are drawn as '?': the fonts are only for labels and numbers.
    private static int Index(char c) => c is >= First and <= Last ? c - First : '?' - First;
}

internal static partial class BitmapFonts
{
}
