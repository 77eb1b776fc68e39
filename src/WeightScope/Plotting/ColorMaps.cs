namespace WeightScope.Plotting;

/// <summary>Colour maps for figures.</summary>
public static class ColorMaps
{
    // ColorBrewer RdBu (11 classes), reversed: blue for negative, white at 0, red for positive (matplotlib's RdBu_r).
    private static readonly Rgb[] Diverging =
    [
        new(5, 48, 97), new(33, 102, 172), new(67, 147, 195), new(146, 197, 222), new(209, 229, 240), new(247, 247, 247),
        new(253, 219, 199), new(244, 165, 130), new(214, 96, 77), new(178, 24, 43), new(103, 0, 31),
    ];

    /// <summary>Colour for NaN cells.</summary>
    public static Rgb Missing => new(160, 160, 160);

    /// <summary>Blue–white–red for <paramref name="value"/> in [-<paramref name="limit"/>, <paramref name="limit"/>] (white at 0; clamped outside).</summary>
    public static Rgb BlueWhiteRed(double value, double limit)
    {
        if (double.IsNaN(value)) return Missing;
        double t = limit > 0 ? Math.Clamp((value / limit + 1) / 2, 0, 1) : 0.5;
        double pos = t * (Diverging.Length - 1);
        int i = Math.Min((int)pos, Diverging.Length - 2);
        double f = pos - i;
        Rgb a = Diverging[i], b = Diverging[i + 1];
        return new Rgb(Lerp(a.R, b.R, f), Lerp(a.G, b.G, f), Lerp(a.B, b.B, f));
    }

    /// <summary>Distinct colours for overlaid series (matplotlib's tab10).</summary>
    public static Rgb Series(int index) => Tab10[index % Tab10.Length];

    private static readonly Rgb[] Tab10 =
    [
        new(31, 119, 180), new(255, 127, 14), new(44, 160, 44), new(214, 39, 40), new(148, 103, 189),
        new(140, 86, 75), new(227, 119, 194), new(127, 127, 127), new(188, 189, 34), new(23, 190, 207),
    ];

    private static byte Lerp(byte a, byte b, double f) => (byte)Math.Round(a + (b - a) * f);
}
