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
        var e = Bounded.Fails<InvalidModelContentException>(() => Bounded.OpenAndReadAll(path));
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

    [Theory]
    [InlineData("list")]
    [InlineData("stats")]
    public void Cli_verbs_refuse_overlapped_entries(string verb)
    {
        var r = CliRunner.Run(verb, OverlappedNpz());
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("overlapped entries", r.Stderr + r.Stdout);
    }
}
