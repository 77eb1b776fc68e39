using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.Gguf;

/// <summary>
/// Block-quantized tensors: no GGUF in the corpus has any, so each supported type's blocks are built from the
/// specification's struct layout (<see cref="GgmlBlockSamples"/>) and their values worked out independently; the
/// blocks go into a crafted GGUF file opened through <see cref="ModelFile.Open(Stream, ReaderOptions?)"/>.
/// </summary>
public sealed class GgufQuantizationTests
{
    public static TheoryData<string> Types() => [.. GgmlBlockSamples.Names];

    private const int Rows = 3, BlocksPerRow = 2;

    private static (ModelFile Model, GgmlBlockSamples.Sample Sample) OpenSample(string type, uint version = 3)
    {
        var s = GgmlBlockSamples.Make(type, Rows * BlocksPerRow, seed: 1 + 7919 * Array.IndexOf(GgmlBlockSamples.Names, type));
        var bytes = new GgufBuilder(version)
            .KvString("general.architecture", "llama")
            .KvUInt32("general.quantization_version", 2)
            .AddTensor("blk.0.attn_q.weight", [(ulong)(s.BlockSize * BlocksPerRow), Rows], s.TypeId, s.Bytes)
            .Build();
        return (ModelFile.Open(new MemoryStream(bytes)), s);
    }

    private static void AssertBitwiseEqual(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: value {i} is {actual[i]:R}, expected {expected[i]:R}");
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Dequantizes_every_supported_block_type_exactly(string type)
    {
        var (model, s) = OpenSample(type);
        using var _ = model;
        var t = model.Tensors["blk.0.attn_q.weight"];
        Assert.Equal(DType.Float32, t.DType);
        Assert.Equal(new Shape(Rows, s.BlockSize * BlocksPerRow), t.Shape); // ne = [cols, rows] reversed
        Assert.Equal(QuantizationScheme.Block, t.Quantization!.Scheme);
        Assert.Equal(type.ToLowerInvariant(), t.Quantization.BlockType);
        AssertBitwiseEqual(s.Expected, t.ToFloat32(), type);
        AssertBitwiseEqual(s.Expected, [.. t.ToFloat64().Select(v => (float)v)], type + " via ToFloat64");
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void A_slice_decodes_only_what_it_covers_with_the_same_values(string type)
    {
        var (model, s) = OpenSample(type);
        using var _ = model;
        int cols = s.BlockSize * BlocksPerRow;
        var t = model.Tensors["blk.0.attn_q.weight"];
        // A row's middle, crossing a block boundary, starting mid-block.
        int from = s.BlockSize - 5, to = s.BlockSize + 7;
        var slice = t.Slice($"[1, {from}:{to}]");
        AssertBitwiseEqual(s.Expected[(cols + from)..(cols + to)], slice.ToFloat32(), type + " slice");
        // A strided column view (the gather path reads a range and picks from it).
        var column = t.Slice("[:, 3]");
        AssertBitwiseEqual([.. Enumerable.Range(0, Rows).Select(r => s.Expected[r * cols + 3])], column.ToFloat32(), type + " column");
    }

    [Theory]
    [InlineData("Q4_K")]
    [InlineData("Q8_0")]
    public void Printing_shows_the_dequantized_values_like_any_float32_tensor(string type)
    {
        var (model, s) = OpenSample(type);
        using var _ = model;
        var t = model.Tensors["blk.0.attn_q.weight"];
        var plain = new TensorEntry(t.Name, DType.Float32, t.Shape, new ArrayStorage([.. s.Expected.SelectMany(BitConverter.GetBytes)], "expected"));
        Assert.Equal(WeightScope.Printing.TensorFormatter.Format(plain), WeightScope.Printing.TensorFormatter.Format(t));
    }

    [Fact]
    public void Version_1_and_2_files_carry_quantized_tensors_the_same_way()
    {
        foreach (uint version in new uint[] { 1, 2 })
        {
            var (model, s) = OpenSample("Q4_K", version);
            using var _ = model;
            Assert.Equal($"v{version}", model.Format.Version);
            AssertBitwiseEqual(s.Expected, model.Tensors["blk.0.attn_q.weight"].ToFloat32(), $"v{version}");
        }
    }

    [Fact]
    public void Dotted_names_build_the_module_tree()
    {
        var (model, _) = OpenSample("Q8_0");
        using var _m = model;
        var attn = model.Modules.Child("blk")?.Child("0")?.Child("attn_q");
        Assert.NotNull(attn);
        Assert.Equal("blk.0.attn_q", attn.Path);
        Assert.Same(model.Tensors["blk.0.attn_q.weight"], attn.Parameters["weight"]);
    }

    [Fact]
    public void Types_without_a_decoder_are_listed_and_refuse_values()
    {
        // IQ2_XXS (16): 66-byte blocks of 256; id 99 is no ggml type at all.
        var bytes = new GgufBuilder()
            .AddTensor("iq", [256, 2], 16, new byte[2 * 66])
            .AddTensor("mystery", [8], 99, new byte[32])
            .AddTensor("plain", [2], 0, new byte[8])
            .Build();
        using var m = ModelFile.Open(new MemoryStream(bytes));
        Assert.Equal(["iq", "mystery", "plain"], m.Tensors.Select(t => t.Name));
        Assert.Equal("iq2_xxs", m.Tensors["iq"].Quantization!.BlockType);
        Assert.Equal(new Shape(2, 256), m.Tensors["iq"].Shape);
        Assert.Equal("ggml_type_99", m.Tensors["mystery"].Quantization!.BlockType);
        var e = Assert.Throws<UnsupportedModelFeatureException>(() => m.Tensors["iq"].ToFloat32());
        Assert.Contains("IQ2_XXS", e.Message);
        Assert.Contains("Q4_K", e.Message); // names what is readable
        Assert.Throws<UnsupportedModelFeatureException>(() => m.Tensors["mystery"].ReadBytes());
        Assert.Equal(new float[2], m.Tensors["plain"].ToFloat32());

        // read after opening, the refusal still names the file
        var path = Path.Combine(Path.GetTempPath(), $"ws-gguf-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, bytes);
        try
        {
            using var fromFile = ModelFile.Open(path);
            Assert.Equal(path, Assert.Throws<UnsupportedModelFeatureException>(() => fromFile.Tensors["iq"].ToFloat32()).FilePath);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
