using System.IO.Compression;
using System.Text.Json;
using WeightScope.Formats.PyTorch;
using WeightScope.Tensors;
using WeightScope.Tests.Interop;
using WeightScope.Tests.Writing;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Formats.PyTorch;

/// <summary>
/// The zip-format .pt writer: round trips through WeightScope's reader, and torch 1.13's
/// <c>torch.load(weights_only=True)</c> reading what it wrote with the source's values and sharing.
/// </summary>
public sealed class PyTorchZipWriterTests
{
    // Prints name → dtype, shape, sha256 of the row-major little-endian bytes, and where the data lives.
    private const string TorchLoad = """
        import sys, json, hashlib, zipfile, torch
        assert zipfile.ZipFile(sys.argv[1]).testzip() is None, "bad CRC"
        obj = torch.load(sys.argv[1], weights_only=True)
        items = obj.items() if isinstance(obj, dict) else [("", obj)]
        out = {}
        for k, t in items:
            a = t.detach().clone()
            if a.dtype == torch.bfloat16:
                a = a.view(torch.int16)
            out[k] = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                      "sha256": hashlib.sha256(a.numpy().tobytes()).hexdigest(),
                      "type": type(obj).__name__, "storage": t.storage().data_ptr(), "data_ptr": t.data_ptr(),
                      "offset": t.storage_offset(), "stride": list(t.stride())}
        print(json.dumps(out))
        """;

    private static string Fixture(string name) => TestPaths.Fixture("pytorch", name);

    public static TheoryData<string> ZipFixtures => new()
    {
        "every_dtype.pt", "views_shared.pt", "special_values.pt", "resnet_tiny_state_dict.pth", "simple_nn_state_dict.pth",
        "gru_lstm_state_dict.pt", "mymodel_state_dict.pt", "dataparallel_keys.pt", "saved_via_file_object.pt",
        "nested_list_checkpoint.pt", "whole_model_linear_conv.pt", "legacy_format.pt", "legacy_whole_model.pt",
    };

    [Theory]
    [MemberData(nameof(ZipFixtures))]
    public void Fixture_round_trips_through_the_reader(string name)
    {
        using var source = ModelFile.Open(Fixture(name));
        using var dir = new TempDir();
        WriterKit.RoundTrip(source.Tensors, dir.File("out.pt"), "pt");
        using var back = ModelFile.Open(dir.File("out.pt"));
        Assert.Equal("pytorch-zip", back.Format.Name);
    }

    [Fact]
    public void Views_of_one_storage_stay_views_of_one_storage()
    {
        using var source = ModelFile.Open(Fixture("views_shared.pt"));
        using var dir = new TempDir();
        TensorWriters.Save(source.Tensors, dir.File("out.pt"));
        using var back = ModelFile.Open(dir.File("out.pt"));
        foreach (var a in source.Tensors)
            foreach (var b in source.Tensors)
                Assert.Equal(ReferenceEquals(a.Storage, b.Storage), ReferenceEquals(back.Tensors[a.Name].Storage, back.Tensors[b.Name].Storage));
        Assert.Equal(source.Tensors["transposed"].Strides, back.Tensors["transposed"].Strides);
        Assert.Equal(source.Tensors["expanded"].Strides, back.Tensors["expanded"].Strides);
    }

    [Fact]
    public void Archive_has_torch_1_13_records_with_aligned_stored_data()
    {
        using var source = ModelFile.Open(Fixture("every_dtype.pt"));
        using var dir = new TempDir();
        TensorWriters.Save(source.Tensors, dir.File("out.pt"));
        using var zip = ZipFile.OpenRead(dir.File("out.pt"));
        Assert.Equal("archive/data.pkl", zip.Entries[0].FullName);
        Assert.Equal("archive/version", zip.Entries[^1].FullName);
        using (var r = new StreamReader(zip.GetEntry("archive/version")!.Open())) Assert.Equal("3\n", r.ReadToEnd());
        var data = zip.Entries.Where(e => e.FullName.StartsWith("archive/data/", StringComparison.Ordinal)).ToList();
        Assert.Equal(source.Tensors.Count, data.Count);
        var bytes = File.ReadAllBytes(dir.File("out.pt"));
        foreach (var e in data)
        {
            Assert.Equal(e.Length, e.CompressedLength); // stored
            long local = LocalHeaderOffset(bytes, e.FullName);
            int nameLength = BitConverter.ToUInt16(bytes, (int)local + 26), extraLength = BitConverter.ToUInt16(bytes, (int)local + 28);
            Assert.Equal(0, (local + 30 + nameLength + extraLength) % 64);
        }
    }

