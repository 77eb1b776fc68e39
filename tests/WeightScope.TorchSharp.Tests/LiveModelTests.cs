using TorchSharp;
using WeightScope.Analysis;
using WeightScope.Export;
using WeightScope.Modules;
using WeightScope.Printing;
using WeightScope.Tensors;
using WeightScope.Tests;
using Xunit;
using static TorchSharp.torch;

namespace WeightScope.TorchSharp.Tests;

/// <summary>A live module seen as a file: the same names, shapes, roles, tree and values the saved file gives.</summary>
public sealed class LiveModelTests
{
    private static string Pt(string name) => TestPaths.Fixture("pytorch", name);

    [Fact]
    public void A_live_module_reads_as_the_file_it_was_loaded_from()
    {
        using var model = new SimpleNN(10, 5, 1);
        model.LoadWeights(Pt("simple_nn_state_dict.pth"));
        using var live = model.AsModelFile();
        using var file = ModelFile.Open(Pt("simple_nn_state_dict.pth"));
        Assert.Equal(file.Tensors.Select(t => (t.Name, t.DType, t.Shape)), live.Tensors.Select(t => (t.Name, t.DType, t.Shape)));
        Assert.All(live.Tensors, t => Assert.Equal(TensorRole.Parameter, t.Role));
        foreach (var t in file.Tensors)
        {
            Assert.Equal(t.ReadBytes(), live.Tensors[t.Name].ReadBytes());
            // print(model.fc1.weight) as torch prints it: the formatter sees a live tensor as it sees the file's.
            Assert.Equal(TensorFormatter.Format(t), TensorFormatter.Format(live.Tensors[t.Name]));
        }
        Assert.Equal(Stats.Compute(file.Tensors).Overall, Stats.Compute(live.Tensors).Overall);
        Assert.True(Diff.Compare(file, live).Identical);
    }

    [Fact]
    public void The_tree_has_torch_nn_type_names_and_roles()
    {
        using var model = new Bag(("conv", nn.Conv2d(1, 2, 3)), ("bn", nn.BatchNorm2d(2)), ("rnn", nn.GRU(4, 3)), ("fc", nn.Linear(3, 1)));
        ((global::TorchSharp.Modules.Linear)model.named_children().Last().module).weight!.requires_grad = false;
        using var live = model.AsModelFile();
        Assert.Equal("Bag", live.Modules.Type);
        Assert.Equal(["Conv2d", "BatchNorm2d", "GRU", "Linear"], live.Modules.Children.Select(c => c.Type));
        Assert.Equal("torch.nn.modules.linear.Linear", live.Modules.Children[3].QualifiedType);
        Assert.Equal(TensorRole.Buffer, live.Tensors["bn.running_mean"].Role);
        Assert.Equal(TensorRole.Buffer, live.Tensors["fc.weight"].Role); // frozen: non-trainable
        Assert.Equal(TensorRole.Parameter, live.Tensors["fc.bias"].Role);
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"], live.Modules.Children[2].Parameters.Keys);
        Assert.Single(live.Modules.Descendants(), n => ModuleTypeName.Parse("torch.nn.Linear").Matches(n));
        // GateSplit reads the live GRU's gates as it reads a file's.
        var split = GateSplit.Run(live, new GateSplitOptions());
        var ih = split.Split.Single(s => s.Source == "rnn.weight_ih_l0");
        Assert.Equal(["rnn.weight_ir_l0", "rnn.weight_iz_l0", "rnn.weight_in_l0"], ih.Outputs);
    }

    [Fact]
    public void Values_are_read_when_asked_so_a_view_follows_training()
    {
        using var model = new SimpleNN(10, 5, 1);
        using var live = model.AsModelFile();
        using (torch.no_grad())
            foreach (var p in model.parameters()) p.zero_();
        Assert.All(live.Tensors, t => Assert.All(t.ToFloat32(), v => Assert.Equal(0f, v)));
    }

    [Fact]
    public void Tied_weights_share_one_storage()
    {
        using var model = nn.Sequential(("wte", nn.Embedding(4, 3)), ("lm_head", nn.Linear(3, 4, hasBias: false)));
        var lmHead = (global::TorchSharp.Modules.Linear)model.named_children().Last().module;
        lmHead.weight = ((global::TorchSharp.Modules.Embedding)model.named_children().First().module).weight!;
        using var live = model.AsModelFile();
        Assert.Same(live.Tensors["wte.weight"].Storage, live.Tensors["lm_head.weight"].Storage);
        Assert.Equal(12, live.Tensors.ParameterCount);
    }

    private sealed class WithView : nn.Module
    {
        public WithView() : base(nameof(WithView)) => register_buffer("t", torch.arange(6, dtype: ScalarType.Int64).reshape(2, 3).t());
    }

    [Fact]
    public void A_tensor_laid_out_with_gaps_reads_in_its_logical_order()
    {
        using var model = new WithView(); // a transposed view: strides (1, 3), not contiguous
        using var live = model.AsModelFile();
        Assert.Equal(new Shape(3, 2), live.Tensors["t"].Shape);
        Assert.Equal([0L, 3, 1, 4, 2, 5], live.Tensors["t"].ToArray<long>());
    }
}
