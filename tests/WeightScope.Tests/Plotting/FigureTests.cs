using System.Xml.Linq;
using WeightScope.Analysis;
using WeightScope.Plotting;
using Xunit;

namespace WeightScope.Tests.Plotting;

/// <summary>The figures as SVG documents (parsed back with XDocument), as rasters, and their ticks and colours.</summary>
public sealed class FigureTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static XDocument ToSvg(Figure f)
    {
        using var ms = new MemoryStream();
        f.WriteSvg(ms);
        ms.Position = 0;
        return XDocument.Load(ms);
    }

    private static Histogram RandomHistogram(int bins = 50)
    {
        using var m = ModelFile.Open(TestPaths.Fixture("numpy", "random_64x64.npy"));
        return Histogram.Compute(m.Tensors.Single(), bins);
    }

    [Fact]
    public void Histogram_svg_has_a_bar_per_non_empty_bin_title_and_axis_labels()
    {
        var h = RandomHistogram();
        var doc = ToSvg(Plot.Histogram([h]));
        Assert.Equal("random_64x64 distribution", doc.Root!.Element(Svg + "title")!.Value);
        var bars = doc.Descendants(Svg + "rect").Where(r => (string?)r.Attribute("fill") == ColorMaps.Series(0).Hex).ToList();
        Assert.Equal(h.Counts.Count(c => c > 0), bars.Count);
        var texts = doc.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("random_64x64 distribution", texts);
        Assert.Contains("Weight Value", texts);
        Assert.Contains("Frequency", texts);
        // Bar heights are proportional to the counts: the tallest bar is the largest count.
        var tallest = bars.MaxBy(b => double.Parse((string)b.Attribute("height")!, System.Globalization.CultureInfo.InvariantCulture))!;
        int tallestIndex = bars.IndexOf(tallest);
        var nonEmpty = h.Counts.Where(c => c > 0).ToList();
        Assert.Equal(nonEmpty.Max(), nonEmpty[tallestIndex]);
    }

    [Fact]
    public void Overlaid_histograms_get_their_own_colours_and_a_legend()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth"));
        var hs = new[] { "fc1.weight", "fc2.weight" }.Select(n => Histogram.Compute(m.Tensors[n], 10)).ToList();
        var doc = ToSvg(Plot.Histogram(hs, new HistogramPlotOptions { LogScale = true }));
        var texts = doc.Descendants(Svg + "text").Select(t => t.Value).ToList();
        Assert.Contains("fc1.weight", texts);
        Assert.Contains("fc2.weight", texts);
        Assert.Contains("Frequency (log scale)", texts);
        for (int s = 0; s < 2; s++)
        {
            var rects = doc.Descendants(Svg + "rect").Where(r => (string?)r.Attribute("fill") == ColorMaps.Series(s).Hex).ToList();
            Assert.Equal(hs[s].Counts.Count(c => c > 0) + 1, rects.Count); // bars + legend swatch
            Assert.All(rects, r => Assert.Equal("0.5", (string?)r.Attribute("fill-opacity")));
        }
    }

    [Fact]
    public void Non_finite_values_are_noted_under_the_title()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("analysis", "histogram_edges.npy"));
        var doc = ToSvg(Plot.Histogram([Histogram.Compute(m.Tensors.Single(), 10)]));
        Assert.Contains(doc.Descendants(Svg + "text"), t => t.Value.Contains("2 NaN, 1 +Inf, 1 -Inf not shown"));
    }

    [Fact]
    public void Heatmap_svg_and_raster_use_symmetric_blue_white_red()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("numpy", "random_64x64.npy"));
        var t = m.Tensors.Single();
        var fig = Plot.Heatmap(t);
        var doc = ToSvg(fig);
        Assert.Equal("random_64x64", doc.Root!.Element(Svg + "title")!.Value);
        Assert.Equal(2, doc.Descendants(Svg + "image").Count()); // the matrix and the colour bar
        var values = t.ToFloat32();
        float limit = values.Max(Math.Abs);
        // 64 cells at 7 px each (480 / 64), image left edge at x=imageX: find the largest |value| cell and check its colour.
        var raster = fig.ToRaster();
        int k = Array.FindIndex(values, v => Math.Abs(v) == limit);
        var expected = values[k] > 0 ? new Rgb(103, 0, 31) : new Rgb(5, 48, 97);
        Assert.Contains(expected, Enumerable.Range(0, raster.Width).SelectMany(x => Enumerable.Range(0, raster.Height).Select(y => raster[x, y])));
    }

    [Fact]
    public void Heatmap_of_conv_weights_is_a_grid_of_kernels_and_1d_is_one_row()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth"));
        var bias = Plot.Heatmap(m.Tensors["fc1.bias"]);
        Assert.Contains("index", ToSvg(bias).Descendants(Svg + "text").Select(t => t.Value).First(v => v.StartsWith("index")));
        var conv = m.Tensors["fc1.weight"].Reshape(5, 5, 2, 1);
        var doc = ToSvg(Plot.Heatmap(conv));
        Assert.Contains("output channel (dim 0)", doc.Descendants(Svg + "text").Select(t => t.Value));
    }

    [Theory]
    [InlineData(0.0, 1.0, new[] { 0.0, 0.2, 0.4, 0.6, 0.8, 1.0 })]
    [InlineData(0.0, 252.0, new[] { 0.0, 50, 100, 150, 200, 250 })]
    [InlineData(-0.37, 0.37, new[] { -0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3 })]
    public void Ticks_are_round_numbers(double min, double max, double[] expected)
    {
        var ticks = Ticks.Nice(min, max, 6);
        Assert.Equal(expected.Length, ticks.Length);
        for (int i = 0; i < ticks.Length; i++) Assert.Equal(expected[i], ticks[i], 9);
    }

    [Fact]
    public void Tick_labels_have_just_enough_decimals()
    {
        Assert.Equal(["-0.2", "0.0", "0.2"], Ticks.Labels([-0.2, 0, 0.2]));
        Assert.Equal(["0", "50", "100"], Ticks.Labels([0, 50, 100]));
        Assert.Equal(["0.00", "0.25", "0.50"], Ticks.Labels([0, 0.25, 0.5]));
    }

    [Fact]
    public void Diverging_map_is_white_at_zero_and_saturated_at_the_limits()
    {
        Assert.Equal(new Rgb(247, 247, 247), ColorMaps.BlueWhiteRed(0, 2));
        Assert.Equal(new Rgb(103, 0, 31), ColorMaps.BlueWhiteRed(2, 2));
        Assert.Equal(new Rgb(5, 48, 97), ColorMaps.BlueWhiteRed(-5, 2));
        Assert.Equal(ColorMaps.Missing, ColorMaps.BlueWhiteRed(double.NaN, 2));
    }

    [Fact]
    public void Save_picks_the_format_from_the_extension()
    {
        var fig = Plot.Histogram([RandomHistogram(5)]);
        var dir = Directory.CreateTempSubdirectory("ws-fig-").FullName;
        try
        {
            fig.Save(Path.Combine(dir, "a.svg"));
            fig.Save(Path.Combine(dir, "a.PNG"));
            Assert.StartsWith("<?xml", File.ReadAllText(Path.Combine(dir, "a.svg")));
            Assert.Equal(0x89, File.ReadAllBytes(Path.Combine(dir, "a.PNG"))[0]);
            Assert.Throws<ArgumentException>(() => fig.Save(Path.Combine(dir, "a.jpg")));
            Assert.Equal(2, Directory.GetFiles(dir).Length); // no temporary files left behind
        }
        finally { Directory.Delete(dir, true); }
    }
}
