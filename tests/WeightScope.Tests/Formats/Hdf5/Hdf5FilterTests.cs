using System.Security.Cryptography;
using System.Text.Json;
using WeightScope.Formats.Hdf5.Filters;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.Hdf5;

/// <summary>
/// Chunked datasets written by libhdf5 through each filter (tests/fixtures/generate/hdf5_filter_fixtures.py: N-bit,
/// scale-offset and szip built in; blosc, bitshuffle, LZ4, bzip2 and zfp through Debian's plugins; zstd and bitshuffle's
/// zstd mode laid out as their plugins write them) against h5py's answers in filters/expected.json: dtype, shape, the
/// sha256 of every value as little-endian bytes and the first values. Filters this reader does not decode are refused
/// for that dataset only, naming the filter.
/// </summary>
public class Hdf5FilterTests
{
    private static readonly JsonElement Expected = Load();

    private static JsonElement Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("hdf5", "filters", "expected.json")));
        return doc.RootElement.Clone();
    }

    public static TheoryData<string, string> Datasets()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in Expected.EnumerateObject().Where(f => f.Name.EndsWith(".h5", StringComparison.Ordinal)))
            foreach (var ds in file.Value.EnumerateObject())
                if (!ds.Value.TryGetProperty("refused", out _)) data.Add(file.Name, ds.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Datasets))]
    public void Values_match_h5py(string file, string dataset)
    {
        var expected = Expected.GetProperty(file).GetProperty(dataset);
        using var model = ModelFile.Open(TestPaths.Fixture("hdf5", "filters", file));
        var tensor = model.Tensors[dataset];
        Assert.Equal(expected.GetProperty("dtype").GetString(), NumpyStr(tensor));
        Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), tensor.Shape);
        var first = expected.GetProperty("first").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(first, tensor.ToFloat64().Take(first.Length));
        Assert.Equal(expected.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(tensor.ReadBytes())));
    }

    [Fact]
    public void Every_filter_of_the_brief_is_covered_by_a_fixture()
    {
        var ids = Expected.EnumerateObject().Where(f => f.Name.EndsWith(".h5", StringComparison.Ordinal))
            .SelectMany(f => f.Value.EnumerateObject()).Where(d => !d.Value.TryGetProperty("refused", out _))
            .SelectMany(d => d.Value.GetProperty("filters").EnumerateArray().Select(i => i.GetInt32())).ToHashSet();
        Assert.Superset(new HashSet<int> { 4, 5, 6, 307, 32001, 32004, 32008, 32015 }, ids);
    }

    [Fact]
    public void NBit_unpacks_stored_chunks_as_libhdf5_does()
    {
        // The decoder alone, on compound and array types too (not tensors here): the chunk as stored, its client data, and
        // the bytes libhdf5 unpacks it to before any type conversion (h5py reading with the file's own type).
        using var file = new Hdf5Navigator(File.ReadAllBytes(TestPaths.Fixture("hdf5", "filters", "nbit.h5")));
        foreach (var chunk in Expected.GetProperty("nbit_chunks").EnumerateObject())
        {
            var c = chunk.Value;
            Assert.True(c.GetProperty("full_chunk").GetBoolean(), chunk.Name);
            // The client data as the file stores it (h5py's get_filter returns at most 16 valid values: those must agree).
            var cd = Assert.Single(file.Object(chunk.Name).Filters).ClientData;
            var head = c.GetProperty("client_data_head").EnumerateArray().Select(v => v.GetUInt32()).ToArray();
            Assert.Equal(head.Take(Math.Min(16, cd.Length)), cd.Take(16));
            var stored = Convert.FromBase64String(c.GetProperty("stored").GetString()!);
            var unpacked = Convert.FromBase64String(c.GetProperty("unpacked").GetString()!);
            var actual = FilterDecoder.Decode(stored, [new Filter(FilterPipeline.NBit, null, cd)], 0, unpacked.Length, 0, chunk.Name);
            Assert.Equal(unpacked, actual);
        }
    }

    public static TheoryData<string> Refused() =>
        new(Expected.GetProperty("refused.h5").EnumerateObject().Where(p => p.Value.TryGetProperty("refused", out _)).Select(p => p.Name));

    [Theory]
    [MemberData(nameof(Refused))]
    public void An_unsupported_filter_refuses_its_dataset_only_naming_the_filter(string dataset)
    {
        var expected = Expected.GetProperty("refused.h5").GetProperty(dataset);
        using var model = ModelFile.Open(TestPaths.Fixture("hdf5", "filters", "refused.h5"));
        Assert.Equal(new float[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, model.Tensors["plain"].ToArray<float>()); // the file still reads
        var tensor = model.Tensors[dataset]; // listed, with h5py's dtype and shape
        Assert.Equal(expected.GetProperty("dtype").GetString(), NumpyStr(tensor));
        Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), tensor.Shape);
        var e = Assert.Throws<UnsupportedModelFeatureException>(() => tensor.ToArray<float>());
        int id = expected.GetProperty("filters")[0].GetInt32();
        Assert.Contains($"filter {id}", e.Message);
        Assert.Contains(dataset, e.Message);
        Assert.Contains("gzip", e.Message);
        // The name comes from the pipeline message when the file records one, else from the registered ids.
        string? recorded = expected.GetProperty("pipeline_name").GetString();
        string? registered = id switch { 32013 => "zfp", 32026 => "blosc2", _ => null };
        if (recorded is not null) Assert.Contains(recorded, e.Message);
        if (registered is not null) Assert.Contains($"filter {id} ({registered}", e.Message);
        if (recorded is null && registered is null) Assert.DoesNotContain("(", e.Message.Split($"filter {id}")[1].Split(';')[0]);
    }

    [Fact]
    public void A_float_that_is_not_IEEE_is_listed_and_its_values_refused()
    {
        // libhdf5's N-bit test float: h5py converts it with libhdf5's general float conversion, which is not ported.
        using var model = ModelFile.Open(TestPaths.Fixture("hdf5", "filters", "nbit.h5"));
        var tensor = model.Tensors["f32_p20_custom"];
        Assert.Equal([12L], tensor.Shape);
        var e = Assert.Throws<UnsupportedModelFeatureException>(() => tensor.ToArray<float>());
        Assert.Contains("not IEEE 754 (precision 20 at bit offset 7", e.Message);
        Assert.Equal(25, model.Tensors["f32_full"].ToArray<float>().Length); // the file's other datasets read
    }

    private static string NumpyStr(TensorEntry t) => Hdf5FixtureTests.NumpyStr(t);
}

