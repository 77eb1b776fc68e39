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
        foreach (var ext in new[] { "npz", "safetensors", "dat", "pt" })
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

    // What Keras's load_weights would read: the .weights.h5 positions hold, in Keras's layouts, what torch holds in the
    // .pt saved beside it (converted here in numpy, apart from the library).
    private const string KerasLayoutCheck = """
        import sys, h5py, numpy as np, torch
        sd = {k: v.numpy() for k, v in torch.load(sys.argv[1], weights_only=True).items()}
        f = h5py.File(sys.argv[2], 'r')
        h = lambda p: np.array(f[p])
        swap = lambda m: np.concatenate([m[len(m) // 3:2 * len(m) // 3], m[:len(m) // 3], m[2 * len(m) // 3:]])
        checks = {
            'layers/conv2d/vars/0': sd['conv.weight'].transpose(2, 3, 1, 0), 'layers/conv2d/vars/1': sd['conv.bias'],
            'layers/batch_normalization/vars/0': sd['bn.weight'], 'layers/batch_normalization/vars/1': sd['bn.bias'],
            'layers/batch_normalization/vars/2': sd['bn.running_mean'], 'layers/batch_normalization/vars/3': sd['bn.running_var'],
            'layers/lstm/cell/vars/0': sd['lstm.weight_ih_l0'].T, 'layers/lstm/cell/vars/1': sd['lstm.weight_hh_l0'].T,
            'layers/lstm/cell/vars/2': sd['lstm.bias_ih_l0'] + sd['lstm.bias_hh_l0'],
            'layers/gru/cell/vars/0': swap(sd['gru.weight_ih_l0']).T, 'layers/gru/cell/vars/1': swap(sd['gru.weight_hh_l0']).T,
            'layers/gru/cell/vars/2': np.stack([swap(sd['gru.bias_ih_l0']), swap(sd['gru.bias_hh_l0'])]),
            'layers/dense/vars/0': sd['fc.weight'].T, 'layers/dense/vars/1': sd['fc.bias'],
        }
        for path, expected in checks.items():
            got = h(path)
            assert got.shape == expected.shape, (path, got.shape, expected.shape)
            assert np.array_equal(got, expected.astype(np.float32)), path
        print(len(checks))
        """;

    [PythonFact("torch", "h5py")]
    public void Keras_layout_weights_h5_holds_what_keras_layers_hold()
    {
        using var model = new Bag(("conv", torch.nn.Conv2d(2, 4, 3)), ("bn", torch.nn.BatchNorm2d(4)), ("lstm", torch.nn.LSTM(3, 2)),
            ("gru", torch.nn.GRU(2, 3)), ("fc", torch.nn.Linear(3, 2)));
        using (torch.no_grad())
            foreach (var (_, b) in model.named_buffers()) if (b.is_floating_point()) b.uniform_(0.5, 1.5);
        var pt = Path.Combine(_dir.FullName, "m.pt");
        var h5 = Path.Combine(_dir.FullName, "m.weights.h5");
        model.SaveWeights(pt);
        model.SaveWeights(h5, new SaveOptions { KerasLayout = true });
        Assert.Equal("14", Python.Run(KerasLayoutCheck, pt, h5).Trim());

        // And back: the Keras-layout file loads into the same module (Keras layers paired in order).
        using var reloaded = new Bag(("conv", torch.nn.Conv2d(2, 4, 3)), ("bn", torch.nn.BatchNorm2d(4)), ("lstm", torch.nn.LSTM(3, 2)),
            ("gru", torch.nn.GRU(2, 3)), ("fc", torch.nn.Linear(3, 2)));
        var result = reloaded.LoadWeights(h5);
        Assert.True(result.IsComplete, result.DescribeProblems());
        var lstmSum = model.state_dict()["lstm.bias_ih_l0"] + model.state_dict()["lstm.bias_hh_l0"];
        Assert.True(lstmSum.allclose(reloaded.state_dict()["lstm.bias_ih_l0"]));
        foreach (var key in new[] { "conv.weight", "bn.running_var", "gru.weight_ih_l0", "gru.bias_hh_l0", "fc.weight" })
            Assert.True(model.state_dict()[key].eq(reloaded.state_dict()[key]).all().item<bool>(), key);
    }

    [Fact]
    public void Keras_layout_refuses_what_keras_has_no_layer_for()
    {
        using var model = new Bag(("rnn", torch.nn.LSTM(3, 2, numLayers: 2)));
        var e = Assert.Throws<NotSupportedException>(() => model.SaveWeights(Path.Combine(_dir.FullName, "x.weights.h5"), new SaveOptions { KerasLayout = true }));
        Assert.Contains("module 'rnn' (LSTM) is stacked or bidirectional", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir.FullName, "x.weights.h5")));
    }

    [Fact]
    public void Sharded_safetensors_load_from_the_index_or_its_folder()
    {
        using var model = Trained();
        using var live = model.AsModelFile();
        var shards = new[] { "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors" };
        ModelFile.Save(live.Tensors.Where(t => t.Name.StartsWith("fc1.", StringComparison.Ordinal)), Path.Combine(_dir.FullName, shards[0]));
        ModelFile.Save(live.Tensors.Where(t => t.Name.StartsWith("fc2.", StringComparison.Ordinal)), Path.Combine(_dir.FullName, shards[1]));
        var map = live.Tensors.ToDictionary(t => t.Name, t => t.Name.StartsWith("fc1.", StringComparison.Ordinal) ? shards[0] : shards[1]);
        var index = Path.Combine(_dir.FullName, "model.safetensors.index.json");
        File.WriteAllText(index, System.Text.Json.JsonSerializer.Serialize(new { metadata = new { total_size = live.Tensors.ByteSize }, weight_map = map }));
        foreach (var path in new[] { index, _dir.FullName })
        {
            using var reloaded = new SimpleNN(10, 5, 1);
            var result = reloaded.LoadWeights(path);
            Assert.True(result.IsComplete, result.DescribeProblems());
            Assert.Equal(Sums(model), Sums(reloaded));
        }
    }

    [Theory]
    [InlineData("m.weights.h5")]
    [InlineData("m.h5")]
    public void A_keras_file_in_torchs_layout_is_refused(string name)
    {
        // Keras reads such a file by position into its own layouts: a square Linear weight would come back transposed.
        using var model = Trained();
        var path = Path.Combine(_dir.FullName, name);
        var e = Assert.Throws<WeightScope.Writing.ModelWriteException>(() => model.SaveWeights(path));
        Assert.Contains("KerasLayout = true", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }
}
