using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.Gguf;

/// <summary>
/// The corpus GGUF files (see its MANIFEST.md): the superpoint model (v3, F16/F32 tensors) and llama.cpp's vocab-only
/// files (v1, v2, v3; no tensors, tokenizer metadata). No gguf-py can be installed here, so besides the manifest's
/// facts every value is checked against <see cref="GgufWalker"/>, a naive second reader written from the spec.
/// </summary>
public sealed class GgufCorpusTests
{
    // path, version, tensors, kv pairs, general.architecture — as MANIFEST.md lists them
    public static TheoryData<string, int, int, int, string> Files() => new()
    {
        { "gguf/ggml-superpoint/superpoint.gguf", 3, 24, 1, "superpoint" },
        { "gguf/llama.cpp-vocab/ggml-vocab-bert-bge.gguf", 3, 0, 20, "bert" },
        { "gguf/llama.cpp-vocab/ggml-vocab-falcon.gguf-v2.gguf", 2, 0, 17, "falcon" },
        { "gguf/llama.cpp-vocab/ggml-vocab-llama-spm.gguf", 3, 0, 22, "llama" },
        { "gguf/llama.cpp-vocab/ggml-vocab-llama.gguf-v1.gguf", 1, 0, 13, "llama" },
    };

    [CorpusTheory]
    [MemberData(nameof(Files))]
    public void Opens_with_the_manifest_version_counts_and_architecture(string path, int version, int tensors, int kvs, string arch)
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile(path));
        Assert.Equal("gguf", m.Format.Name);
        Assert.Equal($"v{version}", m.Format.Version);
        Assert.Equal(tensors, m.Tensors.Count);
        Assert.Equal(kvs, m.Metadata.Count);
        Assert.Equal(arch, m.Metadata["general.architecture"]);
    }

    [CorpusTheory]
    [MemberData(nameof(Files))]
    public void Metadata_equals_an_independent_walk_key_by_key_in_file_order(string path, int version, int tensors, int kvs, string arch)
    {
        _ = (version, tensors, kvs, arch);
        var walk = GgufWalker.Walk(File.ReadAllBytes(TestPaths.CorpusFile(path)));
        using var m = ModelFile.Open(TestPaths.CorpusFile(path));
        Assert.Equal(walk.KeyValues.Select(kv => kv.Key), m.Metadata.Keys);
        foreach (var (key, value) in walk.KeyValues) AssertDeepEqual(value, m.Metadata[key], key);
    }

    private static void AssertDeepEqual(object? expected, object? actual, string where)
    {
        if (expected is List<object?> e)
        {
            var a = Assert.IsType<List<object?>>(actual);
            Assert.True(e.Count == a.Count, $"{where}: {a.Count} items, expected {e.Count}");
            for (int i = 0; i < e.Count; i++) AssertDeepEqual(e[i], a[i], $"{where}[{i}]");
            return;
        }
        Assert.True(Equals(expected, actual), $"{where}: {actual} ({actual?.GetType().Name}), expected {expected} ({expected?.GetType().Name})");
    }

    [CorpusFact]
    public void Superpoint_tensors_have_reversed_ne_shapes_and_the_raw_values_at_their_spec_offsets()
    {
        var path = TestPaths.CorpusFile("gguf/ggml-superpoint/superpoint.gguf");
        var bytes = File.ReadAllBytes(path);
        var walk = GgufWalker.Walk(bytes);
        using var m = ModelFile.Open(path);

        Assert.Equal(walk.Tensors.Select(t => t.Name), m.Tensors.Select(t => t.Name));
        // MANIFEST: tensor types {'F16': 12, 'F32': 12}: weights F16, biases F32
        Assert.Equal(12, m.Tensors.Count(t => t.DType == DType.Float16 && t.Name.EndsWith("_weights", StringComparison.Ordinal)));
        Assert.Equal(12, m.Tensors.Count(t => t.DType == DType.Float32 && t.Name.EndsWith("_biases", StringComparison.Ordinal)));
        foreach (var (name, ne, type, offset) in walk.Tensors)
        {
            var t = m.Tensors[name];
            Assert.Equal(ne.Reverse().Select(d => (long)d), t.Shape);
            long start = walk.DataStart + (long)offset;
            var expected = new float[t.ElementCount];
            for (int i = 0; i < expected.Length; i++)
                expected[i] = type switch
                {
                    0 => BitConverter.ToSingle(bytes, (int)start + 4 * i),
                    1 => (float)BitConverter.ToHalf(bytes, (int)start + 2 * i),
                    _ => throw new InvalidDataException($"{name}: type {type}"),
                };
            Assert.Equal(expected, t.ToFloat32());
        }
        // PyTorch's conv layout: weights [out, in, kh, kw], each bias [1, out, 1, 1] matching its layer's weight.
        for (int l = 0; l < 12; l++)
        {
            var w = m.Tensors[$"l{l}_weights"];
            var b = m.Tensors[$"l{l}_biases"];
            Assert.Equal(4, w.Shape.Rank);
            Assert.Equal(w.Shape[2], w.Shape[3]);
            Assert.Equal(new Shape(1, w.Shape[0], 1, 1), b.Shape);
            Assert.True(w.TryGetSpan<Half>(out _)); // zero-copy over the mapped file
        }
    }

    [CorpusTheory]
    [InlineData("gguf/llama.cpp-vocab/ggml-vocab-llama-spm.gguf")]
    [InlineData("gguf/llama.cpp-vocab/ggml-vocab-llama.gguf-v1.gguf")]
    public void Llama_vocabularies_are_whole_and_consistent(string path)
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile(path));
        var tokens = Assert.IsType<List<object?>>(m.Metadata["tokenizer.ggml.tokens"]);
        var scores = Assert.IsType<List<object?>>(m.Metadata["tokenizer.ggml.scores"]);
        var types = Assert.IsType<List<object?>>(m.Metadata["tokenizer.ggml.token_type"]);
        Assert.All(tokens, t => Assert.IsType<string>(t));
        Assert.All(scores, s => Assert.IsType<double>(s));
        Assert.All(types, t => Assert.IsType<long>(t));
        Assert.Equal(tokens.Count, scores.Count);
        Assert.Equal(tokens.Count, types.Count);
        if (m.Metadata.TryGetValue("llama.vocab_size", out var vocab)) Assert.Equal((long)tokens.Count, vocab);
        // SentencePiece's LLaMA vocabulary: <unk>, <s>, </s> first; the ids the file names point at them.
        Assert.Equal(["<unk>", "<s>", "</s>"], tokens.Take(3));
        if (m.Metadata.TryGetValue("tokenizer.ggml.bos_token_id", out var bos)) Assert.Equal("<s>", tokens[(int)(long)bos!]);
        if (m.Metadata.TryGetValue("tokenizer.ggml.eos_token_id", out var eos)) Assert.Equal("</s>", tokens[(int)(long)eos!]);
    }
}
