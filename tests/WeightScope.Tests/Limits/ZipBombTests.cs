using System.IO.Compression;
using WeightScope.IO;
using WeightScope.Tests.Cli;
using WeightScope.Tests.Formats.NumPy;
using Xunit;

namespace WeightScope.Tests.Limits;

/// <summary>
/// Issue 17 §4, zip bombs: a central directory whose entries share one deflated member ("overlapped entries", refused
/// as CPython 3.12's zipfile refuses it) finishes within the small-input budget on every zip-based reader.
/// </summary>
public sealed class ZipBombTests : IDisposable
{
    private const int Entries = 30;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ws-zipbomb-" + Guid.NewGuid().ToString("N"));

    public ZipBombTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    // One npy member of 16 MiB of float32 zeros, deflated to ~16 KB, and a central directory of 30 entries that all
    // point at its local header (offset 0): read naively, 30 × 16 MiB = 480 MB from a file of ~17 KB.
    private string OverlappedNpz()
    {
        const int floats = 4 << 20;
        var npy = NumPyBytes.Npy($"{{'descr': '<f4', 'fortran_order': False, 'shape': ({floats},), }}", new byte[4L * floats]);
        var member = new NumPyBytes.Member("a00.npy", 8, Deflate(npy), npy.Length);
        var entries = Enumerable.Range(0, Entries).Select(i => ($"a{i:00}.npy", 0)).ToArray();
        var path = Path.Combine(_dir, "overlapped.npz");
        File.WriteAllBytes(path, NumPyBytes.Zip([member], entries));
        return path;
    }

    private static byte[] Deflate(byte[] data)
    {
        var ms = new MemoryStream();
        using (var z = new DeflateStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data);
        return ms.ToArray();
    }

