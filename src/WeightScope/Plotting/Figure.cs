using System.Globalization;
using System.Text;
using System.Xml;

namespace WeightScope.Plotting;

/// <summary>Where a text's anchor point is: its start, middle or end (as SVG's <c>text-anchor</c>).</summary>
public enum TextAnchor
{
    /// <summary>The text starts at the point.</summary>
    Start,

    /// <summary>The text is centred on the point.</summary>
    Middle,

    /// <summary>The text ends at the point.</summary>
    End,
}

/// <summary>
/// A figure as a list of drawing operations in pixel coordinates, rendered either as PNG (on a <see cref="Raster"/>,
/// with the embedded bitmap fonts) or as SVG (vector, XmlWriter) — the same picture in both.
/// </summary>
public sealed class Figure
{
    private readonly List<Op> _ops = [];

    /// <summary>An empty figure of the given size in pixels.</summary>
    public Figure(int width, int height, string title)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        Width = width;
        Height = height;
        Title = title;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The figure's title (also the SVG <c>&lt;title&gt;</c>).</summary>
    public string Title { get; }

    private abstract record Op;
    private sealed record RectOp(double X, double Y, double W, double H, Rgb Fill, double Opacity, Rgb? Stroke) : Op;
    private sealed record LineOp(double X0, double Y0, double X1, double Y1, Rgb Color) : Op;
    private sealed record TextOp(double X, double Y, string Text, bool Large, TextAnchor Anchor, bool Vertical, Rgb Color) : Op;
    private sealed record ImageOp(int X, int Y, int W, int H, Raster Image) : Op;

    /// <summary>A filled rectangle, optionally outlined.</summary>
    public void Rect(double x, double y, double w, double h, Rgb fill, double opacity = 1, Rgb? stroke = null) => _ops.Add(new RectOp(x, y, w, h, fill, opacity, stroke));

    /// <summary>A one-pixel line.</summary>
    public void Line(double x0, double y0, double x1, double y1, Rgb color) => _ops.Add(new LineOp(x0, y0, x1, y1, color));

    /// <summary>Text whose baseline-left (or centre, or end) is at (x, y); <paramref name="vertical"/> reads upwards.</summary>
    public void Text(double x, double y, string text, TextAnchor anchor = TextAnchor.Start, bool large = false, bool vertical = false, Rgb? color = null) =>
        _ops.Add(new TextOp(x, y, text, large, anchor, vertical, color ?? new Rgb(34, 34, 34)));

    /// <summary>A raster image scaled (nearest neighbour, no smoothing) into the rectangle.</summary>
    public void Image(int x, int y, int w, int h, Raster image) => _ops.Add(new ImageOp(x, y, w, h, image));

    /// <summary>Number of rectangles drawn (bars, cells, legend swatches…).</summary>
    public int RectCount => _ops.Count(o => o is RectOp);

