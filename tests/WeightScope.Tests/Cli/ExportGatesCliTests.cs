using System.Globalization;
using System.Text.Json;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary>
/// <c>export --split-gates</c> end to end. The expected gate values come from PyTorch's own definition of the layout
/// (<c>weight_ih_l0</c> is W_ir | W_iz | W_in stacked along dim 0), read with the library's slicing, not with GateSplit.
/// </summary>
public sealed class ExportGatesCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-export-gates-").FullName;
    private static string Gru => TestPaths.Fixture("pytorch", "gru_lstm_state_dict.pt");

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void Gates_are_written_in_the_requested_order_with_the_source_values()
    {
        var r = CliRunner.Run("export", Gru, "gru.weight_ih_l0", "--split-gates", "--gate-order", "z,r,n", "--to", "txt",
            "--precision", "8", "--sci-mode", "true", "--out", _dir, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var split = Assert.Single(doc.RootElement.GetProperty("split_gates").EnumerateArray());
        Assert.Equal("gru.weight_ih_l0", split.GetProperty("source").GetString());
        Assert.Equal("zrn", split.GetProperty("gates").GetString());
        Assert.Equal(["gru.weight_iz_l0", "gru.weight_ir_l0", "gru.weight_in_l0"], split.GetProperty("outputs").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["gru.weight_iz_l0", "gru.weight_ir_l0", "gru.weight_in_l0"],
            doc.RootElement.GetProperty("tensors").EnumerateArray().Select(e => e.GetProperty("name").GetString()));

        using var m = ModelFile.Open(Gru);
        var w = m.Tensors["gru.weight_ih_l0"];
        long h = w.Shape[0] / 3;
        foreach (var (gate, chunk) in new[] { ("ir", 0L), ("iz", 1L), ("in", 2L) })
        {
            var expected = w.Slice($"[{chunk * h}:{(chunk + 1) * h}]").ToFloat32();
            var written = File.ReadAllLines(Path.Combine(_dir, $"gru_weight_{gate}_l0.txt"))
                .Select(l => float.Parse(l, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(expected.Length, written.Length);
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], written[i], Math.Abs(expected[i]) * 1e-7f + 1e-12f);
        }
    }

    [Fact]
    public void Text_report_lists_each_split_and_views_apply_to_each_gate()
    {
        var r = CliRunner.Run("export", Gru, "gru.bias_hh_l0", "--split-gates", "--index", "[0]", "--to", "csv", "--out", _dir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("split gru.bias_hh_l0 (pytorch GRU, gates r,z,n) -> gru.bias_hr_l0, gru.bias_hz_l0, gru.bias_hn_l0", r.Stdout);
        using var m = ModelFile.Open(Gru);
        var b = m.Tensors["gru.bias_hh_l0"].ToFloat32();
        long h = b.Length / 3;
        var hn = float.Parse(File.ReadAllText(Path.Combine(_dir, "gru_bias_hn_l0_0.csv")).Trim(), CultureInfo.InvariantCulture);
        Assert.Equal(b[2 * h], hn, 1e-4f);
    }

    [Fact]
    public void Misuse_is_a_usage_error_that_writes_nothing()
    {
        var none = CliRunner.Run("export", TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth"), "--split-gates", "--to", "txt", "--out", _dir);
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("no GRU or LSTM weights among the selected tensors", none.Stderr);
        var order = CliRunner.Run("export", Gru, "--split-gates", "--gate-order", "a,b,c", "--to", "txt", "--out", _dir);
        Assert.Equal(2, order.ExitCode);
        Assert.Contains("--split-gates:", order.Stderr);
        var alone = CliRunner.Run("export", Gru, "--gate-order", "z,r,n", "--to", "txt", "--out", _dir);
        Assert.Equal(2, alone.ExitCode);
        Assert.Contains("apply to --split-gates", alone.Stderr);
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