    [Fact]
    public void A_bare_tensor_is_saved_bare()
    {
        var t = WriterKit.Tensor("", DType.Float32, [2, 2], [.. BitConverter.GetBytes(1f), .. BitConverter.GetBytes(2f), .. new byte[8]]);
        using var dir = new TempDir();
        WriterKit.RoundTrip([t], dir.File("t.pt"), "pt");
    }

    [Fact]
    public void Thousands_of_entries_span_several_setitems_batches()
    {
        var tensors = Enumerable.Range(0, 2500).Select(i => WriterKit.Tensor($"layer.{i}.w", DType.Int32, [1], BitConverter.GetBytes(i))).ToList();
        using var dir = new TempDir();
        WriterKit.RoundTrip(tensors, dir.File("many.pt"), "pt");
    }

    [Fact]
    public void Views_of_one_storage_with_different_dtypes_are_copied_with_a_warning()
    {
        var bytes = new byte[16];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(i * 17);
        var storage = new ArrayStorage(bytes, "s");
        var asFloat = new TensorEntry("f", DType.Float32, new Shape(4), storage);
        var asInt = new TensorEntry("i", DType.Int32, new Shape(2), storage, 1);
        var warnings = new List<string>();
        using var dir = new TempDir();
        WriterKit.RoundTrip([asFloat, asInt], dir.File("x.pt"), "pt", new WriteOptions { Warning = warnings.Add });
        Assert.Contains(warnings, w => w.Contains("different dtypes", StringComparison.Ordinal));
    }

    // Expanded (stride-0) views make shapes past 2^16, 2^31 and 2^32 without memory: the pickle's BININT2, BININT and
    // LONG1 forms; only shapes and strides are compared (the values would be 32 GiB).
    private static readonly long[] s_bigDims = [300, 70_000, 1L << 33];

    private static List<TensorEntry> BigExpandedViews() =>
        [.. s_bigDims.Select(n => new TensorEntry($"n{n}", DType.Float32, new Shape(n), new ArrayStorage(BitConverter.GetBytes(1.5f), $"s{n}"), 0, [0]))];

    [Fact]
    public void Big_dimensions_round_trip_in_the_pickle()
    {
        using var dir = new TempDir();
        TensorWriters.Save(BigExpandedViews(), dir.File("big.pt"));
        using var back = ModelFile.Open(dir.File("big.pt"));
        Assert.Equal(s_bigDims, back.Tensors.Select(t => t.Shape[0]));
        Assert.All(back.Tensors, t => Assert.Equal([0L], t.Strides));
        Assert.All(back.Tensors, t => Assert.Equal(4, t.Storage.ByteLength));
    }

    [PythonFact("torch")]
    public void Torch_reads_big_dimensions()
    {
        using var dir = new TempDir();
        TensorWriters.Save(BigExpandedViews(), dir.File("big.pt"));
        var output = Python.Run("""
            import sys, torch
            d = torch.load(sys.argv[1], weights_only=True)
            print(" ".join(f"{k}:{t.shape[0]}:{t.stride()[0]}:{t[-1].item()}" for k, t in d.items()))
            """, dir.File("big.pt"));
        Assert.Equal(string.Join(" ", s_bigDims.Select(n => $"n{n}:{n}:0:1.5")), output.Trim());
    }

    [Theory]
    [InlineData(DType.UInt16, "uint16", "--dtype int32")]
    [InlineData(DType.UInt64, "uint64", "--dtype int64")]
    [InlineData(DType.Float8E4M3FN, "float8_e4m3fn", "--dtype float32")]
    [InlineData(DType.QInt8, "qint8", "weights_only")]
    public void Dtypes_torch_1_13_lacks_are_refused_before_writing(DType dtype, string dtypeName, string hint)
    {
        using var dir = new TempDir();
        var path = dir.File("x.pt");
        var e = Assert.Throws<ModelWriteException>(() =>
            TensorWriters.Save([WriterKit.Tensor("ok", DType.Float32, [1]), WriterKit.Tensor("w", dtype, [2])], path));
        Assert.Contains("'w'", e.Message);
        Assert.Contains(dtypeName, e.Message);
        Assert.Contains(hint, e.Message);
        Assert.False(File.Exists(path));
    }

