using WeightScope.Tests.Robustness;
using Xunit;
using static WeightScope.Tests.Formats.Gguf.GgufBuilder;

namespace WeightScope.Tests.Formats.Gguf;

/// <summary>
/// Seeded mutations (the shared fuzzer's truncations, bit flips, inflated fields, splices) of a crafted GGUF holding
/// every supported block type, a plain tensor and metadata of every kind: opening it and reading every value may only
/// throw <see cref="ModelFormatException"/>, quickly. The corpus GGUF files are fuzzed by <see cref="MutationTests"/>.
/// </summary>
public sealed class GgufMutationTests
{
    private const int Mutations = 2000;

    private static byte[] Crafted()
    {
        var b = new GgufBuilder();
        b.KvString("general.architecture", "llama")
            .Kv("tokenizer.ggml.tokens", TypeArray, b.Array(TypeString, [b.Str("<s>"), b.Str("</s>")]))
            .Kv("nested", TypeArray, b.Array(TypeArray, [b.Array(TypeFloat64, [BitConverter.GetBytes(0.5)])]))
            .Kv("flag", TypeBool, [1]);
        int i = 0;
        foreach (var name in GgmlBlockSamples.Names)
        {
            var s = GgmlBlockSamples.Make(name, 2, seed: i);
            b.AddTensor($"blk.{i++}.{name.ToLowerInvariant()}", [(ulong)s.BlockSize, 2], s.TypeId, s.Bytes);
        }
        b.AddTensor("output_norm.weight", [4], 0, new byte[16]);
        return b.Build();
    }

    [Fact]
    public void Mutated_crafted_file_fails_only_with_ModelFormatException()
    {
        var original = Crafted();
        Assert.True(FuzzCheck.OpenBytes(original, "the unmutated file"), "the crafted file must open, or mutations only reach its first error");
        var rng = new Random(0x6775);
        for (int i = 0; i < Mutations; i++)
        {
            var (bytes, how) = MutationTests.Mutate(original, rng);
            FuzzCheck.OpenBytes(bytes, $"mutation {i} ({how})");
        }
    }
}
