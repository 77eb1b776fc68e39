using System.Runtime.InteropServices;
using WeightScope.Tests.Formats.Gguf;
using Xunit;
using static TorchSharp.torch;

namespace WeightScope.TorchSharp.Tests;

/// <summary>
/// Block-quantized GGUF tensors load dequantized into float32 parameters, each value what ggml's formulas give (the
/// main suite's block samples, worked out element by element from ggml-common.h); a block type WeightScope cannot decode
/// is refused by the load, never replaced.
/// </summary>
public sealed class GgufDequantizedTests
{
    public static TheoryData<string> Types() => [.. GgmlBlockSamples.Names];

    [Theory]
    [MemberData(nameof(Types))]
    public void Quantized_blocks_load_as_their_values(string type)
    {
        var sample = GgmlBlockSamples.Make(type, blocks: 2, seed: 19);
        var bytes = new GgufBuilder().AddTensor("fc.weight", [(ulong)sample.BlockSize, 2], sample.TypeId, sample.Bytes).Build();
        using var file = ModelFile.Open(new MemoryStream(bytes));
        using var model = new Bag(("fc", nn.Linear(sample.BlockSize, 2, hasBias: false)));
        var result = model.LoadWeights(file);
        Assert.True(result.IsComplete, result.DescribeProblems());
        Assert.Empty(result.Warnings); // dequantized values are float32: nothing lost in a float32 parameter
        var values = MemoryMarshal.Cast<byte, float>(model.state_dict()["fc.weight"].contiguous().bytes).ToArray();
        Assert.Equal(sample.Expected, values);
    }

    [Fact]
    public void A_block_type_without_a_decoder_is_refused()
    {
        var bytes = new GgufBuilder().AddTensor("fc.weight", [256, 2], 16, new byte[2 * 66]).Build(); // IQ2_XXS
        using var file = ModelFile.Open(new MemoryStream(bytes));
        using var model = new Bag(("fc", nn.Linear(256, 2, hasBias: false)));
        var e = Assert.Throws<UnsupportedModelFeatureException>(() => model.LoadWeights(file));
        Assert.Contains("IQ2_XXS", e.Message, StringComparison.Ordinal);
    }
}
