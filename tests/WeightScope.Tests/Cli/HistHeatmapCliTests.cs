using System.Text.Json;
using System.Xml.Linq;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary><c>weightscope hist</c> and <c>heatmap</c>: exit codes, terminal bars, the --json schema against numpy's answers, figure files.</summary>
public sealed class HistHeatmapCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-hist-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void Json_has_the_documented_schema_and_numpys_counts()
    {
        var r = CliRunner.Run("hist", TestPaths.Fixture("numpy", "random_64x64.npy"), "random_64x64", "--bins", "50", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var t = doc.RootElement.GetProperty("tensors")[0];
        Assert.Equal(["name", "bins", "counts", "nan", "pos_inf", "neg_inf"], t.EnumerateObject().Select(p => p.Name));
        Assert.Equal(51, t.GetProperty("bins").GetArrayLength());
        using var answers = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("analysis", "histogram_expected.json")));
        var expected = answers.RootElement.GetProperty("cases").EnumerateArray().First(e => e.GetProperty("file").GetString() == "numpy/random_64x64.npy"
            && e.GetProperty("bins").GetInt32() == 50 && e.GetProperty("range").ValueKind == JsonValueKind.Null);
        Assert.Equal(expected.GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()), t.GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()));
        Assert.Equal(expected.GetProperty("edges").EnumerateArray().Select(c => c.GetDouble()), t.GetProperty("bins").EnumerateArray().Select(c => c.GetDouble()));
    }

    [Fact]
    public void Terminal_bars_list_each_bin_with_its_count()
    {
        var r = CliRunner.Run("hist", Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth"), "fc1.weight", "--bins", "5");
        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("fc1.weight", lines[0]);
        Assert.Equal(5, lines.Count(l => l.StartsWith('[')));
        // "[-0.3040, -0.2920) 4 ████": the count follows the bin's closing bracket
        Assert.Equal(50, lines.Where(l => l.StartsWith('[')).Sum(l => long.Parse(l[(l.IndexOfAny([')', ']']) + 1)..].Trim().Split(' ')[0])));
    }

    [Fact]
    public void Figures_are_written_as_svg_and_png()
    {
        var svg = Path.Combine(_dir, "h.svg");
        Assert.Equal(0, CliRunner.Run("hist", TestPaths.Fixture("numpy", "random_64x64.npy"), "random_64x64", "--out", svg).ExitCode);
        var doc = XDocument.Load(svg);
        Assert.Contains(doc.Descendants(), e => e.Value.Contains("Weight Value", StringComparison.Ordinal));
        var png = Path.Combine(_dir, "w.png");
        Assert.Equal(0, CliRunner.Run("heatmap", TestPaths.Fixture("analysis", "health_model.pt"), "conv.weight", "--out", png).ExitCode);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);
    }

    [Fact]
    public void Unknown_tensors_and_missing_out_are_usage_errors_and_bad_files_exit_3()
    {
        var sample = Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth");
        Assert.Equal(2, CliRunner.Run("hist", sample, "nope").ExitCode);
        Assert.Equal(2, CliRunner.Run("heatmap", sample, "fc1.weight").ExitCode);
        var bad = Path.Combine(_dir, "bad.pth");
        File.WriteAllBytes(bad, File.ReadAllBytes(sample)[..100]);
        Assert.Equal(3, CliRunner.Run("hist", bad, "fc1.weight").ExitCode);
    }
}
