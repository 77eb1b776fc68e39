using System.Globalization;
using System.Text.Json;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary>
/// <c>export --to txt|csv</c> writes floats so that they read back exactly: each element as Python (float64) and numpy
/// (float32, float16) write it, from tests/fixtures/export-text (generate/export_text_answers.py); then every text is
/// parsed back and its bits compared.
/// </summary>
public sealed class ExportRoundTripCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ws-rt-" + Guid.NewGuid().ToString("N"));
    private static string Model => TestPaths.Fixture("export-text", "roundtrip.pt");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static JsonElement Expected(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("export-text", "roundtrip_expected.json")));
        return doc.RootElement.GetProperty("tensors").GetProperty(name).Clone();
    }

    // The bits a text reads back to, as the dtype's own parser (np.float32(s), float(s)…) makes them.
    private static string Bits(string dtype, string python)
    {
        // Python and numpy read 'inf' and '-inf'; .NET spells them Infinity
        string text = python.Replace("inf", "Infinity", StringComparison.Ordinal);
        double d = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return dtype switch
        {
            "float64" => BitConverter.DoubleToUInt64Bits(d).ToString("x16"),
            "float32" => BitConverter.SingleToUInt32Bits(float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)).ToString("x8"),
            "float16" => BitConverter.HalfToUInt16Bits(Half.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)).ToString("x4"),
            _ => BFloat16Bits(float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)).ToString("x4"),
        };
    }

    // float32 -> bfloat16, round to nearest even (NaN kept a NaN)
    private static ushort BFloat16Bits(float f)
    {
        uint b = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f)) return (ushort)((b >> 16) | 0x40);
        return (ushort)((b + 0x7FFF + ((b >> 16) & 1)) >> 16);
    }

    private static bool IsNaNBits(string dtype, string bits) => dtype switch
    {
        "float64" => double.IsNaN(BitConverter.UInt64BitsToDouble(Convert.ToUInt64(bits, 16))),
        "float32" => float.IsNaN(BitConverter.UInt32BitsToSingle(Convert.ToUInt32(bits, 16))),
        "float16" => Half.IsNaN(BitConverter.UInt16BitsToHalf(Convert.ToUInt16(bits, 16))),
        _ => float.IsNaN(BitConverter.UInt32BitsToSingle((uint)Convert.ToUInt16(bits, 16) << 16)),
    };

    [Theory]
    [InlineData("f64")]
    [InlineData("f32")]
    [InlineData("f16")]
    [InlineData("bf16")]
    public void Txt_is_the_shortest_text_and_reads_back_to_the_same_bits(string name)
    {
        var e = Expected(name);
        var r = CliRunner.Run("export", Model, name, "--to", "txt", "--out", _dir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = File.ReadAllText(Path.Combine(_dir, name + ".txt")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var texts = e.GetProperty("texts").EnumerateArray().Select(x => x.GetString()!).ToList();
        var bits = e.GetProperty("bits").EnumerateArray().Select(x => x.GetString()!).ToList();
        Assert.Equal(texts, lines);
        string dtype = e.GetProperty("dtype").GetString()!;
        foreach (var (text, want) in lines.Zip(bits))
        {
            if (IsNaNBits(dtype, want)) Assert.Equal("nan", text);
            else Assert.True(Bits(dtype, text) == want, $"{text} reads back as {Bits(dtype, text)}, not {want}");
        }
    }

    [Fact]
    public void Csv_rows_read_back_exactly_and_precision_still_rounds()
    {
        var e = Expected("f32");
        var r = CliRunner.Run("export", Model, "f32", "--to", "csv", "--per-line", "row", "--out", _dir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = File.ReadAllText(Path.Combine(_dir, "f32.csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(e.GetProperty("shape")[0].GetInt32(), rows.Length);
        Assert.Equal(e.GetProperty("texts").EnumerateArray().Select(x => x.GetString()), rows.SelectMany(row => row.Split(',')));

        r = CliRunner.Run("export", Model, "f32", "--to", "csv", "--precision", "2", "--out", Path.Combine(_dir, "p"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.DoesNotContain("0.33333334", File.ReadAllText(Path.Combine(_dir, "p", "f32.csv")));
    }

    [Fact]
    public void Fixed_accepts_TI_Q15_as_Q0_15()
    {
        string sample = Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth");
        var a = CliRunner.Run("export", sample, "fc1.weight", "--to", "mem", "--fixed", "Q15", "--out", Path.Combine(_dir, "a"));
        var b = CliRunner.Run("export", sample, "fc1.weight", "--to", "mem", "--fixed", "Q0.15", "--out", Path.Combine(_dir, "b"));
        Assert.True(a.ExitCode == 0, a.Stderr);
        Assert.Equal(b.Stdout.Replace(Path.Combine(_dir, "b"), ""), a.Stdout.Replace(Path.Combine(_dir, "a"), ""));
        Assert.Equal(File.ReadAllText(Path.Combine(_dir, "b", "fc1_weight.mem")), File.ReadAllText(Path.Combine(_dir, "a", "fc1_weight.mem")));
        Assert.Equal(WeightScope.Export.QFormat.Parse("Q0.15"), WeightScope.Export.QFormat.Parse("q15"));
        Assert.Equal(16, WeightScope.Export.QFormat.Parse("Q15").TotalBits);
    }
}
