using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.TorchSharp;

/// <summary>
/// The corpus TorchSharp files (MANIFEST.md, torchsharp section): entries, dtypes and shapes as the manifest lists them;
/// the optimizer-state files are recognised and refused by name. Values have no independent source here beyond
/// what the files' writers imply (BatchNorm initial state, a single-step num_batches_tracked), checked where they do.
/// </summary>
public sealed class TorchSharpCorpusTests
{
    [CorpusFact]
    public void Bug510_state_dict_matches_the_manifest()
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("torchsharp/TorchSharp-tests/bug510.dat"));
        Assert.Equal("state_dict", m.Format.Version);
        Assert.Equal(["stack.0.weight", "stack.1.weight", "stack.1.bias", "stack.1.running_mean", "stack.1.running_var", "stack.1.num_batches_tracked"],
            m.Tensors.Select(t => t.Name));
        Assert.Equal(new Shape(32, 1, 3), m.Tensors["stack.0.weight"].Shape);
        Assert.All(m.Tensors.Take(5), t => Assert.Equal(DType.Float32, t.DType));
        var tracked = m.Tensors["stack.1.num_batches_tracked"];
        Assert.Equal(DType.Int64, tracked.DType);
        Assert.Equal(Shape.Scalar, tracked.Shape);
        // BatchNorm1d(32) as constructed: weight ones, bias zeros, running_mean zeros, running_var ones (bug510.py saves it untrained).
        Assert.All(m.Tensors["stack.1.weight"].ToFloat32(), v => Assert.Equal(1f, v));
        Assert.All(m.Tensors["stack.1.running_var"].ToFloat32(), v => Assert.Equal(1f, v));
        Assert.All(m.Tensors["stack.1.running_mean"].ToFloat32(), v => Assert.Equal(0f, v));
        Assert.Equal(0L, tracked.ToArray<long>()[0]);
    }

    [CorpusFact]
    public void Single_tensor_2345()
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("torchsharp/TorchSharp-tests/tensor2345.dat"));
        var t = Assert.Single(m.Tensors);
        Assert.Equal(DType.Float32, t.DType);
        Assert.Equal(new Shape(2, 3, 4, 5), t.Shape);
        Assert.All(t.ToFloat32(), v => Assert.InRange(v, 0f, 1f)); // written from torch.rand: uniform in [0, 1)
    }

    [CorpusFact]
    public void Bm25_module_saved_by_torchsharp()
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("torchsharp/harugumo-bm25/bm_torchsharp.bin"));
        Assert.Equal(["Bm", "Idf"], m.Tensors.Select(t => t.Name));
        Assert.Equal(new Shape(10, 10), m.Tensors["Bm"].Shape);
        Assert.Equal(new Shape(10), m.Tensors["Idf"].Shape);
        Assert.Equal(455, new FileInfo(m.Path!).Length);
    }

    [CorpusTheory]
    [InlineData("torchsharp/TorchSharp-tests/adam1.dat", "Adam")]
    [InlineData("torchsharp/TorchSharp-tests/sgd1.dat", "SGD")]
    [InlineData("torchsharp/TorchSharp-tests/rmsprop1.dat", "RMSProp")]
    public void Optimizer_state_is_recognised_and_refused(string path, string optimizer)
    {
        var e = Assert.Throws<UnsupportedModelFeatureException>(() => ModelFile.Open(TestPaths.CorpusFile(path)));
        Assert.Equal("torchsharp", e.Format);
        Assert.Contains($"optimizer state ({optimizer}", e.Message);
    }
}
