using System.Xml.Linq;
using WeightScope.Analysis;
using WeightScope.Plotting;
using Xunit;

namespace WeightScope.Tests.Plotting;

/// <summary>The figures as SVG documents (parsed back with XDocument) and as rasters.</summary>
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

    [Fact]
    public void Heatmap_of_a_matrix_renders()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("numpy", "random_64x64.npy"));
        var fig = Plot.Heatmap(m.Tensors.Single());
        var r = fig.ToRaster();
        Assert.Equal(fig.Width, r.Width);
    }
}
