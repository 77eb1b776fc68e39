using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using WeightScope.Modules;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.TfJs;

/// <summary>
/// Fixtures written by tests/fixtures/generate/tfjs_fixtures.mjs with the real tfjs 4.22 packages; answers.json beside
/// each is what tfjs's model loaders decode from the same files (shards concatenated, io.decodeWeights).
/// </summary>
public sealed class TfJsFixtureTests
{
    private static string Dir(string name) => TestPaths.Fixture("tfjs", name);

    public static TheoryData<string> Folders() => new() { "mixed", "layers" };

    [Theory]
    [MemberData(nameof(Folders))]
    public void Every_numeric_weight_equals_what_tfjs_decodes_bit_for_bit(string folder)
    {
        using var m = ModelFile.Open(Dir(folder));
        using var answers = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir(folder), "answers.json")));
        int numeric = 0;
        foreach (var w in answers.RootElement.GetProperty("weights").EnumerateObject())
        {
            var a = w.Value;
            long[] shape = [.. a.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())];
            string dtype = a.GetProperty("dtype").GetString()!;
            if (dtype == "string") continue;
            var t = m.Tensors[w.Name];
            Assert.Equal(shape, t.Shape.AsSpan().ToArray());
            numeric++;
            switch (dtype)
            {
                case "float32":
                    Assert.Equal(DType.Float32, t.DType);
                    Assert.Equal(a.GetProperty("bits").EnumerateArray().Select(b => b.GetUInt32()), MemoryMarshal.Cast<float, uint>(t.ToFloat32()).ToArray());
                    break;
                case "complex64":
                    Assert.Equal(DType.Complex64, t.DType);
                    Assert.Equal(a.GetProperty("bits").EnumerateArray().Select(b => b.GetUInt32()), MemoryMarshal.Cast<byte, uint>(t.ReadBytes()).ToArray());
                    break;
                case "int32":
                    Assert.Equal(DType.Int32, t.DType);
                    Assert.Equal(a.GetProperty("values").EnumerateArray().Select(v => v.GetInt32()), t.ToArray<int>());
                    break;
                case "bool":
                    Assert.Equal(DType.Bool, t.DType);
                    Assert.Equal(a.GetProperty("values").EnumerateArray().Select(v => (byte)v.GetInt32()), t.ReadBytes());
                    break;
                default:
                    Assert.Fail($"answers.json has dtype {dtype}");
                    break;
            }
        }
        Assert.Equal(numeric, m.Tensors.Count);
    }

    [Fact]
    public void String_weights_are_metadata_with_the_bytes_tfjs_decodes()
    {
        using var m = ModelFile.Open(Dir("mixed"));
        using var answers = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir("mixed"), "answers.json")));
        var expected = answers.RootElement.GetProperty("weights").GetProperty("vocab").GetProperty("utf8").EnumerateArray()
            .Select(e => Encoding.UTF8.GetString([.. e.EnumerateArray().Select(b => (byte)b.GetInt32())])).ToList();
        Assert.Equal(["a", "", "grüße"], expected); // what the generator wrote, so the answer itself is checked too
        Assert.Equal(expected, Assert.IsType<List<object?>>(m.Metadata["vocab"]).Cast<string>());
        Assert.False(m.Tensors.Contains("vocab"));
    }

    [Fact]
    public void Quantized_weights_match_values_worked_out_by_hand()
    {
        using var m = ModelFile.Open(Path.Combine(Dir("mixed"), "model.json"));
        // float16 halves 3C00, 8000, 0001, 7C00, C555, 7BFF: 1, −0, 2^−24 (smallest subnormal), +∞,
        // −(1 + 0x155/1024) × 2^(17−15) = −5.33203125, 65504 (largest finite).
        var f16 = m.Tensors["q/float16"].ToFloat32();
        Assert.Equal([1f, -0f, MathF.Pow(2, -24), float.PositiveInfinity, -(1 + 341f / 1024) * 4, 65504f], f16);
        Assert.True(float.IsNegative(f16[1]));
        // uint8 for an int32 weight: Math.round(q × 0.5 − 0.5) for q = 0, 1, 2, 3, 255 → round(−0.5) = −0 → 0, 0, round(0.5) = 1, 1, 127.
        Assert.Equal([0, 0, 1, 1, 127], m.Tensors["q/int32"].ToArray<int>());
        // uint16 65535 × 0.0001 − 3.2768 = 3.2767 in float64, then rounded to float32.
        Assert.Equal((float)(65535 * 0.0001 - 3.2768), m.Tensors["q/uint16"].ToFloat32()[1]);
        Assert.Equal("tfjs-uint8", m.Tensors["q/uint8"].Quantization?.BlockType);
        Assert.Null(m.Tensors["q/int32"].Quantization);
        var q = Assert.IsType<OrderedDictionary<string, object?>>(m.Metadata["quantization"]);
        Assert.Equal(["q/uint8", "q/uint16", "q/float16", "q/int32"], q.Keys);
    }

    [Fact]
    public void A_weight_spanning_two_shards_reads_across_them()
    {
        // group 1 is cut into 16-byte shards: dense/kernel (24 bytes at 0) spans shards 1 and 2; steps (16 at 24) spans 2 and 3.
        using var m = ModelFile.Open(Dir("mixed"));
        Assert.False(m.Tensors["dense/kernel"].Storage.TryGetSpan(0, 24, out _));
        Assert.Equal([0.5f, -1.25f, 3.0e-8f, 1e30f, -0f, 7.75f], m.Tensors["dense/kernel"].ToFloat32());
        Assert.Equal(12, m.SourceFiles.Count); // model.json, 6 shards of group 1 and 5 of group 2
    }

    [Fact]
    public void Format_version_producer_and_other_entries()
    {
        using var m = ModelFile.Open(Dir("mixed"));
        Assert.Equal("tfjs", m.Format.Name);
        Assert.Equal("graph-model", m.Format.Version);
        Assert.StartsWith("tfjs_fixtures.mjs; TensorFlow.js tfjs-core v", m.Format.Producer);
        Assert.IsType<OrderedDictionary<string, object?>>(m.Metadata["signature"]);
        Assert.False(m.HasModuleTypes); // a graph-model: the tree comes from the '/' names
        Assert.NotNull(m.Modules.Child("q"));
    }

    [Fact]
    public void Layers_model_tree_comes_from_the_topology_with_tfjs_trainable_split()
    {
        using var m = ModelFile.Open(Dir("layers"));
        using var answers = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir("layers"), "answers.json")));
        var trainable = answers.RootElement.GetProperty("trainable").EnumerateArray().Select(e => e.GetString()!).ToHashSet();
        Assert.Equal("layers-model", m.Format.Version);
        Assert.True(m.HasModuleTypes);
        Assert.Equal("Sequential", m.Modules.Type);
        Assert.Equal(["fc1", "bn", "fc2"], m.Modules.Children.Select(c => c.Name));
        Assert.Equal("BatchNormalization", m.Modules.Child("bn")!.Type);
        Assert.Equal(3L, m.Modules.Child("fc1")!.Attributes["units"]);
        foreach (var t in m.Tensors)
            Assert.Equal(trainable.Contains(t.Name) ? TensorRole.Parameter : TensorRole.Buffer, t.Role);
        Assert.Equal(["moving_mean", "moving_variance"], m.Modules.Child("bn")!.Buffers.Keys);
        Assert.Same(m.Tensors["fc2/kernel"], m.Modules.Child("fc2")!.Parameters["kernel"]);
    }
}