    /// <summary>Writes the figure to <paramref name="path"/>: PNG for <c>.png</c>, SVG for <c>.svg</c>.</summary>
    /// <exception cref="ArgumentException">The extension is neither.</exception>
    public void Save(string path)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".png" or ".svg")) throw new ArgumentException($"cannot tell the image format from '{path}': use a .png or .svg file name");
        // Written as every output is (DESIGN: writers never damage): a temporary file renamed into place, links and
        // permission bits kept, a device or pipe written into.
        Writing.AtomicFile.Write(path, f =>
        {
            if (ext == ".png") WritePng(f);
            else WriteSvg(f);
        });
    }

    /// <summary>Renders the figure on a raster.</summary>
    public Raster ToRaster()
    {
        var r = new Raster(Width, Height, Rgb.White);
        foreach (var op in _ops)
        {
            switch (op)
            {
                case RectOp o:
                    int x0 = (int)Math.Round(o.X), y0 = (int)Math.Round(o.Y), x1 = (int)Math.Round(o.X + o.W), y1 = (int)Math.Round(o.Y + o.H);
                    r.FillRect(x0, y0, x1 - x0, y1 - y0, o.Fill, o.Opacity);
                    if (o.Stroke is { } s)
                    {
                        r.Line(x0, y0, x1 - 1, y0, s);
                        r.Line(x0, y1 - 1, x1 - 1, y1 - 1, s);
                        r.Line(x0, y0, x0, y1 - 1, s);
                        r.Line(x1 - 1, y0, x1 - 1, y1 - 1, s);
                    }
                    break;
                case LineOp o:
                    r.Line((int)Math.Round(o.X0), (int)Math.Round(o.Y0), (int)Math.Round(o.X1), (int)Math.Round(o.Y1), o.Color);
                    break;
                case TextOp o:
                    var font = o.Large ? BitmapFonts.Title : BitmapFonts.Regular;
                    int width = font.Measure(o.Text);
                    int shift = o.Anchor switch { TextAnchor.Middle => width / 2, TextAnchor.End => width, _ => 0 };
                    if (o.Vertical) r.Text((int)Math.Round(o.X) - font.Ascent, (int)Math.Round(o.Y) + shift, o.Text, font, o.Color, vertical: true);
                    else r.Text((int)Math.Round(o.X) - shift, (int)Math.Round(o.Y) - font.Ascent, o.Text, font, o.Color);
                    break;
                case ImageOp o:
                    for (int y = 0; y < o.H; y++)
                        for (int x = 0; x < o.W; x++)
                            r.Blend(o.X + x, o.Y + y, o.Image[x * o.Image.Width / o.W, y * o.Image.Height / o.H]);
                    break;
            }
        }
        return r;
    }

    /// <summary>Writes the figure as PNG.</summary>
    public void WritePng(Stream output) => PngWriter.Write(ToRaster(), output);

    /// <summary>Writes the figure as a standalone SVG document.</summary>
    public void WriteSvg(Stream output)
    {
        using var w = XmlWriter.Create(output, new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) });
        const string Ns = "http://www.w3.org/2000/svg";
        w.WriteStartElement("svg", Ns);
        w.WriteAttributeString("width", I(Width));
        w.WriteAttributeString("height", I(Height));
        w.WriteAttributeString("viewBox", $"0 0 {I(Width)} {I(Height)}");
        w.WriteAttributeString("font-family", "DejaVu Sans, Verdana, Arial, sans-serif");
        w.WriteElementString("title", Ns, Title);
        w.WriteStartElement("rect", Ns);
        w.WriteAttributeString("width", "100%");
        w.WriteAttributeString("height", "100%");
        w.WriteAttributeString("fill", "#ffffff");
        w.WriteAttributeString("class", "background");
        w.WriteEndElement();
        foreach (var op in _ops)
        {
            switch (op)
            {
                case RectOp o:
                    w.WriteStartElement("rect", Ns);
                    Attr(w, "x", o.X); Attr(w, "y", o.Y); Attr(w, "width", o.W); Attr(w, "height", o.H);
                    w.WriteAttributeString("fill", o.Fill.Hex);
                    if (o.Opacity < 1) Attr(w, "fill-opacity", o.Opacity);
                    if (o.Stroke is { } s) w.WriteAttributeString("stroke", s.Hex);
                    w.WriteEndElement();
                    break;
                case LineOp o:
                    w.WriteStartElement("line", Ns);
                    // Half-pixel offsets put a one-unit line on whole pixels, as the raster draws it.
                    Attr(w, "x1", o.X0 + 0.5); Attr(w, "y1", o.Y0 + 0.5); Attr(w, "x2", o.X1 + 0.5); Attr(w, "y2", o.Y1 + 0.5);
                    w.WriteAttributeString("stroke", o.Color.Hex);
                    w.WriteEndElement();
                    break;
                case TextOp o:
                    w.WriteStartElement("text", Ns);
                    Attr(w, "x", o.X); Attr(w, "y", o.Y);
                    w.WriteAttributeString("font-size", o.Large ? "15" : "12");
                    if (o.Large) w.WriteAttributeString("font-weight", "bold");
                    if (o.Anchor != TextAnchor.Start) w.WriteAttributeString("text-anchor", o.Anchor == TextAnchor.Middle ? "middle" : "end");
                    if (o.Vertical) w.WriteAttributeString("transform", $"rotate(-90 {D(o.X)} {D(o.Y)})");
                    w.WriteAttributeString("fill", o.Color.Hex);
                    w.WriteString(o.Text);
                    w.WriteEndElement();
                    break;
                case ImageOp o:
                    using (var png = new MemoryStream())
                    {
                        PngWriter.Write(o.Image, png);
                        w.WriteStartElement("image", Ns);
                        Attr(w, "x", o.X); Attr(w, "y", o.Y); Attr(w, "width", o.W); Attr(w, "height", o.H);
                        w.WriteAttributeString("preserveAspectRatio", "none");
                        w.WriteAttributeString("style", "image-rendering:pixelated");
                        w.WriteAttributeString("href", "data:image/png;base64," + Convert.ToBase64String(png.ToArray()));
                        w.WriteEndElement();
                    }
                    break;
            }
        }
        w.WriteEndElement();
    }

    private static void Attr(XmlWriter w, string name, double v) => w.WriteAttributeString(name, D(v));

    private static string D(double v) => Math.Round(v, 2).ToString("0.##", CultureInfo.InvariantCulture);

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
