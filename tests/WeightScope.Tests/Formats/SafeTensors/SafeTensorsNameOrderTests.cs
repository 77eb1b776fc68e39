using System.Text;
using WeightScope.Formats.SafeTensors;
using WeightScope.Tests.Limits;
using Xunit;

namespace WeightScope.Tests.Formats.SafeTensors;

/// <summary>
/// Issue 17 §4, a 60 MB safetensors header (list took 17-35 s): names are ordered as safe_open's keys() orders them (by
/// UTF-8 bytes) without encoding each name at every comparison.
/// </summary>
public sealed class SafeTensorsNameOrderTests
{
    [Fact]
    public void Names_order_by_utf8_bytes_across_the_surrogate_range()
    {
        // U+FFFD and U+E000 (3 UTF-8 bytes) sort before U+1F600 (4 bytes; a surrogate pair in UTF-16, whose code units
        // D83D DE00 are smaller than E000): ordinal UTF-16 order would put the emoji first.
        string[] names = ["a", "ab", "b", "é", "\uE000", "\uFFFD", "\U0001F600", "\U0001F600x", "z\U00010000", "z\uFFFF", ""];
        int Utf8(string x, string y) => Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y));
        foreach (var x in names)
            foreach (var y in names)
                Assert.Equal(Math.Sign(Utf8(x, y)), Math.Sign(SafeTensorsHeader.CompareNames(x, y)));
    }

    [Fact]
    public void A_header_of_200000_tensors_lists_within_the_budget()
    {
        const int count = 200_000; // a 17 MB header
        var json = new StringBuilder("{");
        for (int i = 0; i < count; i++)
            json.Append(i == 0 ? "" : ",").Append($"\"model.layers.{i}.weight\":{{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[{4 * i},{4 * i + 4}]}}");
        var header = Encoding.UTF8.GetBytes(json.Append('}').ToString());
        var path = Path.Combine(Path.GetTempPath(), "ws-bigheader-" + Guid.NewGuid().ToString("N") + ".safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. new byte[4 * count]]);
        try
        {
            Bounded.Succeeds(() =>
            {
                using var m = ModelFile.Open(path);
                Assert.Equal(count, m.Tensors.Count);
                Assert.Equal("model.layers.0.weight", m.Tensors[0].Name);
                Assert.Equal("model.layers.1.weight", m.Tensors[1].Name);
                Assert.Equal("model.layers.10.weight", m.Tensors[2].Name); // byte order, as safe_open's keys()
            }, bytes: 1L << 30);
        }
        finally { File.Delete(path); }
    }
}
