using System.Text.Json;
using WeightScope.Tensors;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Writing;

/// <summary>
/// <see cref="TensorCast"/> and <see cref="TensorEdits.Scaled"/> against torch's own <c>t.to(dtype)</c> and
/// <c>t.clone().mul_(k)</c> (tests/fixtures/generate/writing_answers.py): bit for bit, except that any NaN matches any
/// NaN (torch's vectorised bfloat16 cast writes 0xFFFF for NaN and its scalar tail 0x7FC0; neither is a value).
/// </summary>
public class TorchCastTests
{
    private static readonly JsonElement Expected =
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("writing", "cast_expected.json"))).RootElement.GetProperty("tensors");

    public static TheoryData<string, string> Casts()
    {
        var data = new TheoryData<string, string>();
        foreach (var t in Expected.EnumerateObject())
            foreach (var c in t.Value.GetProperty("casts").EnumerateObject())
                data.Add(t.Name, c.Name);
        return data;
    }

    public static TheoryData<string, string> Scales()
    {
        var data = new TheoryData<string, string>();
        foreach (var t in Expected.EnumerateObject())
            foreach (var c in t.Value.GetProperty("scaled").EnumerateObject())
                data.Add(t.Name, c.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Casts))]
    public void Cast_matches_torch(string name, string target)
    {
        using var m = ModelFile.Open(TestPaths.Fixture("writing", "cast_sources.pt"));
        Assert.True(DTypes.TryParse(target, out var dtype));
        var cast = TensorCast.Cast(m.Tensors[name], dtype);
        Assert.Equal(dtype, cast.DType);
        Assert.Equal(m.Tensors[name].Shape, cast.Shape);
        AssertBits(Expected.GetProperty(name).GetProperty("casts").GetProperty(target).GetString()!, cast);
    }

    [Theory]
    [MemberData(nameof(Scales))]
    public void Scale_matches_torch_mul_(string name, string factor)
    {
        using var m = ModelFile.Open(TestPaths.Fixture("writing", "cast_sources.pt"));
        var scaled = TensorEdits.Scaled(m.Tensors[name], double.Parse(factor, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(m.Tensors[name].DType, scaled.DType);
        AssertBits(Expected.GetProperty(name).GetProperty("scaled").GetProperty(factor).GetString()!, scaled);
    }

    [Fact]
    public void Integers_and_bools_are_not_cast_and_cannot_be_scaled()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("writing", "cast_sources.pt"));
        Assert.Same(m.Tensors["steps"], TensorCast.Cast(m.Tensors["steps"], DType.Float16));
        Assert.Same(m.Tensors["mask"], TensorCast.Cast(m.Tensors["mask"], DType.BFloat16));
        var e = Assert.Throws<ModelWriteException>(() => TensorEdits.Scaled(m.Tensors["steps"], 2));
        Assert.Contains("int64", e.Message);
        Assert.Throws<ArgumentException>(() => TensorCast.Cast(m.Tensors["tricky32"], DType.Int8));
    }

    [Fact]
    public void Zeroed_keeps_name_shape_dtype_and_role()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("writing", "cast_sources.pt"));
        var t = m.Tensors["bf16"];
        var z = TensorEdits.Zeroed(t);
        Assert.Equal((t.Name, t.DType, t.Shape, t.Role), (z.Name, z.DType, z.Shape, z.Role));
        Assert.All(z.ToFloat32(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Replaced_requires_same_shape_and_dtype_and_shows_both()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("writing", "cast_sources.pt"));
        var e = Assert.Throws<ModelWriteException>(() => TensorEdits.Replaced(m.Tensors["half"], m.Tensors["bf16"]));
        Assert.Contains("float16[24]", e.Message);
        Assert.Contains("bfloat16[24]", e.Message);
        var ok = TensorEdits.Replaced(m.Tensors["normal64"], m.Tensors["normal64"].With(name: "other"));
        Assert.Equal("normal64", ok.Name);
        e = Assert.Throws<ModelWriteException>(() => TensorEdits.Replaced(m.Tensors["normal32"], m.Tensors["normal64"]));
        Assert.Contains("float32[4, 16]", e.Message);
        Assert.Contains("float64[32]", e.Message);
    }

    private static void AssertBits(string expectedHex, TensorEntry actual)
    {
        var expected = Convert.FromHexString(expectedHex);
        var got = actual.ReadBytes();
        Assert.Equal(expected.Length, got.Length);
        int item = actual.DType.ItemSize();
        for (int i = 0; i < got.Length; i += item)
        {
            var e = expected.AsSpan(i, item);
            var g = got.AsSpan(i, item);
            if (e.SequenceEqual(g)) continue;
            Assert.True(IsNaN(actual.DType, e) && IsNaN(actual.DType, g),
                $"element {i / item}: torch {Convert.ToHexString(e)}, ours {Convert.ToHexString(g)} ({actual.DType.Name()})");
        }
    }

    private static bool IsNaN(DType t, ReadOnlySpan<byte> b) => t switch
    {
        DType.Float16 => Half.IsNaN(BitConverter.ToHalf(b)),
        DType.BFloat16 => float.IsNaN(ElementConverter.BFloat16ToSingle(BitConverter.ToUInt16(b))),
        DType.Float32 => float.IsNaN(BitConverter.ToSingle(b)),
        _ => double.IsNaN(BitConverter.ToDouble(b)),
    };
}
