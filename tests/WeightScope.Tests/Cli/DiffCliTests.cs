using System.Text.Json;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary><c>weightscope diff</c> end to end: text, JSON schema and exit codes.</summary>
public sealed class DiffCliTests
{
    private static string F(string name) => TestPaths.Fixture("diff", name);

    [Fact]
    public void Identical_files_exit_0_with_a_summary()
    {
        var r = CliRunner.Run("diff", F("base.pt"), F("base.onnx"));
        Assert.Equal(0, r.ExitCode);
        Assert.EndsWith("4 tensors compared: 4 equal, 0 differ; 0 only in A, 0 only in B; 0 shape mismatches\n", r.Stdout);
    }

    [Fact]
    public void Differences_exit_1_and_are_listed()
    {
        var r = CliRunner.Run("diff", F("base.pt"), F("reshaped.pt"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("2.bias: shape float32[3] → float32[4]", r.Stdout);
        Assert.Contains("only in A: 0.bias", r.Stdout);
        Assert.Contains("only in B: 3.weight", r.Stdout);
        Assert.Contains("2 tensors compared: 1 equal, 1 differ; 1 only in A, 1 only in B; 1 shape mismatch", r.Stdout);
        var only = CliRunner.Run("diff", F("base.pt"), F("tuned.pt"), "--only-different");
        Assert.Equal(1, only.ExitCode);
        Assert.Contains("0.bias", only.Stdout);
        Assert.DoesNotContain("0.weight", only.Stdout);
    }

    [Fact]
    public void Prefix_detection_is_reported_and_can_be_replaced_by_map()
    {
        var r = CliRunner.Run("diff", F("dp.pt"), F("base.npz"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("prefix 'module.' stripped from A's names", r.Stdout);
        var off = CliRunner.Run("diff", F("dp.pt"), F("base.npz"), "--no-auto-map");
        Assert.Equal(1, off.ExitCode);
        Assert.Contains("0 tensors compared: 0 equal, 0 differ; 4 only in A, 4 only in B", off.Stdout);
        var mapped = CliRunner.Run("diff", F("dp.pt"), F("base.npz"), "--no-auto-map", "--map", @"s/^module\.//");
        Assert.Equal(0, mapped.ExitCode);
    }

    [Fact]
    public void Tolerances_and_equal_nan_change_the_verdict()
    {
        Assert.Equal(1, CliRunner.Run("diff", F("base.pt"), F("half.pt"), "--atol", "1e-3").ExitCode); // dtype mismatch remains
        var json = JsonDocument.Parse(CliRunner.Run("diff", F("base.pt"), F("half.pt"), "--atol", "1e-3", "--json").Stdout).RootElement;
        Assert.All(json.GetProperty("tensors").EnumerateArray(), t => Assert.True(t.GetProperty("equal").GetBoolean()));
        var nan = JsonDocument.Parse(CliRunner.Run("diff", F("nan_a.pt"), F("nan_b.pt"), "--equal-nan", "--json").Stdout).RootElement;
        Assert.Equal([true, false], nan.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("equal").GetBoolean()));
        Assert.Equal("NaN", nan.GetProperty("tensors")[0].GetProperty("max_abs_diff").GetString());
    }

    [Fact]
    public void Json_follows_the_documented_schema()
    {
        var r = CliRunner.Run("diff", F("base.pt"), F("reshaped.pt"), "--json");
        Assert.Equal(1, r.ExitCode);
        var root = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(["a", "b", "format_a", "format_b", "atol", "rtol", "identical", "stripped_prefix", "paired_sole_tensors", "tensors", "only_in_a", "only_in_b", "summary"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.False(root.GetProperty("identical").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("stripped_prefix").GetProperty("a").ValueKind);
        var tensors = root.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(["0.weight", "2.weight", "2.bias"], tensors.Select(t => t.GetProperty("name_a").GetString()));
        Assert.Equal(["name_a", "name_b", "dtype_a", "dtype_b", "shape_a", "shape_b", "compared", "elements", "bytes_only", "max_abs_diff", "mean_abs_diff",
                      "rel_l2", "cosine", "different_elements", "equal"], tensors[1].EnumerateObject().Select(p => p.Name));
        Assert.False(tensors[2].GetProperty("compared").GetBoolean());
        Assert.False(tensors[2].TryGetProperty("max_abs_diff", out _));
        Assert.Equal(2, tensors[1].GetProperty("different_elements").GetInt64());
        var expected = JsonDocument.Parse(File.ReadAllText(F("expected.json"))).RootElement.GetProperty("base.pt|reshaped.pt").GetProperty("tensors").GetProperty("2.weight");
        Assert.Equal(expected.GetProperty("max_abs").GetDouble(), tensors[1].GetProperty("max_abs_diff").GetDouble());
        Assert.Equal(["0.bias"], root.GetProperty("only_in_a").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["3.weight"], root.GetProperty("only_in_b").EnumerateArray().Select(e => e.GetString()));
        var s = root.GetProperty("summary");
        Assert.Equal((2, 1, 1, 1, 1, 1, 0), (s.GetProperty("compared").GetInt32(), s.GetProperty("equal").GetInt32(), s.GetProperty("different").GetInt32(),
            s.GetProperty("only_in_a").GetInt32(), s.GetProperty("only_in_b").GetInt32(), s.GetProperty("shape_mismatches").GetInt32(), s.GetProperty("dtype_mismatches").GetInt32()));
    }

    [Fact]
    public void Usage_errors_exit_2_and_unreadable_files_exit_3()
    {
        var bad = CliRunner.Run("diff", F("base.pt"), F("tuned.pt"), "--map", "module.");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("s/regex/replacement/", bad.Stderr);
        Assert.Equal(2, CliRunner.Run("diff", F("base.pt")).ExitCode);
        Assert.Equal(2, CliRunner.Run("diff", F("base.pt"), F("tuned.pt"), "--atol", "-1").ExitCode);
        Assert.Equal(2, CliRunner.Run("diff", F("base.pt"), F("tuned.pt"), "--map", @"s/\..*//").ExitCode);
        Assert.Equal(3, CliRunner.Run("diff", F("base.pt"), F("expected.json")).ExitCode);
        Assert.Equal(3, CliRunner.Run("diff", F("base.pt"), F("missing.pt")).ExitCode);
    }

    [Fact]
    public void Help_has_an_example()
    {
        var r = CliRunner.Run("diff", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("weightscope diff before.pt after.pt", r.Stdout);
        Assert.Contains("--map", r.Stdout);
    }
}
