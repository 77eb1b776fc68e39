using WeightScope.Tensors;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Writing;

/// <summary>
/// Every fixture that opens, written in every writable format and read back: the same tensors (names, dtypes, shapes and
/// row-major bytes). Tensors a format cannot hold (a dtype it has no code for) are left out, after checking that the
/// writer refuses them with a <see cref="ModelWriteException"/> rather than writing something else; single-array formats
/// (.npy) get the first tensor.
/// </summary>
public sealed class RoundTripTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-roundtrip-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in Fixtures().Where(HasTensors))
            foreach (var w in TensorWriters.All)
                data.Add(w.Name, Path.GetRelativePath(TestPaths.Fixtures, file));
        return data;
    }

    /// <summary>Small corpus files, one or two per format the fixtures do not cover as well (GGUF, TF, tfjs, ONNX, Keras 3).</summary>
    public static readonly string[] CorpusFiles =
    [
        "gguf/llama.cpp-vocab/ggml-vocab-bert-bge.gguf",
        "keras-h5/frugally-deep/lstm_bidirectional_keras2.2.5.h5",
        "keras3/emoji-lstm/emoji_lstm_model.weights.h5",
        "keras3/churn-ann/churn_model.keras",
        "onnx/onnx-backend/pytorch-operator/test_operator_params/model.onnx",
        "tf-checkpoint/tf2onnx-regression-tf1saver/model.index",
        "tf-savedmodel/tf2onnx-regression",
        "tfjs/celsius-dense-keras2.12/model.json",
        "torchsharp/TorchSharp-tests/bug510.dat",
        "safetensors/burn/multi_layer.safetensors",
        "hdf5/jhdf/test_large_group_latest.hdf5",
    ];

    public static TheoryData<string, string> CorpusCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in CorpusFiles)
            foreach (var w in TensorWriters.All)
                data.Add(w.Name, file);
        return data;
    }

    private static bool HasTensors(string file)
    {
        try
        {
            using var m = ModelFile.Open(file);
            // A bomb fixture (hdf5/features/unwritten_chunks.h5: 84 KB on disk, 1.2 GB of values) is the limits tests'
            // to cover; a round trip would write gigabytes.
            return m.Tensors.Count > 0 && m.Tensors.Sum(t => t.ByteSize) < 1L << 30;
        }
        catch (ModelFormatException)
        {
            return false; // a companion file (tfjs shard, checkpoint data file), not a model by itself
        }
    }

    // Files under tests/fixtures that are models (not answers, scripts or deliberately broken files).
    private static IEnumerable<string> Fixtures() =>
        Directory.EnumerateFiles(TestPaths.Fixtures, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}generate{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains("crafted", StringComparison.Ordinal) && !Path.GetFileName(f).StartsWith("bad", StringComparison.Ordinal)
                        && Path.GetExtension(f) is not (".json" or ".py" or ".md" or ".txt" or ".mjs" or ".prefix")) // .prefix: the first bytes of a file a test rebuilds
            .Order(StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Written_file_reads_back_equal(string writerName, string fixture) =>
        RoundTrip(writerName, Path.Combine(TestPaths.Fixtures, fixture));

    [CorpusTheory]
    [MemberData(nameof(CorpusCases))]
    public void Written_corpus_file_reads_back_equal(string writerName, string file) => RoundTrip(writerName, TestPaths.CorpusFile(file));

    private void RoundTrip(string writerName, string file)
    {
        using var source = ModelFile.Open(file);
        var writer = TensorWriters.ByName(writerName);
        var writable = new List<TensorEntry>();
        foreach (var t in source.Tensors)
        {
            try
            {
                t.ReadBytes();
            }
            catch (Exception e) when (e is ModelFormatException or NotSupportedException)
            {
                continue; // values this fixture deliberately cannot give (unsupported encodings are tested by the readers)
            }
            try
            {
                writer.Validate([t], WriteOptions.Default);
                writable.Add(t);
            }
            catch (ModelWriteException e)
            {
                Assert.Contains(t.Name, e.Message); // a refusal names the tensor it refuses
            }
        }
        if (writer.Name == "npy" && writable.Count > 1) writable = [writable[0]];
        if (writable.Count == 0)
        {
            Assert.All(source.Tensors, t => Assert.False(t.DType is DType.Float32 or DType.Int64, $"{t.Name} ({t.DType.Name()}) was refused"));
            return; // nothing this format can hold (checked: the refusals above named each tensor)
        }
        // Names must be unique to be written: drop later duplicates (a few formats allow them; none we write does).
        writable = [.. writable.DistinctBy(t => t.Name)];

        var path = Path.Combine(_dir, "out" + (writer.Extensions.Count > 0 ? writer.Extensions[0] : ".bin"));
        TensorWriters.Save(writable, path, writer.Name);
        using var back = ModelFile.Open(path);
        if (!writer.KeepsNames)
        {
            // Positions, not names (Keras 3): the same tensors must come back, each once, whatever they are called.
            Assert.Equal(writable.Select(Fingerprint).Order(StringComparer.Ordinal), back.Tensors.Select(Fingerprint).Order(StringComparer.Ordinal));
            return;
        }
        Assert.Equal(writable.Select(t => t.Name).Order(StringComparer.Ordinal), back.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var t in writable)
        {
            var b = back.Tensors[t.Name];
            Assert.True(t.DType == b.DType, $"{t.Name}: wrote {t.DType.Name()}, read back {b.DType.Name()}");
            Assert.True(t.Shape.Equals(b.Shape), $"{t.Name}: wrote {t.Shape}, read back {b.Shape}");
            Assert.True(t.ReadBytes().AsSpan().SequenceEqual(b.ReadBytes()), $"{t.Name}: values differ after the round trip");
        }
    }

    private static string Fingerprint(TensorEntry t) =>
        $"{t.DType.Name()}{t.Shape} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(t.ReadBytes()))}";
}
