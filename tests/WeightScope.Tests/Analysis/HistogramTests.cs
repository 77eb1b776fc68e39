using System.Text.Json;
using WeightScope.Analysis;
using Xunit;

namespace WeightScope.Tests.Analysis;

/// <summary>Histogram counts and edges equal numpy.histogram's (tests/fixtures/generate/histogram_answers.py).</summary>
public sealed class HistogramTests
{
    private static readonly JsonElement[] Cases = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("analysis", "histogram_expected.json")))
        .RootElement.GetProperty("cases").EnumerateArray().ToArray();

    public static TheoryData<int> CaseIndices() => new(Enumerable.Range(0, Cases.Length));

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void Counts_and_edges_equal_numpy_histogram(int index)
    {
        var c = Cases[index];
        using var m = ModelFile.Open(TestPaths.Fixture(c.GetProperty("file").GetString()!.Split('/')));
        var t = m.Tensors.Single();
        double? lo = null, hi = null;
        if (c.GetProperty("range").ValueKind == JsonValueKind.Array)
        {
            lo = c.GetProperty("range")[0].GetDouble();
            hi = c.GetProperty("range")[1].GetDouble();
        }
        var h = Histogram.Compute(t, c.GetProperty("bins").GetInt32(), lo, hi);
        Assert.Equal(c.GetProperty("edges").EnumerateArray().Select(e => e.GetDouble()), h.Edges);
        Assert.Equal(c.GetProperty("counts").EnumerateArray().Select(e => e.GetInt64()), h.Counts);
        Assert.Equal(c.GetProperty("nan").GetInt64(), h.NaN);
        Assert.Equal(c.GetProperty("pos_inf").GetInt64(), h.PositiveInfinity);
        Assert.Equal(c.GetProperty("neg_inf").GetInt64(), h.NegativeInfinity);
    }

    [Fact]
    public void The_crafted_edge_file_really_has_values_on_edges_and_non_finite_values()
    {
        // Guards the fixture: if the generator stopped writing edge values, the numpy comparison would prove less.
        using var m = ModelFile.Open(TestPaths.Fixture("analysis", "histogram_edges.npy"));
        var h = Histogram.Compute(m.Tensors.Single(), 10);
        var values = m.Tensors.Single().ToFloat32();
        Assert.True(h.Edges.Count(e => values.Contains((float)e)) >= 10);
        Assert.Equal(2, h.NaN);
        Assert.Equal(values.Length - 4, h.Total);
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("numpy", "random_64x64.npy"));
        var t = m.Tensors.Single();
        Assert.Throws<ArgumentOutOfRangeException>(() => Histogram.Compute(t, 0));
        Assert.Throws<ArgumentException>(() => Histogram.Compute(t, 5, 1, 0));
        Assert.Throws<ArgumentException>(() => Histogram.Compute(t, 5, double.NegativeInfinity, 0));
    }
}
