using System.Text;
using System.Text.Json;
using WeightScope.Output;
using WeightScope.Printing;
using WeightScope.Tests.Formats.PyTorch;
using Xunit;

namespace WeightScope.Tests.Limits;

/// <summary>
/// Issue 17 §4: a pickle memo lets a few hundred bytes name one object from everywhere — x₂₀ = (x₁₉, x₁₉), … unfolds
/// to 2²⁰ leaves from 150 bytes of pickle. The reader shares the objects (nothing is copied); what prints them, as text or JSON,
/// stops within a bound instead of unfolding the graph.
/// </summary>
public sealed class MemoDagTests
{
    private const int Levels = 20;

    // torch.save's layout around data.pkl = {'meta': x20}: PROTO 4, EMPTY_DICT, 'meta', then NONE MEMOIZE and 20 times
    // POP, BINGET i, BINGET i, TUPLE2, MEMOIZE (x_{i+1} = (x_i, x_i), memo entry i + 1), then SETITEM, STOP.
    private static byte[] Archive()
    {
        var p = new List<byte> { 0x80, 0x04, (byte)'}', 0x8c, 4 };
        p.AddRange("meta"u8.ToArray());
        p.AddRange([(byte)'N', 0x94]);
        for (int i = 0; i < Levels; i++) p.AddRange([(byte)'0', (byte)'h', (byte)i, (byte)'h', (byte)i, 0x86, 0x94]);
        p.AddRange([(byte)'s', (byte)'.']);
        return TorchZip.Build([("archive/data.pkl", [.. p]), ("archive/version", "3\n"u8.ToArray())]);
    }

    [Fact]
    public void Json_of_the_metadata_is_cut_not_unfolded()
    {
        using var m = TorchZip.Open(Archive());
        var json = new MemoryStream();
        Bounded.Succeeds(() =>
        {
            using var w = new Utf8JsonWriter(json);
            ModelJson.Value(w, m.Metadata);
        });
        Assert.True(json.Length < 4 << 20, $"{json.Length:N0} bytes of JSON");
        var text = Encoding.UTF8.GetString(json.ToArray());
        Assert.Contains($"cut: more than {ModelJson.MaxJsonValues:N0} values", text, StringComparison.Ordinal);
        using var parsed = JsonDocument.Parse(text); // still valid JSON, every container closed
    }

    [Fact]
    public void Repr_of_the_metadata_is_cut_not_unfolded()
    {
        using var m = TorchZip.Open(Archive());
        string? repr = null;
        Bounded.Succeeds(() => repr = PythonRepr.Of(m.Metadata.Values.First(), 10_000));
        Assert.InRange(repr!.Length, 1, 10_100);
        Assert.StartsWith("((((", repr, StringComparison.Ordinal);
    }
}
