using WeightScope.Tensors;
using WeightScope.Tests.Writing;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Formats.TorchSharp;

/// <summary>The TorchSharp writer: the fixtures (TorchSharp's own byte layout) come back byte for byte; other sources round-trip.</summary>
public sealed class TorchSharpWriterTests
{
    [Theory]
    [InlineData("state_dict.dat")]
    [InlineData("tensor.dat")]
    public void Fixture_written_back_is_byte_identical(string name)
    {
        var path = TestPaths.Fixture("torchsharp", name);
        using var source = ModelFile.Open(path);
        using var dir = new TempDir();
        TensorWriters.Save(source.Tensors, dir.File(name), "torchsharp");
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(dir.File(name)));
    }

    [Theory]
    [InlineData("pytorch", "every_dtype.pt")]
    [InlineData("pytorch", "views_shared.pt")]
    [InlineData("pytorch", "resnet_tiny_state_dict.pth")]
    public void Torch_fixture_round_trips(string folder, string name)
    {
        using var source = ModelFile.Open(TestPaths.Fixture(folder, name));
        using var dir = new TempDir();
        var warnings = new List<string>();
        WriterKit.RoundTrip(source.Tensors, dir.File("out.dat"), "torchsharp", new WriteOptions { Warning = warnings.Add });
        using var back = ModelFile.Open(dir.File("out.dat"));
        Assert.Equal("torchsharp", back.Format.Name);
        Assert.Equal(name == "views_shared.pt", warnings.Count > 0);
    }

    [Fact]
    public void Big_endian_and_fortran_numpy_arrays_are_written_little_endian_row_major()
    {
        using var a = ModelFile.Open(TestPaths.Fixture("numpy", "complex128_big_endian_fortran.npy"));
        using var b = ModelFile.Open(TestPaths.Fixture("numpy", "int16_big_endian.npy"));
        var tensors = new[] { Rename(a.Tensors[0], "c"), Rename(b.Tensors[0], "i") };
        using var dir = new TempDir();
        WriterKit.RoundTrip(tensors, dir.File("x.dat"), "torchsharp");
    }

    [Theory]
    [InlineData(DType.UInt32, "uint32")]
    [InlineData(DType.Float8E5M2, "float8_e5m2")]
    [InlineData(DType.QUInt8, "quint8")]
    public void Dtypes_torchsharp_lacks_are_refused(DType dtype, string dtypeName)
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ModelWriteException>(() => TensorWriters.Save([WriterKit.Tensor("w", dtype, [2])], dir.File("x.dat")));
        Assert.Contains("'w'", e.Message);
        Assert.Contains(dtypeName, e.Message);
        Assert.Contains("--dtype float32", e.Message);
        Assert.False(File.Exists(dir.File("x.dat")));
    }

    [Fact]
    public void Unnamed_tensor_among_others_is_refused()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ModelWriteException>(() => TensorWriters.Save(
            [WriterKit.Tensor("", DType.Float32, [1]), WriterKit.Tensor("b", DType.Float32, [1])], dir.File("x.dat")));
        Assert.Contains("key ''", e.Message);
    }

    private static TensorEntry Rename(TensorEntry t, string name) =>
        new(name, t.DType, t.Shape, t.Storage, t.StorageOffset, [.. t.Strides], t.Role, t.IsBigEndian);
}
