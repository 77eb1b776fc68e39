using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Writing;

/// <summary>Which writer a file name or a format name selects, for the writers of NumPy, PyTorch and TorchSharp.</summary>
public sealed class WriterRegistryTests
{
    [Theory]
    [InlineData("w.npy", "npy")]
    [InlineData("w.npz", "npz")]
    [InlineData("model.pt", "pt")]
    [InlineData("model.PTH", "pt")]
    [InlineData("module.dat", "torchsharp")]
    public void Ending_selects_the_writer(string path, string writer) => Assert.Equal(writer, TensorWriters.ForPath(path).Name);

    [Theory]
    [InlineData("npz-compressed")]
    [InlineData("torchsharp")]
    public void Name_selects_the_writer(string name) => Assert.Equal(name, TensorWriters.ByName(name).Name);

    [Fact]
    public void Bin_is_not_claimed_because_torch_and_torchsharp_both_use_it()
    {
        var e = Assert.Throws<ModelWriteException>(() => TensorWriters.ForPath("pytorch_model.bin"));
        Assert.Contains("--format", e.Message);
    }

    [Fact]
    public void Every_ending_belongs_to_one_writer()
    {
        var endings = TensorWriters.All.SelectMany(w => w.Extensions).ToList();
        Assert.Equal(endings.Count, endings.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }
}
