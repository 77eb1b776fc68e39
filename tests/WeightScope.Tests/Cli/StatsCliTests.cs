using System.Text.Json;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary><c>weightscope stats</c>: the documented JSON schema with numpy's figures, the text table, name selection and errors.</summary>
public sealed class StatsCliTests
{
    private static readonly string[] Keys = ["name", "dtype", "count", "min", "max", "mean", "std", "l1", "l2", "mean_abs", "zeros", "near_zero", "nan", "pos_inf", "neg_inf"];

    [Fact]
    public void Json_has_the_documented_schema_and_numpys_figures()
    {
        var r = CliRunner.Run("stats", TestPaths.Fixture("analysis", "stats_mixed.pt"), "special", "float*", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var tensors = doc.RootElement.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(["float32", "float16", "float64", "special"], tensors.Select(t => t.GetProperty("name").GetString()));
        foreach (var t in tensors.Append(doc.RootElement.GetProperty("overall")))
            Assert.Equal(Keys, t.EnumerateObject().Select(p => p.Name));
        using var answers = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("analysis", "stats_expected.json")));
        var special = answers.RootElement.GetProperty("files").GetProperty("analysis/stats_mixed.pt").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "special");
        var actual = tensors[3];
        foreach (var key in new[] { "count", "zeros", "near_zero", "nan", "pos_inf", "neg_inf" })
            Assert.Equal(special.GetProperty(key).GetInt64(), actual.GetProperty(key).GetInt64());
        Assert.Equal(special.GetProperty("std").GetDouble(), actual.GetProperty("std").GetDouble(), 1e-6);
        Assert.Equal(tensors.Sum(t => t.GetProperty("count").GetInt64()), doc.RootElement.GetProperty("overall").GetProperty("count").GetInt64());
    }

    [Fact]
    public void Text_lists_each_tensor_and_an_overall_line()
    {
        var r = CliRunner.Run("stats", Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth"));
        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("name", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("fc1.weight ", StringComparison.Ordinal) && l.Contains(" 50 "));
        Assert.StartsWith("overall: 4 tensors, 61 values; min ", lines[^1]);
    }

    [Fact]
    public void A_name_matching_nothing_and_a_bad_eps_are_usage_errors()
    {
        var sample = Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth");
        Assert.Equal(2, CliRunner.Run("stats", sample, "--eps", "-1").ExitCode);
        var none = CliRunner.Run("stats", sample, "nothing*", "--json");
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("no tensor matches 'nothing*'", none.Stderr);
    }
}
