using System.Globalization;
using System.Text.Json;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Tensors;

/// <summary>Every dtype's raw bytes converted to float32, against torch's own <c>.to(torch.float32)</c>.</summary>
public class ElementConverterTests
{
    public static TheoryData<string> DTypes()
    {
        var d = new TheoryData<string>();
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("core", "dtype_conversions.json")));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray()) d.Add(c.GetProperty("dtype").GetString()!);
        return d;
    }

    [Theory]
    [MemberData(nameof(DTypes))]
    public void ToFloat32_matches_torch(string dtype)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("core", "dtype_conversions.json")));
        var c = doc.RootElement.GetProperty("cases").EnumerateArray().First(x => x.GetProperty("dtype").GetString() == dtype);
        Assert.True(WeightScope.Tensors.DTypes.TryParse(dtype, out var t));
        var bytes = Convert.FromHexString(c.GetProperty("hex").GetString()!);
        var expected = c.GetProperty("float32").EnumerateArray().Select(v => ParsePython(v.GetString()!)).ToArray();
        var entry = new TensorEntry("x", t, new Shape(expected.Length), new ArrayStorage(bytes, "x"));
        var actual = entry.ToFloat32();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]) || (float.IsNaN(expected[i]) && float.IsNaN(actual[i])),
                $"{dtype}[{i}]: torch {expected[i]:R}, ours {actual[i]:R}");
    }

    private static float ParsePython(string s) => s switch
    {
        "inf" => float.PositiveInfinity,
        "-inf" => float.NegativeInfinity,
        "nan" => float.NaN,
        _ => float.Parse(s, CultureInfo.InvariantCulture),
    };

    // torch 1.13 has no float8; these are the OCP 8-bit floating point specification's own table values.
    [Theory]
    [InlineData(0x7E, 448f)]           // E4M3FN max normal: S.1111.110
    [InlineData(0x08, 0.015625f)]      // min normal 2^-6
    [InlineData(0x01, 0.001953125f)]   // min subnormal 2^-9
    [InlineData(0xB8, -1f)]            // S=1, E=0111 (bias 7), M=000
    [InlineData(0x00, 0f)]
    public void Float8_e4m3fn_values(byte bits, float value) => Assert.Equal(value, ElementConverter.Float8E4M3FNToSingle(bits));

    [Fact]
    public void Float8_e4m3fn_nan_is_only_all_ones() =>
        Assert.Equal([0x7F, 0xFF], Enumerable.Range(0, 256).Where(b => float.IsNaN(ElementConverter.Float8E4M3FNToSingle((byte)b))).ToArray());

    [Theory]
    [InlineData(0x7B, 57344f)]         // E5M2 max normal
    [InlineData(0x7C, float.PositiveInfinity)]
    [InlineData(0x01, 1.52587890625e-05f)] // min subnormal 2^-16
    [InlineData(0xC0, -2f)]
    public void Float8_e5m2_values(byte bits, float value) => Assert.Equal(value, ElementConverter.Float8E5M2ToSingle(bits));

    [Fact]
    public void Big_endian_elements_are_swapped_per_component()
    {
        // complex64 1+2j stored big-endian: each float32 component reversed, components in order.
        byte[] be = [0x3F, 0x80, 0, 0, 0x40, 0, 0, 0];
        var t = new TensorEntry("c", DType.Complex64, new Shape(1), new ArrayStorage(be, "c"), bigEndian: true);
        var raw = t.ReadBytes();
        Assert.Equal(1f, BitConverter.ToSingle(raw, 0));
        Assert.Equal(2f, BitConverter.ToSingle(raw, 4));
    }

    [Fact]
    public void Wrong_element_type_is_refused_with_a_hint()
    {
        var t = new TensorEntry("w", DType.Float32, new Shape(2), new ArrayStorage(new byte[8], "w"));
        var e = Assert.Throws<InvalidOperationException>(() => t.ToArray<double>());
        Assert.Contains("ToFloat32", e.Message);
        Assert.Throws<InvalidOperationException>(() => t.ToArray<uint>()); // no silent IEEE bit patterns
        var bf = new TensorEntry("b", DType.BFloat16, new Shape(4), new ArrayStorage(new byte[8], "b"));
        Assert.Equal(4, bf.ToArray<ushort>().Length); // raw bits where .NET has no type of its own
    }

    [Fact]
    public void Views_outside_their_storage_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new TensorEntry("w", DType.Float32, new Shape(3), new ArrayStorage(new byte[8], "w")));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new TensorEntry("w", DType.Float32, new Shape(2, 2), new ArrayStorage(new byte[16], "w"), 0, [3, 1]));
    }
}
