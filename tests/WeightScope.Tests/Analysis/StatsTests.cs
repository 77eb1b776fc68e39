using System.Text.Json;
using WeightScope.Analysis;
using Xunit;

namespace WeightScope.Tests.Analysis;

/// <summary>
/// <see cref="Stats"/> against numpy's figures (tests/fixtures/generate/stats_answers.py, float64 over the finite
/// values): every dtype, NaN/±Inf/±0, a strided view, an empty tensor, and a BatchNorm-like tensor (mean 1, std 1e-3)
/// where a naive Σx² variance would fail. Chunk sizes from 1 element up, on one and on several threads.
/// </summary>
public sealed class StatsTests
{
    private static readonly JsonElement Answers = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("analysis", "stats_expected.json"))).RootElement;

    public static TheoryData<string, int, int> Cases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var f in Answers.GetProperty("files").EnumerateObject())
            foreach (var (chunk, threads) in new[] { (1 << 20, 1), (1000, 4), (7, 2) })
                data.Add(f.Name, chunk, threads);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Figures_equal_numpys(string file, int chunk, int threads)
    {
        using var m = ModelFile.Open(TestPaths.Fixture(file.Split('/')));
        float eps = (float)Answers.GetProperty("eps").GetDouble();
        var report = Stats.Compute(m.Tensors, eps, null, threads, chunk);
        var expected = Answers.GetProperty("files").GetProperty(file).EnumerateArray().ToList();
        Assert.Equal(expected.Count, report.Tensors.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            var e = expected[i];
            var s = report.Tensors[i];
            string what = $"{file}: {s.Name}";
            Assert.Equal(e.GetProperty("count").GetInt64(), s.Count);
            // the values' scale: a mean near zero is judged against the spread, not against itself
            double scale = e.GetProperty("mean_abs").ValueKind == JsonValueKind.Null ? 0 : e.GetProperty("mean_abs").GetDouble();
            foreach (var (key, value) in new (string, double?)[] { ("min", s.Min), ("max", s.Max), ("mean", s.Mean), ("std", s.Std), ("l1", s.L1), ("l2", s.L2), ("mean_abs", s.MeanAbs) })
                Close(e.GetProperty(key), value, key is "mean" or "std" ? scale : 0, $"{what} {key}");
            Assert.True(e.GetProperty("zeros").GetInt64() == s.Zeros, $"{what} zeros {s.Zeros}");
            Assert.True(e.GetProperty("near_zero").GetInt64() == s.NearZero, $"{what} near_zero {s.NearZero}");
            Assert.Equal(e.GetProperty("nan").GetInt64(), s.NaN);
            Assert.Equal(e.GetProperty("pos_inf").GetInt64(), s.PosInf);
            Assert.Equal(e.GetProperty("neg_inf").GetInt64(), s.NegInf);
        }
    }

    // Min and max are exact; sums are float32 lanes merged in float64, so they agree with numpy's float64 to 1e-6 of the
    // magnitude involved: the figure itself, or for mean and std the values' mean |w| (the BN-like tensor's std of 1e-3
    // around 1 included: deviations, not raw squares, are summed).
    private static void Close(JsonElement expected, double? actual, double scale, string what)
    {
        if (expected.ValueKind == JsonValueKind.Null)
        {
            Assert.True(actual is null, $"{what}: expected null, got {actual}");
            return;
        }
        double e = expected.GetDouble();
        Assert.True(actual is not null, $"{what}: expected {e}, got null");
        double tolerance = 1e-6 * Math.Max(Math.Abs(e), scale) + 1e-12;
        Assert.True(Math.Abs(actual!.Value - e) <= tolerance, $"{what}: expected {e:R}, got {actual:R}");
    }

    [Fact]
    public void Overall_combines_every_value_of_the_tensors()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("analysis", "stats_mixed.pt"));
        var numeric = m.Tensors.Where(t => t.Name is "float32" or "float16" or "big").ToList();
        var report = Stats.Compute(numeric);
        var all = numeric.SelectMany(t => t.ToFloat32()).Select(x => (double)x).ToArray();
        double mean = all.Average();
        Assert.Equal(all.Length, report.Overall.Count);
        Assert.Equal(all.Min(), report.Overall.Min);
        double std = Math.Sqrt(all.Select(x => (x - mean) * (x - mean)).Average());
        Assert.Equal(mean, report.Overall.Mean!.Value, 1e-6 * std);
        Assert.Equal(std, report.Overall.Std!.Value, 1e-6 * std);
    }

    [Fact]
    public void Complex_tensors_are_skipped_with_a_reason()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("numpy", "complex64.npy"));
        var report = Stats.Compute(m.Tensors);
        Assert.Empty(report.Tensors);
        Assert.Contains("complex64", Assert.Single(report.Skipped).Reason);
    }
}
