using System.Buffers.Binary;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Robustness;

/// <summary>
/// Seeded mutations of every fixture (and the small corpus files of the formats read so far), opened and fully read:
/// only <see cref="ModelFormatException"/> may escape, and each input must finish quickly. The long setting runs more
/// mutations per file: WEIGHTSCOPE_FUZZ_ITERATIONS=2000 dotnet test --filter MutationTests.
/// </summary>
public class MutationTests
{
    private static readonly int Iterations = int.TryParse(Environment.GetEnvironmentVariable("WEIGHTSCOPE_FUZZ_ITERATIONS"), out var n) ? n : 25;

    public static TheoryData<string> Inputs()
    {
        var files = new List<string>();
        foreach (var dir in new[] { "pytorch", "pytorch/torchscript", "numpy", "core", "pytorch-crafted", "hdf5", "hdf5/features", "hdf5/filters", "keras", "torchsharp", "onnx" })
        {
            var d = TestPaths.Fixture(dir);
            if (Directory.Exists(d))
                files.AddRange(Directory.GetFiles(d).Where(f => !f.EndsWith(".json", StringComparison.Ordinal) && new FileInfo(f).Length < 300_000));
        }
        files.Add(Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth"));
        if (TestPaths.CorpusAvailable)
            foreach (var folder in new[] { "safetensors", "numpy", "pytorch", "hdf5", "keras-h5", "keras3", "torchsharp", "onnx" })
                files.AddRange(Directory.GetFiles(TestPaths.CorpusFile(folder), "*", SearchOption.AllDirectories).Where(f => new FileInfo(f).Length < 100_000));
        if (TestPaths.CorpusAvailable) // TensorFlow checkpoint indexes (from a stream the shards are not found: the table and entries are what is fuzzed), V1 tables and MetaGraphs (.meta)
            foreach (var folder in new[] { "tf-checkpoint", "tf-savedmodel" })
                files.AddRange(Directory.GetFiles(TestPaths.CorpusFile(folder), "*", SearchOption.AllDirectories)
                    .Where(f => f.EndsWith(".index", StringComparison.Ordinal) || f.EndsWith(".meta", StringComparison.Ordinal) || f.EndsWith("export-00000-of-00001", StringComparison.Ordinal)));
        if (TestPaths.CorpusAvailable) // the smallest real GGUF files are 0.6–2.6 MB; whole, they still parse in milliseconds
            files.AddRange(Directory.GetFiles(TestPaths.CorpusFile("gguf"), "*.gguf", SearchOption.AllDirectories));
        var data = new TheoryData<string>();
        foreach (var f in files.Order(StringComparer.Ordinal)) data.Add(Path.GetRelativePath(TestPaths.RepoRoot, f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Only_model_format_errors_escape(string relativePath)
    {
        var original = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, relativePath));
        var rng = new Random(StructuredMutations.StableSeed(relativePath) ^ 12345);
        for (int i = 0; i < Iterations; i++)
        {
            var (mutated, how) = Mutate(original, rng);
            FuzzCheck.OpenBytes(mutated, $"{relativePath}, mutation {i} ({how})");
        }
    }

    /// <summary>
    /// Regression found by this fuzzer: 68 bytes spliced from offset 651 to offset 2437 land in a deflated chunk, and
    /// zlib reports that as ZLibException (an IOException) which the HDF5 filter did not translate.
    /// </summary>
    [CorpusFact]
    public void Corrupt_deflate_chunk_reported_as_zlib_error_is_a_format_error()
    {
        var bytes = File.ReadAllBytes(TestPaths.CorpusFile("hdf5/jhdf/test_byteshuffle_compressed_datasets_latest.hdf5"));
        Array.Copy((byte[])bytes.Clone(), 651, bytes, 2437, 68);
        var e = Record.Exception(() => OpenAndReadEverything(bytes));
        Assert.True(e is null or ModelFormatException, $"{e?.GetType().Name}: {e?.Message}");
    }

    private static void OpenAndReadEverything(byte[] bytes)
    {
        using var model = ModelFile.Open(new MemoryStream(bytes));
        FuzzCheck.ReadEverything(model);
    }

    /// <summary>Truncation, bit flips, inflated length/count fields and spliced chunks, as the fuzzer asks.</summary>
    internal static (byte[] Bytes, string How) Mutate(byte[] src, Random rng)
    {
        var b = (byte[])src.Clone();
        switch (rng.Next(5))
        {
            case 0:
                {
                    int cut = rng.Next(Math.Max(1, b.Length));
                    return (b[..cut], $"truncate at {cut}");
                }
            case 1:
                {
                    int flips = 1 + rng.Next(8);
                    for (int k = 0; k < flips && b.Length > 0; k++) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                    return (b, $"{flips} bit flips");
                }
            case 2:
                {
                    if (b.Length < 8) return (b, "unchanged");
                    int at = rng.Next(b.Length - 8);
                    ulong[] values = [0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, ulong.MaxValue, (ulong)b.Length * 2, 0x100000000];
                    ulong v = values[rng.Next(values.Length)];
                    if (rng.Next(2) == 0) BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), (uint)v);
                    else BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), v);
                    return (b, $"inflated field at {at} = {v}");
                }
            case 3:
                {
                    if (b.Length < 16) return (b, "unchanged");
                    int from = rng.Next(b.Length), to = rng.Next(b.Length), len = Math.Min(1 + rng.Next(256), b.Length - Math.Max(from, to));
                    Array.Copy(src, from, b, to, len);
                    return (b, $"splice {len} bytes from {from} to {to}");
                }
            default:
                {
                    int at = rng.Next(Math.Max(1, b.Length)), len = Math.Min(1 + rng.Next(64), b.Length - at);
                    var dup = b[..at].Concat(b.AsSpan(at, len).ToArray()).Concat(b[at..]).ToArray();
                    return (dup, $"duplicate {len} bytes at {at}");
                }
        }
    }
}
