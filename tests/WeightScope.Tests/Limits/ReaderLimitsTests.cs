using System.Globalization;
using System.Text;
using Xunit;

namespace WeightScope.Tests.Limits;

/// <summary>
/// Every <see cref="ReaderLimits"/> limit: a file that crosses a lowered limit fails with a message naming the file,
/// the value found, the limit and the CLI flag that raises it; the same file opens once the limit is raised.
/// </summary>
public sealed class ReaderLimitsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ws-limits-" + Guid.NewGuid().ToString("N"));

    public ReaderLimitsTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private static ReaderOptions With(string limit, long value) =>
        new() { Limits = ReaderLimits.Find(limit)!.With(ReaderLimits.Default, value) };

    /// <summary>Opening with <paramref name="limit"/> at <paramref name="lowered"/> fails naming it; at <paramref name="raised"/> it opens.</summary>
    private static ReaderLimitException Crosses(string path, string limit, long lowered, long raised)
    {
        var e = Assert.Throws<ReaderLimitException>(() => ModelFile.Open(path, With(limit, lowered)).Dispose());
        Assert.Equal(limit, e.Limit);
        Assert.Equal(lowered, e.Max);
        Assert.True(e.Value > lowered, $"value {e.Value} should be over the limit {lowered}");
        var flag = ReaderLimits.Find(limit)!.Flag;
        Assert.Equal(flag, e.Flag);
        Assert.Contains($"raise with {flag}", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Contains("more than the limit of " + lowered.ToString("N0", CultureInfo.InvariantCulture), e.Message);
        using var opened = ModelFile.Open(path, With(limit, raised));
        Assert.NotEmpty(opened.Tensors);
        return e;
    }

    private static string Fixture(string relative) => TestPaths.Fixture(relative.Split('/'));

    // A safetensors file of `count` float32 scalars; the header's nesting is 3 (file object, tensor object, shape array).
    private string SafeTensors(int count, out int headerLength)
    {
        var json = new StringBuilder("{");
        for (int i = 0; i < count; i++)
            json.Append(i == 0 ? "" : ",").Append($"\"t{i}\":{{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[{4 * i},{4 * i + 4}]}}");
        json.Append('}');
        var header = Encoding.UTF8.GetBytes(json.ToString());
        headerLength = header.Length;
        var path = Path.Combine(_dir, $"t{count}.safetensors");
        using var f = File.Create(path);
        f.Write(BitConverter.GetBytes((ulong)header.Length));
        f.Write(header);
        f.Write(new byte[4 * count]);
        return path;
    }

    [Fact]
    public void Header_bytes_safetensors()
    {
        var path = SafeTensors(3, out int length);
        var e = Crosses(path, nameof(ReaderLimits.MaxHeaderBytes), length - 1, length);
        Assert.Contains($"header or record size is {length.ToString("N0", CultureInfo.InvariantCulture)} bytes", e.Message);
    }

    [Fact]
    public void Header_bytes_pickle_record() =>
        // data.pkl of this checkpoint is 489 bytes.
        Crosses(Fixture("pytorch/mymodel_state_dict.pt"), nameof(ReaderLimits.MaxHeaderBytes), 488, 489);

    [Fact]
    public void Tensor_count_safetensors()
    {
        var e = Crosses(SafeTensors(50, out _), nameof(ReaderLimits.MaxTensorCount), 49, 50);
        Assert.Contains("number of tensors is 50, more than the limit of 49 (raise with --max-tensors", e.Message);
    }

    // Each reader that lists tensors honours the tensor limit: one fewer than the file holds fails, the exact count opens.
    [Theory]
    [InlineData("pytorch/mymodel_state_dict.pt")]
    [InlineData("pytorch/gru_whole.pt")]
    [InlineData("pytorch/legacy_format.pt")]
    [InlineData("numpy/savez_compressed.npz")]
    [InlineData("hdf5/mixed_latest.h5")]
    [InlineData("keras/nested_full_model.h5")]
    [InlineData("keras/keras3_zoo.keras")]
    [InlineData("keras/keras3_plain.weights.h5")]
    [InlineData("onnx/tiny_graph.onnx")]
    [InlineData("tfjs/layers/model.json")]
    [InlineData("torchsharp/state_dict.dat")]
    public void Tensor_count_every_reader(string fixture)
    {
        var path = Fixture(fixture);
        int n;
        using (var m = ModelFile.Open(path)) n = m.Tensors.Count;
        Assert.True(n > 1);
        Crosses(path, nameof(ReaderLimits.MaxTensorCount), n - 1, n);
    }

    [Fact]
    public void Nesting_depth_json_header() =>
        Crosses(SafeTensors(2, out _), nameof(ReaderLimits.MaxNestingDepth), 2, 3);

    [Fact]
    public void Nesting_depth_json_deeper_than_system_text_json_default_is_a_limit_not_a_syntax_error()
    {
        // 100 nested arrays in the metadata: over the 64 levels System.Text.Json allows by default, under our 1,000.
        // Lowered to 50 the limit is named; at the default the header parses, and is refused for what it is (metadata
        // values must be strings), not for its depth.
        string deep = new string('[', 100) + new string(']', 100);
        var header = Encoding.UTF8.GetBytes($"{{\"__metadata__\":{{\"x\":{deep}}},\"a\":{{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}}}");
        var path = Path.Combine(_dir, "deep.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header, 0, 0, 0, 0]);
        var e = Assert.Throws<ReaderLimitException>(() => ModelFile.Open(path, With(nameof(ReaderLimits.MaxNestingDepth), 50)));
        Assert.Contains("nesting depth is 51, more than the limit of 50 (raise with --max-depth", e.Message);
        var other = Assert.ThrowsAny<ModelFormatException>(() => ModelFile.Open(path));
        Assert.IsNotType<ReaderLimitException>(other);
    }

    [Fact]
    public void Nesting_depth_pickle() =>
        Crosses(Fixture("pytorch/mymodel_state_dict.pt"), nameof(ReaderLimits.MaxNestingDepth), 2, 3);

    [Fact]
    public void Nesting_depth_hdf5_groups() =>
        // keras_fixtures.py nests a model in a model: model_weights/<layer>/<layer>/<weight> is 4 groups deep.
        Crosses(Fixture("keras/nested_full_model.h5"), nameof(ReaderLimits.MaxNestingDepth), 1, 1000);

    [Fact]
    public void Pickle_memo() =>
        Crosses(Fixture("pytorch/mymodel_state_dict.pt"), nameof(ReaderLimits.MaxPickleMemo), 1, 1000);

    [Fact]
    public void Pickle_ops() =>
        Crosses(Fixture("pytorch/mymodel_state_dict.pt"), nameof(ReaderLimits.MaxPickleOps), 10, 10_000);

    [Fact]
    public void Decompressed_bytes_npz_member()
    {
        // embedding.npy inflates to 1,152 bytes, the largest member of the file.
        var e = Crosses(Fixture("numpy/savez_compressed.npz"), nameof(ReaderLimits.MaxDecompressedBytes), 1151, 1152);
        Assert.Contains("decompressed size is 1,152 bytes, more than the limit of 1,151 bytes (raise with --max-decompressed-bytes", e.Message);
        Assert.Equal("embedding.npy", e.Entry);
    }

    [Fact]
    public void Decompressed_bytes_keras_archive_member() =>
        // keras3_deflated.keras holds a deflated model.weights.h5, inflated into memory before it is read.
        Crosses(Fixture("keras/keras3_deflated.keras"), nameof(ReaderLimits.MaxDecompressedBytes), 1000, 1L << 30);

    [Fact]
    public void Decompressed_bytes_hdf5_chunked_dataset()
    {
        // hdf5_fixtures.py writes chunked and gzip-compressed datasets into the mixed file, decoded when read: the limit
        // is met when that dataset's values are read, so the file still opens and lists every dataset.
        string path = Fixture("hdf5/mixed_latest.h5");
        const string limit = nameof(ReaderLimits.MaxDecompressedBytes);
        const string name = "chunked/gzip_shuffle";
        using (var lowered = ModelFile.Open(path, With(limit, 1)))
        {
            Assert.Contains(lowered.Tensors, t => t.Name == "model_weights/dense/dense/kernel:0");
            var e = Assert.Throws<ReaderLimitException>(() => lowered.Tensors[name].ReadBytes());
            Assert.Equal(limit, e.Limit);
            Assert.Equal(name, e.Entry);
            Assert.Equal(lowered.Tensors[name].ByteSize, e.Value);
            Assert.Contains("raise with --max-decompressed-bytes", e.Message);
            Assert.Contains(path, e.Message);
        }
        using var raised = ModelFile.Open(path, With(limit, 1L << 30));
        Assert.Equal(raised.Tensors[name].ByteSize, raised.Tensors[name].ReadBytes().Length);
    }

    [Fact]
    public void Json_depth_check_names_the_limit_and_the_offset()
    {
        // JsonDepth reports nesting over the limit with the limit's name and the offset of the first container too deep.
        var json = Encoding.UTF8.GetBytes("{\"a\": [[[1]]]}");
        var e = Assert.Throws<ReaderLimitException>(() => WeightScope.IO.JsonDepth.Check(json, ReaderLimits.Default with { MaxNestingDepth = 3 }, "test", "model.json"));
        Assert.Equal(4, e.Value);
        Assert.Equal(8, e.Offset);
        WeightScope.IO.JsonDepth.Check(json, ReaderLimits.Default with { MaxNestingDepth = 4 }, "test", "model.json");
        WeightScope.IO.JsonDepth.Check("{\"a\": [[[1"u8, ReaderLimits.Default with { MaxNestingDepth = 4 }, "test"); // malformed: left to the parser
    }

    [Fact]
    public void Zip_entries() =>
        // The checkpoint holds 6 entries (data.pkl, four storages, version).
        Crosses(Fixture("pytorch/mymodel_state_dict.pt"), nameof(ReaderLimits.MaxZipEntries), 5, 6);

    [Theory]
    [InlineData("hdf5/mixed_latest.h5")]
    [InlineData("hdf5/wide_latest.h5")]
    [InlineData("hdf5/wide_earliest.h5")]
    [InlineData("keras/nested_full_model.h5")]
    public void Hdf5_objects(string fixture)
    {
        var e = Crosses(Fixture(fixture), nameof(ReaderLimits.MaxHdf5Objects), 3, 100_000);
        Assert.Contains("number of HDF5 objects and links visited is", e.Message);
    }

    [Fact]
    public void Hdf5_objects_count_every_link_the_walk_looks_at()
    {
        // The walk reads each object once and looks at each link once: the smallest limit that opens the file is that
        // total, one less fails.
        var path = Fixture("hdf5/mixed_latest.h5");
        long least = Enumerable.Range(1, 10_000).First(n =>
        {
            try { ModelFile.Open(path, With(nameof(ReaderLimits.MaxHdf5Objects), n)).Dispose(); return true; }
            catch (ReaderLimitException) { return false; }
        });
        using var m = ModelFile.Open(path);
        Assert.True(least > m.Tensors.Count, $"{least} objects and links walked for {m.Tensors.Count} datasets");
        Crosses(path, nameof(ReaderLimits.MaxHdf5Objects), least - 1, least);
    }

    [Fact]
    public void Every_limit_has_a_flag_a_default_and_a_setter()
    {
        var properties = typeof(ReaderLimits).GetProperties().Where(p => p.Name.StartsWith("Max", StringComparison.Ordinal)).Select(p => p.Name).Order().ToList();
        Assert.Equal(properties, ReaderLimits.All.Select(i => i.Name).Order().ToList());
        Assert.Equal(ReaderLimits.All.Count, ReaderLimits.All.Select(i => i.Flag).Distinct().Count());
        foreach (var info in ReaderLimits.All)
        {
            Assert.StartsWith("--max-", info.Flag);
            Assert.True(info.Get(ReaderLimits.Default) > 0);
            var changed = info.With(ReaderLimits.Default, 7);
            Assert.Equal(7, info.Get(changed));
            // Only that one limit changed.
            foreach (var other in ReaderLimits.All.Where(o => o != info))
                Assert.Equal(other.Get(ReaderLimits.Default), other.Get(changed));
        }
    }

    // --- detection ------------------------------------------------------------------------------------------------

    [Fact]
    public void Detection_parses_within_raised_limits()
    {
        // TorchSharp files have no magic number: the detector parses the whole state dict, within the limits. One entry
        // over the default --max-tensors: not recognised by default (a random file with a large leading LEB128 must not be
        // claimed); recognised and read once the limit is raised — before, detection used the defaults whatever was asked.
        // Not .dat/.bin: with those endings a file that parses as no state dict is still taken as TorchSharp and its
        // reader reports the limit; any other name depends on detection alone.
        var path = Path.Combine(_dir, "many.model");
        const int count = 1_000_001;
        using (var w = new BinaryWriter(File.Create(path), Encoding.UTF8))
        {
            w.Write7BitEncodedInt(count);
            for (int i = 0; i < count; i++)
            {
                w.Write("t" + i.ToString(CultureInfo.InvariantCulture)); // BinaryWriter.Write(string), as TorchSharp writes keys
                w.Write((byte)6); // ScalarType Float32
                w.Write((byte)1); // rank 1
                w.Write((byte)0); // shape [0]: no element bytes
            }
        }
        Assert.Throws<UnknownModelFormatException>(() => ModelFile.Open(path).Dispose());
        using var model = ModelFile.Open(path, With(nameof(ReaderLimits.MaxTensorCount), 2_000_000));
        Assert.Equal("torchsharp", model.Format.Name);
        Assert.Equal(count, model.Tensors.Count);
        Assert.Equal("t1000000", model.Tensors[count - 1].Name);
    }

    [Fact]
    public void Detection_keeps_at_least_the_defaults_so_a_lowered_limit_is_reported_by_the_reader()
    {
        // With --max-tensors 1 the detector still recognises the 4-tensor TorchSharp file, and the reader names the flag
        // (not "unknown format").
        var e = Assert.Throws<ReaderLimitException>(() => ModelFile.Open(TestPaths.Fixture("torchsharp", "state_dict.dat"), With(nameof(ReaderLimits.MaxTensorCount), 1)).Dispose());
        Assert.Equal(nameof(ReaderLimits.MaxTensorCount), e.Limit);
        var detection = (ReaderLimits.Default with { MaxTensorCount = 1, MaxHeaderBytes = 1L << 40 }).ForDetection();
        Assert.Equal(ReaderLimits.Default.MaxTensorCount, detection.MaxTensorCount);
        Assert.Equal(1L << 40, detection.MaxHeaderBytes);
        Assert.Equal(ReaderLimits.Default.MaxHdf5Objects, detection.MaxHdf5Objects);
    }
}
