using WeightScope.Tensors;
using WeightScope.Tests.Interop;
using WeightScope.Tests.Writing;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Formats.NumPy;

/// <summary>The .npy writer: numpy's own files (the fixtures, written by np.save) come back byte for byte; numpy reads what it writes.</summary>
public sealed class NpyWriterTests
{
    // Every little-endian fixture of a dtype WeightScope reads, C or Fortran order: np.save's bytes exactly.
    public static TheoryData<string> NumpyWritten => new()
    {
        "bool.npy", "complex128.npy", "complex64.npy", "empty_0x3.npy", "float16.npy", "float32.npy", "float32_fortran.npy",
        "float64.npy", "float64_big_endian_fortran.npy", "int16.npy", "int32.npy", "int64.npy", "int64_fortran_3d.npy",
        "int8.npy", "random_64x64.npy", "scalar_float64.npy", "scalar_int32.npy", "uint16.npy", "uint32.npy", "uint64.npy", "uint8.npy",
    };

    [Theory]
    [MemberData(nameof(NumpyWritten))]
    public void Fixture_written_back_is_what_np_save_wrote(string name)
    {
        var path = TestPaths.Fixture("numpy", name);
        using var source = ModelFile.Open(path);
        using var dir = new TempDir();
        TensorWriters.Save(source.Tensors, dir.File(name));
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(dir.File(name)));
    }

    [Theory]
    [InlineData("float32_big_endian.npy")]
    [InlineData("complex128_big_endian_fortran.npy")]
    [InlineData("uint64_big_endian.npy")]
    [InlineData("version_2_0.npy")]
    [InlineData("version_3_0.npy")]
    public void Other_fixtures_round_trip_as_little_endian(string name)
    {
        using var source = ModelFile.Open(TestPaths.Fixture("numpy", name));
        using var dir = new TempDir();
        // An .npy has no name inside: the reader names the array after the file, so the copy keeps the file name.
        WriterKit.RoundTrip(source.Tensors, dir.File(name), "npy");
        using var back = ModelFile.Open(dir.File(name));
        Assert.False(back.Tensors[0].IsBigEndian);
    }

    [Fact]
    public void A_long_header_switches_to_version_2_as_numpy_does()
    {
        // np.save uses version 2.0 when the header outgrows 1.0's 2-byte length; 22000 dimensions of 1 ("1, " each) do.
        var shape = Enumerable.Repeat(1L, 22000).ToArray();
        var t = WriterKit.Tensor("x", DType.Float32, shape);
        using var ms = new MemoryStream();
        new WeightScope.Formats.NumPy.NpyWriter().Write([t], ms, WriteOptions.Default);
        var bytes = ms.ToArray();
        Assert.Equal(2, bytes[6]);
        Assert.Equal(0L, (12L + BitConverter.ToUInt32(bytes, 8)) % 64);
    }

    [Fact]
    public void Two_tensors_are_refused_with_a_pointer_to_npz()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ModelWriteException>(() => TensorWriters.Save(
            [WriterKit.Tensor("a", DType.Float32, [1]), WriterKit.Tensor("b", DType.Float32, [1])], dir.File("x.npy")));
        Assert.Contains("2 tensors", e.Message);
        Assert.Contains("npz", e.Message);
        Assert.False(File.Exists(dir.File("x.npy")));
    }

    [Theory]
    [InlineData(DType.BFloat16, "bfloat16")]
    [InlineData(DType.Float8E4M3FN, "float8_e4m3fn")]
    [InlineData(DType.QInt8, "qint8")]
    public void Dtypes_numpy_lacks_are_refused(DType dtype, string dtypeName)
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ModelWriteException>(() => TensorWriters.Save([WriterKit.Tensor("w", dtype, [2])], dir.File("x.npy")));
        Assert.Contains("'w'", e.Message);
        Assert.Contains(dtypeName, e.Message);
        Assert.Contains("--dtype float32", e.Message);
    }

    [PythonFact("numpy")]
    public void Numpy_reads_torch_tensors_and_resaves_them_to_the_same_bytes()
    {
        using var source = ModelFile.Open(TestPaths.Fixture("pytorch", "views_shared.pt"));
        using var every = ModelFile.Open(TestPaths.Fixture("pytorch", "every_dtype.pt"));
        using var dir = new TempDir();
        foreach (var t in source.Tensors.Concat(every.Tensors.Where(t => t.DType != DType.BFloat16)))
        {
            var path = dir.File(t.Name + ".npy");
            TensorWriters.Save([t], path);
            // np.load, then np.save of what it loaded: numpy writes the same file (header, order, padding), and the values are the source's.
            var json = Python.Run(NumPyScripts.LoadAndResave, path);
            WriterKit.AssertPythonSees(json.Replace("\"\":", $"\"{t.Name}\":", StringComparison.Ordinal), [t]);
        }
    }
}

/// <summary>The python side of the NumPy writer tests.</summary>
internal static class NumPyScripts
{
    /// <summary>np.load the file (npy or npz); print name → dtype, shape, sha256 of the little-endian C-order bytes; fail unless np.save of each array reproduces an .npy byte for byte.</summary>
    public const string LoadAndResave = """
        import sys, json, hashlib, io, zipfile, numpy as np
        path = sys.argv[1]
        f = np.load(path)
        items = [(k, f[k]) for k in f.files] if hasattr(f, "files") else [("", f)]
        if hasattr(f, "files"):
            z = zipfile.ZipFile(path)
            assert z.testzip() is None, "bad CRC"
            raw = {i.filename[:-4]: z.read(i.filename) for i in z.infolist()}
            kinds = sorted({i.compress_type for i in z.infolist()})
        else:
            raw = {"": open(path, "rb").read()}
            kinds = []
        out = {}
        for k, a in items:
            b = io.BytesIO()
            np.save(b, a)
            assert b.getvalue() == raw[k], f"np.save writes {k} differently"
            le = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"))
            out[k] = {"dtype": a.dtype.name, "shape": list(a.shape), "sha256": hashlib.sha256(le.tobytes()).hexdigest(), "zip": kinds}
        print(json.dumps(out))
        """;
}
