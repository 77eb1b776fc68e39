using System.Globalization;
using TorchSharp;
using WeightScope.Tests;
using WeightScope.Tests.Interop;
using Xunit;

namespace WeightScope.TorchSharp.Tests;

/// <summary>A live module saved to each writable format reads back in the framework that owns the format.</summary>
public sealed class SaveWeightsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("ws-ts-save-");

    public void Dispose() => _dir.Delete(true);

    private static SimpleNN Trained()
    {
        var model = new SimpleNN(10, 5, 1);
        model.LoadWeights(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth"));
        return model;
    }

    private static string Sums(torch.nn.Module m) => string.Join("\n", m.state_dict().Select(kv =>
        $"{kv.Key} {kv.Value.to(torch.ScalarType.Float64).sum().item<double>().ToString("R", CultureInfo.InvariantCulture)}"));

    [PythonFact("torch")]
    public void Pt_loads_with_weights_only_into_the_equivalent_torch_module()
    {
        using var model = Trained();
        var path = Path.Combine(_dir.FullName, "simple_nn_model.pth");
        model.SaveWeights(path);
        var torchSums = Python.Run("""
            import sys, torch
            class SimpleNN(torch.nn.Module):
                def __init__(self):
                    super().__init__(); self.fc1 = torch.nn.Linear(10, 5); self.fc2 = torch.nn.Linear(5, 1)
            m = SimpleNN(); m.load_state_dict(torch.load(sys.argv[1], weights_only=True))
            for k, v in m.state_dict().items(): print(k, repr(float(v.double().sum())))
            """, path);
        Assert.Equal(Sums(model), torchSums.TrimEnd('\n'));
    }

    [PythonFact("numpy")]
    public void Npz_and_safetensors_hold_the_same_values()
    {
        using var model = Trained();
        foreach (var ext in new[] { "npz", "safetensors", "dat" })
        {
            var path = Path.Combine(_dir.FullName, "m." + ext);
            model.SaveWeights(path);
            using var reloaded = new SimpleNN(10, 5, 1);
            Assert.True(reloaded.LoadWeights(path).IsComplete);
            Assert.Equal(Sums(model), Sums(reloaded));
        }
        var npz = Python.Run("import sys, numpy as np\nz = np.load(sys.argv[1])\nfor k in z.files: print(k, repr(float(z[k].astype('float64').sum())))",
            Path.Combine(_dir.FullName, "m.npz"));
        Assert.Equal(Sums(model), npz.TrimEnd('\n'));
    }

    [Fact]
    public void Dat_loads_with_TorchSharps_own_reader()
    {
        using var model = Trained();
        var path = Path.Combine(_dir.FullName, "m.dat");
        model.SaveWeights(path);
        using var reloaded = new SimpleNN(10, 5, 1);
        reloaded.load(path); // TorchSharp's Module.load
        Assert.Equal(Sums(model), Sums(reloaded));
    }
}