/// <summary>
/// Crafted chunks for each decoder's bounds: a size declared past the chunk, a stream that decodes to more than the
/// chunk (a decompression bomb), and the regressions the filter fuzzer found. Each must fail with a
/// <see cref="ModelFormatException"/> naming the filter, without allocating for the declared size.
/// </summary>
public class Hdf5FilterCraftedTests
{
    private const int ChunkBytes = 4096;

    private static Exception Decode(int id, byte[] stored, params uint[] cd) =>
        Assert.ThrowsAny<ModelFormatException>(() => FilterDecoder.Decode(stored, [new Filter(id, null, cd)], 0, ChunkBytes, 0, "x"));

    private static void AssertBounded(int id, byte[] stored, params uint[] cd)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        Decode(id, stored, cd);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8L << 20, "allocated for the declared size");
    }

    [Fact]
    public void Declared_sizes_past_the_chunk_are_refused_before_allocating()
    {
        // LZ4 (H5Zlz4.c): decoded size 2^40 (8 bytes BE), block size 64 KiB (4 bytes BE), no blocks.
        AssertBounded(FilterPipeline.Lz4, [0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
        // bitshuffle + LZ4 (bshuf_h5filter.c): decoded size 2^40, block size 8192 bytes; client data: version 0.3, 4-byte elements, LZ4.
        AssertBounded(FilterPipeline.BitShuffle, [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x20, 0], 0, 3, 4, 0, 2);
        // blosc (c-blosc 1.x header): version 2, LZ4 format 1, flags 0x20 (LZ4), type size 4, 2 GB decoded, block 64 KiB, frame 16.
        AssertBounded(FilterPipeline.Blosc, [2, 1, 0x20, 4, 0, 0, 0, 0x80 - 1, 0, 0, 1, 0, 16, 0, 0, 0]);
        // szip (H5Zszip.c): decoded size 2^31 (4 bytes LE); client data: NN + LSB + raw, 8 pixels per block, 8 bits, 64 per scanline.
        AssertBounded(FilterPipeline.Szip, [0, 0, 0, 0x80, 0xff], 8 | 32 | 128, 8, 8, 64);
        // N-bit (H5Znbit.c): 8 values, packing on, 2^31 elements of 4 bytes, atomic LE precision 12 offset 0.
        AssertBounded(FilterPipeline.NBit, [1, 2, 3], 8, 0, 0x80000000, 1, 4, 0, 12, 0);
        // scale-offset (H5Zscaleoffset.c): integer, minimum bits auto, 2^31 elements of 4 bytes, signed LE, fill defined 0.
        AssertBounded(FilterPipeline.ScaleOffset, new byte[21], 2, 0, 0x80000000, 0, 4, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    [Fact]
    public void A_stream_decoding_past_the_chunk_is_a_bomb_and_refused()
    {
        var zeros = new byte[ChunkBytes * 64];
        using (var ms = new MemoryStream())
        {
            using (var bz = new ICSharpCode.SharpZipLib.BZip2.BZip2OutputStream(ms) { IsStreamOwner = false }) bz.Write(zeros);
            var e = Decode(FilterPipeline.Bzip2, ms.ToArray());
            Assert.Contains("bzip2 (filter 307)", e.Message);
            Assert.Contains($"more than its {ChunkBytes} bytes", e.Message);
        }
        using var zstd = new ZstdSharp.Compressor(3);
        var z = Decode(FilterPipeline.Zstd, zstd.Wrap(zeros).ToArray());
        Assert.Contains("zstd (filter 32015)", z.Message);
    }

    [Fact]
    public void Szip_bits_per_pixel_past_int_range_is_refused_at_once()
    {
        // Found by FilterMutationTests (szip.h5:u32_zeros_nn8, mutation 309): client data [2] (bits per pixel) of
        // 0x80000020 became a negative sample width and decoding crawled for seconds. Chunk: decoded size 64 (4 bytes
        // LE), then 8 zero bytes; client data: NN + LSB + raw, 8 pixels per block, 0x80000020 bits, 8 per scanline.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var e = Decode(FilterPipeline.Szip, [64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8 | 32 | 128, 8, 0x80000020, 8);
        Assert.Contains("2147483680 bits per pixel", e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Corrupt_bzip2_stream_that_makes_SharpZipLib_throw_NullReferenceException_is_a_format_error()
    {
        // Found by FilterMutationTests (plugins.h5:bzip2_u16be, mutation 299: 5 bit flips of a chunk of 40 big-endian
        // uint16): "BZh1" header, block magic 314159265359, then a Huffman table section whose flipped bits send
        // BZip2InputStream.GetAndMoveToFrontDecode to a null table.
        var stored = Convert.FromHexString(
            "427A68313141592653599AD2F2A20000127FDFF1200364820A1400080A00200001010430294100C40040424200080000032000488A6800681A1EA1932313CA114FF55000006464000760B56C58A5C96BF251E71186E2DE57D33CEFD2789C61F11E8660168090100008008088E762EE48A70A12137A5E5440");
        var e = Decode(FilterPipeline.Bzip2, stored);
        Assert.Contains("bzip2 (filter 307)", e.Message);
    }
}
