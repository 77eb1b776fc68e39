using System.IO.Compression;
using WeightScope.Tensors;
using WeightScope.Tests.Interop;
using WeightScope.Tests.Writing;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Formats.NumPy;

/// <summary>The .npz writer (stored, and deflated as np.savez_compressed): round trips, and numpy's np.load and zipfile reading it.</summary>
public sealed class NpzWriterTests
{
    [Theory]
    [InlineData("savez.npz")]
    [InlineData("savez_compressed.npz")]
    [InlineData("savez_compressed_mixed.npz")]
    [InlineData("savez_mixed.npz")]
    [InlineData("savez_empty.npz")]
    public void Fixture_round_trips(string name)
    {
        using var source = ModelFile.Open(TestPaths.Fixture("numpy", name));
        using var dir = new TempDir();
        WriterKit.RoundTrip(source.Tensors, dir.File("s.npz"), "npz");
        WriterKit.RoundTrip(source.Tensors, dir.File("c.npz"), "npz-compressed");
    }

    [Theory]
    [InlineData(false, ZipMethodStored)]
    [InlineData(true, ZipMethodDeflate)]
    public void Compress_option_chooses_deflate(bool compress, int method)
    {
        using var source = ModelFile.Open(TestPaths.Fixture("pytorch", "resnet_tiny_state_dict.pth"));
        using var dir = new TempDir();
        var path = dir.File("x.npz");
        WriterKit.RoundTrip(source.Tensors, path, "npz", new WriteOptions { Compress = compress });
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(method, BitConverter.ToUInt16(bytes, 8)); // the first local header's compression method
        using var zip = ZipFile.OpenRead(path);
        Assert.Equal(source.Tensors.Select(t => t.Name + ".npy"), zip.Entries.Select(e => e.FullName));
        Assert.Equal(compress, zip.Entries.Sum(e => e.CompressedLength) < zip.Entries.Sum(e => e.Length));
    }

    private const int ZipMethodStored = 0, ZipMethodDeflate = 8;

    [Fact]
    public void Tied_weights_are_copied_with_a_warning_or_refused()
    {
        using var source = ModelFile.Open(TestPaths.Fixture("pytorch", "views_shared.pt"));
        using var dir = new TempDir();
        var warnings = new List<string>();
        WriterKit.RoundTrip(source.Tensors, dir.File("a.npz"), "npz", new WriteOptions { Warning = warnings.Add });
        Assert.Contains(warnings, w => w.Contains("tied_a", StringComparison.Ordinal));
        var e = Assert.Throws<ModelWriteException>(() => TensorWriters.Save(source.Tensors, dir.File("b.npz"),
            options: new WriteOptions { SharedStorage = SharedStoragePolicy.Refuse }));
        Assert.Contains("tied_a", e.Message);
        Assert.False(File.Exists(dir.File("b.npz")));
    }

    [Fact]
    public void Bfloat16_is_refused_naming_the_tensor()
    {
        using var source = ModelFile.Open(TestPaths.Fixture("pytorch", "every_dtype.pt"));
        using var dir = new TempDir();
        var e = Assert.Throws<ModelWriteException>(() => TensorWriters.Save(source.Tensors, dir.File("x.npz")));
        Assert.Contains("'bfloat16' (bfloat16)", e.Message);
        Assert.Contains("--dtype float32", e.Message);
    }

    [Fact]
    public void More_than_65535_members_get_zip64_end_records()
    {
        var tensors = Enumerable.Range(0, 70_000).Select(i => WriterKit.Tensor($"t{i}", DType.Int32, [], BitConverter.GetBytes(i))).ToList();
        using var dir = new TempDir();
        var path = dir.File("many.npz");
        WriterKit.RoundTrip(tensors, path, "npz");
        var bytes = File.ReadAllBytes(path);
        // The end of central directory record (last 22 bytes) says 0xFFFF entries and defers to the zip64 record.
        Assert.Equal(0x06054b50u, BitConverter.ToUInt32(bytes, bytes.Length - 22));
        Assert.Equal(0xFFFF, BitConverter.ToUInt16(bytes, bytes.Length - 22 + 10));
        Assert.Equal(0x07064b50u, BitConverter.ToUInt32(bytes, bytes.Length - 22 - 20));
        if (Python.Has("numpy"))
        {
            var output = Python.Run("import sys, numpy as np; f = np.load(sys.argv[1]); print(len(f.files), int(f['t69999']))", path);
            Assert.Equal("70000 69999", output.Trim());
        }
    }

    [PythonTheory("numpy")]
    [InlineData(false)]
    [InlineData(true)]
    public void Numpy_loads_what_we_wrote_with_the_source_values(bool compress)
    {
        using var every = ModelFile.Open(TestPaths.Fixture("pytorch", "every_dtype.pt"));
        using var views = ModelFile.Open(TestPaths.Fixture("pytorch", "views_shared.pt"));
        using var big = ModelFile.Open(TestPaths.Fixture("numpy", "complex128_big_endian_fortran.npy"));
        var b = big.Tensors[0];
        var tensors = every.Tensors.Where(t => t.DType != DType.BFloat16).Concat(views.Tensors)
            .Append(new TensorEntry("big_endian_fortran", b.DType, b.Shape, b.Storage, b.StorageOffset, [.. b.Strides], b.Role, b.IsBigEndian))
            .Append(WriterKit.Tensor("naïve/ünïcode キー", DType.Float16, [2], [0x00, 0x3c, 0x00, 0xc0]))
            .ToList();
        using var dir = new TempDir();
        var path = dir.File("x.npz");
        TensorWriters.Save(tensors, path, options: new WriteOptions { Compress = compress });
        var root = WriterKit.AssertPythonSees(Python.Run(NumPyScripts.LoadAndResave, path), tensors);
        Assert.Equal(compress ? 8 : 0, root.GetProperty("float32").GetProperty("zip")[0].GetInt32());
    }
}