    [PythonFact("torch")]
    public void Torch_loads_every_dtype_fixture_with_the_same_values()
    {
        using var source = ModelFile.Open(Fixture("every_dtype.pt"));
        var root = LoadWithTorch(source.Tensors, out _);
        Assert.Equal("OrderedDict", root.GetProperty("float32").GetProperty("type").GetString());
        Assert.Equal(0, root.GetProperty("scalar_0d").GetProperty("shape").GetArrayLength());
    }

    [PythonFact("torch")]
    public void Torch_sees_tied_weights_and_views_as_views_of_one_storage()
    {
        using var source = ModelFile.Open(Fixture("views_shared.pt"));
        var root = LoadWithTorch(source.Tensors, out _);
        long Ptr(string n, string field) => root.GetProperty(n).GetProperty(field).GetInt64();
        Assert.Equal(Ptr("tied_a", "data_ptr"), Ptr("tied_b", "data_ptr"));
        Assert.Equal(Ptr("tied_a", "storage"), Ptr("transposed", "storage"));
        Assert.Equal(Ptr("slice_offset", "storage"), Ptr("tail", "storage"));
        Assert.NotEqual(Ptr("tied_a", "storage"), Ptr("expanded", "storage"));
        Assert.Equal([1, 4], root.GetProperty("transposed").GetProperty("stride").EnumerateArray().Select(s => s.GetInt64()));
        Assert.Equal([0, 1], root.GetProperty("expanded").GetProperty("stride").EnumerateArray().Select(s => s.GetInt64()));
    }

    [PythonFact("torch")]
    public void Torch_loads_numpy_sources_big_endian_fortran_and_scalars()
    {
        var tensors = new List<TensorEntry>();
        var files = new List<ModelFile>();
        foreach (var f in new[] { "float32_big_endian.npy", "complex128_big_endian_fortran.npy", "int64_fortran_3d.npy",
                                  "scalar_float64.npy", "empty_0x3.npy", "bool.npy", "int16_big_endian.npy" })
        {
            var m = ModelFile.Open(TestPaths.Fixture("numpy", f));
            files.Add(m);
            var t = m.Tensors[0];
            tensors.Add(new TensorEntry(Path.GetFileNameWithoutExtension(f), t.DType, t.Shape, t.Storage, t.StorageOffset,
                [.. t.Strides], t.Role, t.IsBigEndian));
        }
        try
        {
            LoadWithTorch(tensors, out _);
        }
        finally
        {
            foreach (var m in files) m.Dispose();
        }
    }

    [PythonFact("torch")]
    public void Torch_loads_a_resnet_state_dict_a_bare_tensor_and_a_unicode_key()
    {
        using var source = ModelFile.Open(Fixture("resnet_tiny_state_dict.pth"));
        LoadWithTorch(source.Tensors, out _);
        var bare = WriterKit.Tensor("", DType.Int64, [3], [.. BitConverter.GetBytes(-5L), .. BitConverter.GetBytes(long.MaxValue), .. BitConverter.GetBytes(1L << 40)]);
        var root = LoadWithTorch([bare], out _);
        Assert.Equal("Tensor", root.GetProperty("").GetProperty("type").GetString());
        LoadWithTorch([WriterKit.Tensor("naïve.ünïcode/キー", DType.Float16, [2], [0x00, 0x3c, 0x00, 0xc0])], out _);
    }

    private static JsonElement LoadWithTorch(IReadOnlyList<TensorEntry> tensors, out string path)
    {
        using var dir = new TempDir();
        path = dir.File("out.pt");
        TensorWriters.Save(tensors, path);
        return WriterKit.AssertPythonSees(Python.Run(TorchLoad, path), tensors);
    }

    private static long LocalHeaderOffset(byte[] zip, string name)
    {
        var needle = System.Text.Encoding.UTF8.GetBytes(name);
        for (int i = 0; i + 30 + needle.Length <= zip.Length; i++)
            if (zip[i] == 'P' && zip[i + 1] == 'K' && zip[i + 2] == 3 && zip[i + 3] == 4 &&
                BitConverter.ToUInt16(zip, i + 26) == needle.Length && zip.AsSpan(i + 30, needle.Length).SequenceEqual(needle))
                return i;
        throw new InvalidOperationException($"no local header for {name}");
    }
}
