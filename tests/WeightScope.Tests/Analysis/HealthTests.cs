using System.Text.Json;
using WeightScope.Analysis;
using Xunit;

namespace WeightScope.Tests.Analysis;

/// <summary>
/// <see cref="Health"/> on a torch-written model with one planted problem of each kind (health_fixtures.py: which
/// units, channels and tensors, and torch's stds), and on the same architecture without problems.
/// </summary>
public sealed class HealthTests
{
    private static readonly JsonElement Expected = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("analysis", "health_expected.json"))).RootElement;

    private static IReadOnlyList<HealthFinding> Check(string file)
    {
        using var m = ModelFile.Open(TestPaths.Fixture("analysis", file));
        return Health.Check(m);
    }

    private static List<int> Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToList();

    [Fact]
    public void Every_planted_problem_is_found_with_its_numbers()
    {
        var findings = Check("health_model.pt");
        HealthFinding One(string code, string tensor) => Assert.Single(findings, f => f.Code == code && f.Tensor == tensor);

        var nonfinite = One("nonfinite", "fc2.weight");
        Assert.Equal(HealthSeverity.Error, nonfinite.Severity);
        Assert.Equal(Expected.GetProperty("nonfinite").GetProperty("fc2.weight").GetProperty("nan").GetInt64(), nonfinite.Values["nan"]);
        Assert.Equal(Expected.GetProperty("nonfinite").GetProperty("fc2.weight").GetProperty("inf").GetInt64(), (long)nonfinite.Values["pos_inf"]! + (long)nonfinite.Values["neg_inf"]!);

        foreach (var dead in Expected.GetProperty("dead_units").EnumerateObject())
        {
            var f = One("dead_units", dead.Name);
            Assert.Equal(HealthSeverity.Warning, f.Severity);
            Assert.Equal(Ints(dead.Value), ((List<object?>)f.Values["dead"]!).Cast<int>());
        }

        var variance = One("running_var_not_positive", "bn.running_var");
        Assert.Equal(HealthSeverity.Error, variance.Severity);
        Assert.Equal(Ints(Expected.GetProperty("negative_running_var").GetProperty("bn.running_var")), ((List<object?>)variance.Values["channels"]!).Cast<int>());

        var scaled = Expected.GetProperty("scaled").GetProperty("fc3.weight");
        var fanIn = One("scale_vs_fan_in", "fc3.weight");
        Assert.Equal(scaled.GetProperty("std").GetDouble(), (double)fanIn.Values["std"]!, 1e-5);
        Assert.True((double)fanIn.Values["ratio"]! > Health.ScaleFactor);
        One("scale_jump", "fc3.weight");

        var tied = One("tied", "embed.weight");
        Assert.Equal(HealthSeverity.Info, tied.Severity);
        foreach (var pair in Expected.GetProperty("identical").EnumerateArray())
        {
            var names = pair.EnumerateArray().Select(x => x.GetString()).ToList();
            Assert.Equal(names, ((List<object?>)One("identical", names[0]!).Values["tensors"]!).Cast<string>());
        }
        // nothing else is a warning or an error
        Assert.Equal(6, findings.Count(f => f.Severity != HealthSeverity.Info));
    }

    [Fact]
    public void A_freshly_initialised_model_has_no_warnings_or_errors()
    {
        var findings = Check("health_clean.pt");
        Assert.DoesNotContain(findings, f => f.Severity != HealthSeverity.Info);
        Assert.Contains(findings, f => f.Code == "tied");
    }

    [Fact]
    public void Stds_behind_the_scale_checks_are_torchs()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("analysis", "health_model.pt"));
        var report = Stats.Compute(m.Tensors);
        foreach (var e in Expected.GetProperty("stds").EnumerateObject())
            Assert.Equal(e.Value.GetDouble(), report.Tensors.Single(t => t.Name == e.Name).Std!.Value, 1e-6);
    }

    [CorpusFact]
    public void Keras_layouts_put_the_output_axis_last()
    {
        // a Keras Dense kernel is (in, out): a dead unit is an all-zero column. The corpus's hls4ml model has none.
        using var m = ModelFile.Open(TestPaths.CorpusFile("keras-h5/hls4ml/keras_3layer_batch_norm.h5"));
        Assert.DoesNotContain(Health.Check(m), f => f.Severity != HealthSeverity.Info);
    }
}
