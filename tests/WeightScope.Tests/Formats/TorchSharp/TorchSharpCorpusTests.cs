using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.TorchSharp;

/// <summary>
/// The corpus TorchSharp files (MANIFEST.md, torchsharp section): entries, dtypes and shapes as the manifest lists them;
/// the optimizer-state files against the options of the TorchSharp test script that wrote them and the relations one
/// optimizer step implies between their tensors. Other values have no independent source beyond what the writers imply
/// (BatchNorm's initial state), checked where they do.
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

    // TorchSharp's test/TorchSharpTest python script wrote these: seq = Sequential(lin1, lin2) of Linear(10, 10), one
    // backward pass and one optimizer step, then exportsd.save_<optimizer>. Its arguments are the expected options.

    [CorpusFact]
    public void Adam_state_has_the_script_options_and_first_step_moments()
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("torchsharp/TorchSharp-tests/adam1.dat"));
        Assert.Equal("optimizer", m.Format.Version);
        Assert.Equal("Adam", m.Metadata["optimizer"]);
        var groups = Assert.IsType<List<object?>>(m.Metadata["param_groups"]).Cast<OrderedDictionary<string, object?>>().ToList();
        // Adam(lin1.parameters(), lr=0.001, betas=(0.8, 0.9)); add_param_group(lr=0.01, betas=(0.7, 0.79), amsgrad=True)
        Assert.Equal([0.001, 0.01], groups.Select(g => (double)g["lr"]!));
        Assert.Equal([0.8, 0.7], groups.Select(g => (double)g["beta1"]!));
        Assert.Equal([0.9, 0.79], groups.Select(g => (double)g["beta2"]!));
        Assert.Equal([false, true], groups.Select(g => (bool)g["amsgrad"]!));
        // four parameters (weight, bias of each Linear), one step each; only the amsgrad group keeps max_exp_avg_sq
        Assert.Equal([1L, 1L, 1L, 1L], Enumerable.Range(0, 4).Select(i => (long)m.Metadata[$"state.{i}.step"]!));
        Assert.Equal(["state.2.max_exp_avg_sq", "state.3.max_exp_avg_sq"], m.Tensors.Select(t => t.Name).Where(n => n.EndsWith("max_exp_avg_sq", StringComparison.Ordinal)));
        Assert.All(m.Tensors, t => Assert.Equal(TensorRole.OptimizerState, t.Role));
        // After one step from zero, exp_avg = (1 − β1)·g and exp_avg_sq = (1 − β2)·g², so exp_avg_sq = (1 − β2)/(1 − β1)² · exp_avg².
        for (int i = 0; i < 4; i++)
        {
            double b1 = i < 2 ? 0.8 : 0.7, b2 = i < 2 ? 0.9 : 0.79, k = (1 - b2) / ((1 - b1) * (1 - b1));
            var avg = m.Tensors[$"state.{i}.exp_avg"].ToFloat64();
            var sq = m.Tensors[$"state.{i}.exp_avg_sq"].ToFloat64();
            Assert.Equal(new Shape(i % 2 == 0 ? [10, 10] : [10]), m.Tensors[$"state.{i}.exp_avg"].Shape);
            for (int j = 0; j < avg.Length; j++) Assert.Equal(k * avg[j] * avg[j], sq[j], 1e-6 + 1e-5 * sq[j]);
        }
        Assert.Equal(m.Tensors["state.2.exp_avg_sq"].ToFloat32(), m.Tensors["state.2.max_exp_avg_sq"].ToFloat32());
    }

    [CorpusFact]
    public void RmsProp_state_has_the_script_options_and_first_step_buffers()
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("torchsharp/TorchSharp-tests/rmsprop1.dat"));
        Assert.Equal("RMSProp", m.Metadata["optimizer"]);
        var groups = Assert.IsType<List<object?>>(m.Metadata["param_groups"]).Cast<OrderedDictionary<string, object?>>().ToList();
        // RMSprop(lin1.parameters(), lr=0.001, momentum=0.1); add_param_group(lr=0.01, momentum=0, centered=True)
        Assert.Equal([0.001, 0.01], groups.Select(g => (double)g["lr"]!));
        Assert.Equal([0.1, 0.0], groups.Select(g => (double)g["momentum"]!));
        Assert.Equal([false, true], groups.Select(g => (bool)g["centered"]!));
        Assert.Equal(["state.0.square_avg", "state.0.momentum_buffer", "state.1.square_avg", "state.1.momentum_buffer",
            "state.2.square_avg", "state.2.grad_avg", "state.3.square_avg", "state.3.grad_avg"], m.Tensors.Select(t => t.Name));
        // First step, group 0: square_avg = (1 − α)·g² and buf = g / (√square_avg + eps), so |buf| = 1/√(1 − α) = 10 for α = 0.99.
        var sq = m.Tensors["state.0.square_avg"].ToFloat64();
        var buf = m.Tensors["state.0.momentum_buffer"].ToFloat64();
        for (int j = 0; j < buf.Length; j++)
            if (sq[j] > 1e-6) Assert.Equal(10.0, Math.Abs(buf[j]), 1e-2);
    }

    [CorpusFact]
    public void Sgd_state_has_the_script_options()
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("torchsharp/TorchSharp-tests/sgd1.dat"));
        var group = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(Assert.IsType<List<object?>>(m.Metadata["param_groups"])));
        Assert.Equal(0.1, group["momentum"]);
        Assert.Equal(["state.0.momentum_buffer", "state.1.momentum_buffer"], m.Tensors.Select(t => t.Name));
        Assert.Equal(new Shape(10, 10), m.Tensors[0].Shape);
    }
}
