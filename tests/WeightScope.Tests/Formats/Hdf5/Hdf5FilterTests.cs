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

    private static string NumpyStr(TensorEntry t) => Hdf5FixtureTests.NumpyStr(t);
}
