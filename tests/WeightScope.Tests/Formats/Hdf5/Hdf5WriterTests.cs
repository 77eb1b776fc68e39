using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using WeightScope.Formats.Hdf5.Writer;
using WeightScope.Tensors;
using WeightScope.Tests.Interop;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Formats.Hdf5;

/// <summary>The HDF5 writer core (<c>Formats/Hdf5/Writer</c>): our reader, h5py and h5dump read what it writes.</summary>
public sealed class Hdf5WriterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ws-h5w-" + Guid.NewGuid().ToString("N"));

    public Hdf5WriterTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    // h5py's view of every dataset: path (visititems order), numpy dtype string, shape, sha256 of the little-endian bytes.
    internal const string H5pyDatasets = """
        import h5py, hashlib, json, sys, numpy as np
        out = []
        with h5py.File(sys.argv[1], "r") as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset):
                    a = obj[()]
                    a = np.asarray(a)
                    le = a.astype(a.dtype.newbyteorder("<")) if a.dtype.byteorder == ">" else a
                    out.append({"name": name, "dtype": a.dtype.str, "shape": list(a.shape),
                                "sha256": hashlib.sha256(np.ascontiguousarray(le).tobytes()).hexdigest()})
            f.visititems(visit)
        print(json.dumps(out))
        """;

    internal static TensorEntry Tensor(string name, DType dtype, long[] shape, int seed = 1)
    {
        var s = new Shape(shape);
        var bytes = new byte[s.ElementCount * dtype.ItemSize()];
        var rng = new Random(seed);
        if (dtype == DType.Bool) for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)rng.Next(2);
        else if (dtype is DType.Float16 or DType.Float32 or DType.Float64)
            for (long i = 0; i < s.ElementCount; i++)
            {
                double v = rng.NextDouble() * 8 - 4;
                var span = bytes.AsSpan((int)(i * dtype.ItemSize()));
                if (dtype == DType.Float16) BitConverter.TryWriteBytes(span, (Half)v);
                else if (dtype == DType.Float32) BitConverter.TryWriteBytes(span, (float)v);
                else BitConverter.TryWriteBytes(span, v);
            }
        else rng.NextBytes(bytes);
        return new TensorEntry(name, dtype, s, new ArrayStorage(bytes, name));
    }

    // numpy's dtype string for what h5py reports (the .npy writer's table, which numpy itself checks in the npy interop tests).
    internal static string NumpyDType(DType d) =>
        WeightScope.Formats.NumPy.NpyHeaderWriter.Descr(d) ?? throw new ArgumentOutOfRangeException(nameof(d));

    internal static string Sha256(TensorEntry t) => Convert.ToHexStringLower(SHA256.HashData(t.ReadBytes()));

    private string WriteTree(string file, IEnumerable<(string Path, TensorEntry Tensor)> datasets, Action<H5Tree>? extra = null)
    {
        var tree = new H5Tree();
        foreach (var (p, t) in datasets) tree.AddDataset(p, t);
        extra?.Invoke(tree);
        string path = Path.Combine(_dir, file);
        using (var fs = File.Create(path)) H5FileWriter.Write(tree, fs, null);
        return path;
    }

    private static List<TensorEntry> EveryDType() =>
    [
        Tensor("f16", DType.Float16, [3, 5]), Tensor("f32", DType.Float32, [2, 3, 4]), Tensor("f64", DType.Float64, [7]),
        Tensor("i8", DType.Int8, [9]), Tensor("u8", DType.UInt8, [4, 2]), Tensor("i16", DType.Int16, [5]),
        Tensor("u16", DType.UInt16, [5]), Tensor("i32", DType.Int32, [6]), Tensor("u32", DType.UInt32, [1, 6]),
        Tensor("i64", DType.Int64, [3]), Tensor("u64", DType.UInt64, [3]), Tensor("flags", DType.Bool, [11]),
        Tensor("scalar", DType.Float32, []), Tensor("empty", DType.Float32, [0, 4]), Tensor("grp/sub/deep", DType.Float64, [2, 2]),
        Tensor("grp/café ünïcode", DType.Int32, [3]),
    ];

    private static void AssertSameTensors(IReadOnlyList<TensorEntry> expected, ModelFile m)
    {
        Assert.Equal(expected.Select(t => t.Name).Order(StringComparer.Ordinal), m.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var e in expected)
        {
            var a = m.Tensors[e.Name];
            Assert.Equal(e.DType, a.DType);
            Assert.Equal(e.Shape, a.Shape);
            Assert.Equal(e.ReadBytes(), a.ReadBytes());
        }
    }

    [Fact]
    public void Every_dtype_a_scalar_and_an_empty_tensor_read_back_equal()
    {
        var tensors = EveryDType();
        var path = WriteTree("all.h5", tensors.Select(t => (t.Name, t)));
        using var m = ModelFile.Open(path);
        Assert.Equal("hdf5", m.Format.Name);
        Assert.Equal("superblock v0", m.Format.Version);
        AssertSameTensors(tensors, m);
    }

    [Fact]
    public void Data_is_written_after_the_metadata_in_tensor_order_and_8_byte_aligned()
    {
        var a = Tensor("z", DType.UInt8, [3]);
        var b = Tensor("a", DType.Float32, [2]);
        var path = WriteTree("order.h5", [("z", a), ("a", b)]);
        var bytes = File.ReadAllBytes(path);
        // the last tensor's bytes end the file, the first's precede them at an 8-byte boundary
        Assert.Equal(b.ReadBytes(), bytes[^8..]);
        Assert.Equal(a.ReadBytes(), bytes[^16..^13]);
        Assert.Equal(0, (bytes.Length - 16) % 8);
        // superblock v0: end-of-file address = file length
        Assert.Equal((ulong)bytes.Length, BitConverter.ToUInt64(bytes, 40));
    }

    [PythonFact("h5py", "numpy")]
    public void Views_and_big_endian_tensors_are_written_row_major_little_endian()
    {
        var matrix = Tensor("m", DType.Float32, [3, 4]);
        var transposed = matrix.Transpose().With(name: "t");
        var be = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(be, 1);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(be.AsSpan(4), -2);
        var bigEndian = new TensorEntry("be", DType.Int32, new Shape(2), new ArrayStorage(be, "be"), bigEndian: true);
        var path = WriteTree("views.h5", [("t", transposed), ("be", bigEndian)]);
        using (var m = ModelFile.Open(path))
        {
            Assert.Equal(transposed.ToFloat32(), m.Tensors["t"].ToFloat32());
            Assert.Equal(new Shape(4, 3), m.Tensors["t"].Shape);
            Assert.Equal(new[] { 1, -2 }, m.Tensors["be"].ToArray<int>());
        }
        CheckH5py(path, new Dictionary<string, TensorEntry> { ["t"] = transposed, ["be"] = bigEndian });
    }

    [Fact]
    public void Progress_reports_every_tensor_byte()
    {
        var tensors = new[] { Tensor("a", DType.Float64, [1000]), Tensor("b", DType.Int8, [3]) };
        var tree = new H5Tree();
        foreach (var t in tensors) tree.AddDataset(t.Name, t);
        var reports = new List<long>();
        using var ms = new MemoryStream();
        H5FileWriter.Write(tree, ms, new SyncProgress(reports));
        Assert.Equal(8003, reports[^1]);
    }

    private sealed class SyncProgress(List<long> reports) : IProgress<long>
    {
        public void Report(long value) => reports.Add(value);
    }

    [Theory]
    [InlineData(200)] // 25 symbol table nodes under one B-tree node
    [InlineData(300)] // 38 symbol table nodes: two leaf B-tree nodes under a root
    public void A_group_with_many_children_reads_back_in_name_order(int count)
    {
        var tensors = Enumerable.Range(0, count).Select(i => Tensor($"d{i:D4}", DType.Float32, [i % 3 + 1], i)).ToList();
        var path = WriteTree($"wide{count}.h5", tensors.Select(t => ("wide/" + t.Name, t)));
        using var m = ModelFile.Open(path);
        Assert.Equal(tensors.Select(t => "wide/" + t.Name), m.Tensors.Select(t => t.Name));
        for (int i = 0; i < count; i++) Assert.Equal(tensors[i].ReadBytes(), m.Tensors[i].ReadBytes());
    }

    [PythonFact("h5py", "numpy")]
    public void H5py_reads_every_dtype_with_the_same_values()
    {
        var tensors = EveryDType();
        var path = WriteTree("all.h5", tensors.Select(t => (t.Name, t)));
        CheckH5py(path, tensors.ToDictionary(t => t.Name));
    }

    [PythonFact("h5py", "numpy")]
    public void H5py_reads_300_children_of_one_group()
    {
        var tensors = Enumerable.Range(0, 300).Select(i => Tensor($"n{i}", DType.Int16, [i % 5], i)).ToList();
        var path = WriteTree("wide.h5", tensors.Select(t => ("g/" + t.Name, t)));
        CheckH5py(path, tensors.ToDictionary(t => "g/" + t.Name));
    }

    [PythonFact("h5py", "numpy")]
    public void H5py_reads_string_attributes_as_numpy_bytes()
    {
        var path = WriteTree("attrs.h5", [("x/y", Tensor("y", DType.Float32, [2]))], tree =>
        {
            tree.Root.Attributes.Add(H5Attribute.StringArray("names", ["dense", "conv2d_1", "é"]));
            tree.Root.Attributes.Add(H5Attribute.ScalarString("backend", "tensorflow"));
            tree.Group("x").Attributes.Add(H5Attribute.StringArray("empty", []));
        });
        var output = Python.Run("""
            import h5py, json, sys
            with h5py.File(sys.argv[1], "r") as f:
                n = f.attrs["names"]; b = f.attrs["backend"]; e = f["x"].attrs["empty"]
                print(json.dumps({"names": [v.decode("utf8") for v in n], "names_dtype": n.dtype.str,
                                  "backend": b.decode("utf8"), "backend_type": type(b).__name__,
                                  "empty_dtype": e.dtype.str, "empty_shape": list(e.shape)}))
            """, path);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        Assert.Equal(["dense", "conv2d_1", "é"], r.GetProperty("names").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("|S8", r.GetProperty("names_dtype").GetString());
        Assert.Equal("tensorflow", r.GetProperty("backend").GetString());
        Assert.Equal("bytes_", r.GetProperty("backend_type").GetString());
        Assert.Equal("<f8", r.GetProperty("empty_dtype").GetString());
        Assert.Equal(0, r.GetProperty("empty_shape")[0].GetInt32());

        using var m = ModelFile.Open(path);
        Assert.Equal(new List<object?> { "dense", "conv2d_1", "é" }, m.Metadata["names"]);
        Assert.Equal("tensorflow", m.Metadata["backend"]);
    }

    [PythonFact("h5py", "numpy")]
    public void Libhdf5_can_modify_a_written_file_and_both_readers_see_the_result()
    {
        // Inserting into our B-trees, heaps and object headers exercises libhdf5's write paths over every structure
        // we wrote (node splits of a full 300-entry tree, a heap with no free space, a header with attributes).
        var tensors = Enumerable.Range(0, 300).Select(i => Tensor($"n{i:D3}", DType.Float32, [2], i)).ToList();
        var path = WriteTree("append.h5", tensors.Select(t => ("wide/" + t.Name, t)), tree =>
            tree.Root.Attributes.Add(H5Attribute.StringArray("layer_names", ["wide"])));
        var output = Python.Run("""
            import h5py, numpy as np, sys
            with h5py.File(sys.argv[1], "r+") as f:
                for i in range(100):
                    f["wide"].create_dataset("added%03d" % i, data=np.full(3, i, dtype="f4"))
                f.create_group("new/sub").create_dataset("x", data=np.arange(4, dtype="i8"))
                f.attrs["backend"] = np.bytes_(b"tensorflow")
            with h5py.File(sys.argv[1], "r") as f:
                names = []
                f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
                print(len(names), float(f["wide/n123"][1]), f.attrs["layer_names"][0].decode())
            """, path);
        Assert.Equal($"401 {((double)tensors[123].ToFloat32()[1]).ToString("R", System.Globalization.CultureInfo.InvariantCulture)} wide", output.Trim());
        using var m = ModelFile.Open(path);
        Assert.Equal(401, m.Tensors.Count);
        Assert.Equal(tensors[299].ReadBytes(), m.Tensors["wide/n299"].ReadBytes());
        Assert.Equal(new float[] { 99, 99, 99 }, m.Tensors["wide/added099"].ToFloat32());
    }

    internal static void CheckH5py(string path, IReadOnlyDictionary<string, TensorEntry> expected)
    {
        using var doc = JsonDocument.Parse(Python.Run(H5pyDatasets, path));
        var seen = new List<string>();
        foreach (var d in doc.RootElement.EnumerateArray())
        {
            string name = d.GetProperty("name").GetString()!;
            seen.Add(name);
            var t = expected[name];
            Assert.Equal(NumpyDType(t.DType), d.GetProperty("dtype").GetString());
            Assert.Equal(t.Shape.ToArray(), d.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray());
            Assert.True(Sha256(t) == d.GetProperty("sha256").GetString(), $"{name}: h5py's bytes differ");
        }
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
    }

    [WeightScope.Tests.Export.ToolFact("h5dump")]
    public void H5dump_reads_the_file_without_errors()
    {
        var tensors = EveryDType();
        var extra = Enumerable.Range(0, 300).Select(i => Tensor($"w{i}", DType.UInt8, [2], i)).ToList();
        var path = WriteTree("dump.h5", tensors.Select(t => (t.Name, t)).Concat(extra.Select(t => ("wide/" + t.Name, t))), tree =>
            tree.Root.Attributes.Add(H5Attribute.StringArray("layer_names", ["a", "bb"])));
        var (code, stdout, stderr) = Run("/usr/bin/h5dump", "-H", path);
        Assert.True(code == 0 && stderr.Length == 0, $"h5dump exited {code}: {stderr}");
        foreach (var t in tensors) Assert.Contains($"DATASET \"{t.Name[(t.Name.LastIndexOf('/') + 1)..]}\"", stdout);
        Assert.Contains("DATASET \"w299\"", stdout);
        Assert.Contains("ATTRIBUTE \"layer_names\"", stdout);
        // dataset properties as h5py's defaults give them: contiguous, late allocation, the library's default fill value
        (code, stdout, stderr) = Run("/usr/bin/h5dump", "-p", "-H", "-d", "/f32", path);
        Assert.True(code == 0 && stderr.Length == 0, $"h5dump exited {code}: {stderr}");
        Assert.Contains("CONTIGUOUS", stdout);
        Assert.Contains("H5D_ALLOC_TIME_LATE", stdout);
        Assert.Contains("VALUE  H5D_FILL_VALUE_DEFAULT", stdout);
        Assert.Contains("DATASPACE  SIMPLE { ( 2, 3, 4 ) / ( 2, 3, 4 ) }", stdout);
        // the data too: h5dump prints every value without complaint
        (code, _, stderr) = Run("/usr/bin/h5dump", path);
        Assert.True(code == 0 && stderr.Length == 0, $"h5dump exited {code}: {stderr}");
    }

    internal static (int Code, string Stdout, string Stderr) Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout, err.Result);
    }

    [Fact]
    public void A_path_that_is_both_a_group_and_a_dataset_is_refused()
    {
        var tree = new H5Tree();
        tree.AddDataset("a/b", Tensor("t1", DType.Float32, [1]));
        var e = Assert.Throws<ModelWriteException>(() => tree.AddDataset("a/b/c", Tensor("t2", DType.Float32, [1])));
        Assert.Contains("'a/b/c' needs 'b' to be a group, but it is a dataset", e.Message);
        Assert.Contains("tensor 't2'", e.Message);
        e = Assert.Throws<ModelWriteException>(() => tree.AddDataset("a/b", Tensor("t3", DType.Float32, [1])));
        Assert.Contains("two objects would be written at 'a/b' (tensor 't3')", e.Message);
        e = Assert.Throws<ModelWriteException>(() => tree.AddDataset("a//c", Tensor("t4", DType.Float32, [1])));
        Assert.Contains("'a//c' is not a valid HDF5 path", e.Message);
    }
}
