namespace WeightScope.Plotting;

/// <summary>An sRGB colour.</summary>
/// <param name="R">Red 0–255.</param>
/// <param name="G">Green 0–255.</param>
/// <param name="B">Blue 0–255.</param>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    /// <summary>CSS form, <c>#rrggbb</c>.</summary>
    public string Hex => $"#{R:x2}{G:x2}{B:x2}";

    /// <summary>White.</summary>
    public static Rgb White => new(255, 255, 255);

    /// <summary>Black.</summary>
    public static Rgb Black => new(0, 0, 0);
}

/// <summary>
/// A small RGB raster canvas (8 bits per channel, row-major, top-left origin): filled rectangles with opacity,
/// one-pixel lines, and text in the embedded bitmap fonts. What the PNG figures are drawn on.
/// </summary>
public sealed class Raster
{
    private const int Channels = 3;

    /// <summary>A canvas filled with <paramref name="background"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is below 1 or above 16384.</exception>
    public Raster(int width, int height, Rgb background)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, MaxSide);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, MaxSide);
        Width = width;
        Height = height;
        Pixels = new byte[width * height * Channels];
        FillRect(0, 0, width, height, background);
    }

    /// <summary>Largest side accepted (a figure, not a photograph).</summary>
    public const int MaxSide = 16384;

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The pixels, RGB triples row by row.</summary>
    public byte[] Pixels { get; }

    /// <summary>The colour at (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public Rgb this[int x, int y]
    {
        get
        {
            int i = (y * Width + x) * Channels;
            return new Rgb(Pixels[i], Pixels[i + 1], Pixels[i + 2]);
        }
    }

    /// <summary>Blends <paramref name="color"/> over one pixel with <paramref name="opacity"/> (0–1); outside the canvas: ignored.</summary>
    public void Blend(int x, int y, Rgb color, double opacity = 1)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height || opacity <= 0) return;
        int i = (y * Width + x) * Channels;
        if (opacity >= 1)
        {
            Pixels[i] = color.R;
            Pixels[i + 1] = color.G;
            Pixels[i + 2] = color.B;
            return;
        }
        Pixels[i] = Mix(Pixels[i], color.R, opacity);
        Pixels[i + 1] = Mix(Pixels[i + 1], color.G, opacity);
        Pixels[i + 2] = Mix(Pixels[i + 2], color.B, opacity);
    }

    /// <summary>Fills the rectangle [x, x+w) × [y, y+h), clipped to the canvas.</summary>
    public void FillRect(int x, int y, int w, int h, Rgb color, double opacity = 1)
    {
        int x0 = Math.Max(0, x), y0 = Math.Max(0, y), x1 = Math.Min(Width, x + w), y1 = Math.Min(Height, y + h);
        for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++) Blend(xx, yy, color, opacity);
    }

    /// <summary>A one-pixel line from (x0, y0) to (x1, y1), both ends included (Bresenham).</summary>
    public void Line(int x0, int y0, int x1, int y1, Rgb color, double opacity = 1)
    {
        int dx = Math.Abs(x1 - x0), sx = x0 < x1 ? 1 : -1, dy = -Math.Abs(y1 - y0), sy = y0 < y1 ? 1 : -1, err = dx + dy;
        while (true)
        {
            Blend(x0, y0, color, opacity);
            if (x0 == x1 && y0 == y1) return;
            int e2 = 2 * err;
            if (e2 >= dy) { err += dy; x0 += sx; }
            if (e2 <= dx) { err += dx; y0 += sy; }
        }
    }

    /// <summary>Draws <paramref name="text"/> with its top-left corner at (x, y); <paramref name="vertical"/> turns it 90° counter-clockwise (reading upwards, its baseline on the right... top at x).</summary>
    internal void Text(int x, int y, string text, BitmapFont font, Rgb color, bool vertical = false)
    {
        int pen = 0;
        foreach (char c in text)
        {
            for (int gy = 0; gy < font.Height; gy++)
                for (int gx = 0; gx < font.CellWidth; gx++)
                {
                    byte a = font.Coverage(c, gx, gy);
                    if (a == 0) continue;
                    // Vertical text runs bottom to top: glyph x goes up the canvas, glyph y goes right.
                    if (vertical) Blend(x + gy, y - pen - gx, color, a / 255.0);
                    else Blend(x + pen + gx, y + gy, color, a / 255.0);
                }
            pen += font.Advance(c);
        }
    }

    private static byte Mix(byte under, byte over, double opacity) => (byte)Math.Round(under + (over - under) * opacity);
}
