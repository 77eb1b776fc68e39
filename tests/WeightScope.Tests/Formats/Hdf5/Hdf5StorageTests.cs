using WeightScope.Formats.Hdf5.Layout;
using WeightScope.IO;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.Hdf5;

/// <summary>
/// The read paths give the same bytes: contiguous data read with positional reads on the file handle (large reads,
/// MappedFile.Read) or copied from the mapping (small reads, spans); chunked data assembled straight into the caller's
/// buffer, once into a cache, or range by range from only the chunks a range overlaps (what datasets over 2 GB use).
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

    [Theory]
    [InlineData("mixed_earliest.h5")]
    [InlineData("mixed_latest.h5")]
    [InlineData("features/legacy_layout_v2.h5")]
    [InlineData("features/shared_messages.h5")]
    public void Range_reads_decode_only_overlapping_chunks_and_equal_the_assembled_dataset(string name)
    {
        // Every chunked dataset (every index type, filters, edge chunks, unwritten chunks, ranks 1 to 4): random ranges,
        // element-aligned or not, read chunk by chunk equal the same bytes of the whole dataset assembled at once.
        using var nav = new Hdf5Navigator(File.ReadAllBytes(TestPaths.Fixture(["hdf5", .. name.Split('/')])));
        using var model = ModelFile.Open(TestPaths.Fixture(["hdf5", .. name.Split('/')]));
        var rng = new Random(16);
        int checkedDatasets = 0;
        foreach (var t in model.Tensors.Where(t => t.Storage is ChunkedStorage))
        {
            var obj = nav.Object(t.Name);
            var dims = obj.Space!.Dims;
            var dataset = new ChunkedDataset(nav.File, obj.Layout!, obj.Filters, dims, obj.Space.MaxDims, obj.Type!.Size, obj.Fill, obj.Offset, t.Name);
            var whole = new byte[dataset.ByteLength];
            dataset.AssembleInto(whole);
            for (int i = 0; i < 60; i++)
            {
                int start = rng.Next(whole.Length), length = rng.Next(whole.Length - start + 1);
                if (i % 2 == 0) (start, length) = (start / obj.Type.Size * obj.Type.Size, length / obj.Type.Size * obj.Type.Size);
                var part = new byte[length];
                dataset.ReadRange(start, part);
                Assert.True(whole.AsSpan(start, length).SequenceEqual(part), $"{t.Name}: bytes {start}+{length}");
            }
            var all = new byte[whole.Length];
            dataset.ReadRange(0, all);
            Assert.Equal(whole, all);
            checkedDatasets++;
        }
        Assert.True(checkedDatasets >= 3, $"{name} has chunked datasets");
    }

    [Fact]
    public void A_range_of_the_flat_dataset_is_split_into_at_most_two_boxes_per_dimension()
    {
        using var nav = new Hdf5Navigator(File.ReadAllBytes(TestPaths.Fixture("hdf5", "features", "legacy_layout_v1.h5")));
        var obj = nav.Object("chunked/rank4"); // 7 x 5 x 4 x 3
        var dims = obj.Space!.Dims;
        var dataset = new ChunkedDataset(nav.File, obj.Layout!, obj.Filters, dims, dims, 4, null, obj.Offset, "chunked/rank4");
        long total = dims.Aggregate(1L, (a, d) => a * d);
        for (long first = 0; first < total; first += 7)
            for (long end = first + 1; end <= total; end += 11)
            {
                var boxes = dataset.Boxes(first, end);
                Assert.InRange(boxes.Count, 1, 2 * dims.Length);
                // The boxes cover [first, end) exactly: their volumes add up, and each lies inside the range.
                long covered = 0;
                foreach (var (lo, hi) in boxes)
                {
                    long volume = 1, flatLo = 0, flatHi = 0;
                    for (int d = 0; d < dims.Length; d++)
                    {
                        volume *= hi[d] - lo[d];
                        flatLo = flatLo * dims[d] + lo[d];
                        flatHi = flatHi * dims[d] + hi[d] - 1;
                    }
                    Assert.InRange(flatLo, first, end - 1);
                    Assert.InRange(flatHi, first, end - 1);
                    covered += volume;
                }
                Assert.Equal(end - first, covered);
            }
    }
}
