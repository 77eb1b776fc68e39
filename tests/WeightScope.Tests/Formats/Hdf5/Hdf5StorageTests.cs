using WeightScope.Formats.Hdf5.Layout;
using WeightScope.IO;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.Hdf5;

/// <summary>
/// The two read paths give the same bytes: contiguous data read with positional reads on the file handle (large reads,
/// MappedFile.Read) or copied from the mapping (small reads, spans); chunked data assembled straight into the caller's
/// buffer or once into a cache.
/// </summary>
public class Hdf5StorageTests
{
    [Fact]
    public void Large_reads_by_positional_read_equal_the_mapped_bytes()
    {
        string path = Path.GetTempFileName();
        try
        {
            var bytes = new byte[6 << 20];
            new Random(5).NextBytes(bytes);
            File.WriteAllBytes(path, bytes);
            using var file = MappedFile.Open(path);
            const int start = 1000, length = (5 << 20) + 3; // over the positional-read threshold, not page aligned
            var storage = new MappedStorage(file, start, length, "t");
            var whole = new byte[length];
            storage.Read(0, whole);                                  // positional read
            Assert.Equal(bytes.AsSpan(start, length).ToArray(), whole);
            var part = new byte[4096];
            storage.Read(777, part);                                 // small: from the mapping
            Assert.Equal(bytes.AsSpan(start + 777, 4096).ToArray(), part);
            Assert.True(storage.TryGetSpan(0, length, out var span)); // zero-copy
            Assert.True(span.SequenceEqual(whole));
            Assert.Throws<ArgumentOutOfRangeException>(() => storage.Read(1, whole));
            // A slice (a stored zip member read in place) reads through its parent's handle at its own offset.
            var slice = file.Slice(start, length);
            var viaSlice = new byte[length - 10];
            slice.Read(10, viaSlice);
            Assert.Equal(bytes.AsSpan(start + 10, length - 10).ToArray(), viaSlice);
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("mixed_earliest.h5")]
    [InlineData("mixed_latest.h5")]
    public void Chunked_whole_reads_equal_cached_and_partial_reads(string name)
    {
        string path = TestPaths.Fixture("hdf5", name);
        using var direct = ModelFile.Open(path);
        using var cached = ModelFile.Open(path);
        var chunked = direct.Tensors.Where(t => t.Storage is ChunkedStorage).ToList();
        Assert.True(chunked.Count >= 5, "the fixture has chunked datasets with several indexes");
        foreach (var t in chunked)
        {
            var whole = new byte[t.Storage.ByteLength];
            t.Storage.Read(0, whole); // the whole storage: assembled into this array, not kept (raw bytes, any byte order)
            var c = cached.Tensors[t.Name];
            Assert.True(c.Storage.TryGetSpan(0, (int)c.Storage.ByteLength, out var span)); // assembled once, kept
            Assert.Equal(span.ToArray(), whole);
            if (whole.Length > 2)
            {
                var part = new byte[whole.Length - 2];
                t.Storage.Read(1, part);
                Assert.Equal(whole[1..^1], part);
            }
        }
    }
}