    [Fact]
    public void Overlapped_entries_are_refused_within_the_budget()
    {
        var path = OverlappedNpz();
        var e = Bounded.Fails<InvalidModelContentException>(() => Bounded.OpenAndReadAll(path, Ratio(2000))); // zeros deflate 1000:1
        Assert.Contains("overlapped entries", e.Message);
        Assert.Equal("a01.npy", e.Entry); // the first entry in directory order owns the bytes, as in zipfile
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void The_first_of_the_entries_sharing_a_header_reads_the_others_are_refused()
    {
        using var mf = MappedFile.Open(OverlappedNpz());
        var zip = ZipIndex.Read(mf, ReaderLimits.Default);
        Assert.Equal(Entries, zip.Entries.Count);
        Assert.Equal(30L + "a00.npy".Length, zip.DataOffset(zip.Entries[0])); // local header (30 bytes) and name
        for (int i = 1; i < Entries; i++)
            Assert.Contains("overlapped entries", Assert.Throws<InvalidModelContentException>(() => zip.DataOffset(zip.Entries[i])).Message);
    }

    [Fact]
    public void Member_data_running_into_the_next_local_header_is_overlapped()
    {
        // Two stored members laid out one after the other; the first declares 8 bytes more than it has, so its data
        // runs over the second's local header (CPython: zinfo._end_offset is the next header by offset).
        var bytes = NumPyBytes.Zip(NumPyBytes.Member.Stored("a", new byte[16]), NumPyBytes.Member.Stored("b", new byte[16]));
        int cd = BitConverter.ToInt32(bytes, bytes.Length - 6);          // EOCD: offset of the central directory
        BitConverter.GetBytes(24u).CopyTo(bytes, cd + 20);               // first central header: compressed size
        BitConverter.GetBytes(24u).CopyTo(bytes, cd + 24);               //                       uncompressed size
        using var mf = MappedFile.FromArray(bytes);
        var zip = ZipIndex.Read(mf, ReaderLimits.Default);
        var e = Assert.Throws<InvalidModelContentException>(() => zip.ReadAll(zip.Find("a")!, 1 << 20));
        Assert.Contains("overlapped entries", e.Message);
        Assert.Equal(16, zip.ReadAll(zip.Find("b")!, 1 << 20).Length);
    }

    // A member of `zeros` bytes of zeros after `prefix`, deflated: ~1000:1, a deflate bomb's ratio.
    private static NumPyBytes.Member Bomb(string name, byte[] prefix, int zeros)
    {
        var data = new byte[prefix.Length + zeros];
        prefix.CopyTo(data, 0);
        return new(name, 8, Deflate(data), data.Length);
    }

    private static ReaderOptions Ratio(int ratio) => new() { Limits = new() { MaxDecompressionRatio = ratio } };

    // keras3_deflated.keras (Keras 3 wrote it; its model.weights.h5 deflated) with 64 MiB of zeros after the HDF5 file's
    // end in that member, as the bomb (1.8 MB declaring 1.9 GB) at a test's scale.
    private string KerasBomb()
    {
        using var src = new ZipArchive(File.OpenRead(TestPaths.Fixture("keras", "keras3_deflated.keras")));
        byte[] Read(string name) { var ms = new MemoryStream(); using (var s = src.GetEntry(name)!.Open()) s.CopyTo(ms); return ms.ToArray(); }
        var path = Path.Combine(_dir, "bomb.keras");
        File.WriteAllBytes(path, NumPyBytes.Zip(NumPyBytes.Member.Stored("metadata.json", Read("metadata.json")),
            NumPyBytes.Member.Stored("config.json", Read("config.json")), Bomb("model.weights.h5", Read("model.weights.h5"), 64 << 20)));
        return path;
    }

    [Fact]
    public void Keras_weights_deflated_past_the_ratio_are_refused_before_inflating()
    {
        var path = KerasBomb();
        var e = Bounded.Fails<ReaderLimitException>(() => ModelFile.Open(path).Dispose(), bytes: 16L << 20);
        Assert.Equal(nameof(ReaderLimits.MaxDecompressionRatio), e.Limit);
        Assert.Equal("model.weights.h5", e.Entry);
        Assert.Contains("possible zip bomb", e.Message);
        Assert.Contains("raise with --max-decompression-ratio", e.Message);
        // Raised, the archive reads as Keras reads it: the zeros past the HDF5 end of file change nothing.
        using var raised = ModelFile.Open(path, Ratio(2000));
        using var original = ModelFile.Open(TestPaths.Fixture("keras", "keras3_deflated.keras"));
        Assert.Equal(original.Tensors.Select(t => t.Name), raised.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void Npz_members_inflate_only_when_their_values_are_read()
    {
        // 64 MiB of float32 zeros, as np.savez_compressed writes them: about 1030:1, as high as deflate goes, and exactly
        // what a bomb looks like — so no ratio refuses it. Opening and listing inflate only the npy header; the values
        // are inflated when asked for, as numpy inflates them.
        const int floats = 16 << 20;
        var npy = NumPyBytes.Npy($"{{'descr': '<f4', 'fortran_order': False, 'shape': ({floats},), }}", []);
        var path = Path.Combine(_dir, "zeros.npz");
        File.WriteAllBytes(path, NumPyBytes.Zip(Bomb("z.npy", npy, 4 * floats)));
        Bounded.Succeeds(() =>
        {
            using var m = ModelFile.Open(path);
            Assert.Equal(floats, Assert.Single(m.Tensors).ElementCount);
        }, bytes: 16L << 20);
        using var read = ModelFile.Open(path);
        Assert.All(read.Tensors[0].ToFloat32(), v => Assert.Equal(0f, v));
        // The declared size is still held to --max-decompressed-bytes before anything is inflated.
        var e = Bounded.Fails<ReaderLimitException>(
            () => ModelFile.Open(path, new ReaderOptions { Limits = ReaderLimits.Default with { MaxDecompressedBytes = 1 << 20 } }).Dispose(), bytes: 16L << 20);
        Assert.Equal(nameof(ReaderLimits.MaxDecompressedBytes), e.Limit);
    }

    [Fact]
    public void A_member_inflating_past_its_declared_size_is_refused()
    {
        var bomb = Bomb("a", [], 4 << 20);
        var liar = bomb with { UncompressedSize = 2 << 20 }; // declares half of what the stream holds
        using var mf = MappedFile.FromArray(NumPyBytes.Zip(liar));
        var zip = ZipIndex.Read(mf, new() { MaxDecompressionRatio = 10_000 });
        var e = Bounded.Fails<InvalidModelContentException>(() => zip.ReadAll(zip.Find("a")!, 8 << 20));
        Assert.Contains("inflates to more than its declared", e.Message);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("stats")]
    public void Cli_verbs_refuse_overlapped_entries(string verb)
    {
        var r = CliRunner.Run(verb, OverlappedNpz(), "--max-decompression-ratio", "2000");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("overlapped entries", r.Stderr + r.Stdout);
    }
}
