using System.Text.Json;
using TorchSharp;
using WeightScope.Tensors;
using WeightScope.Writing;
using WeightScope.Tests;
using Xunit;
using static TorchSharp.torch;

namespace WeightScope.TorchSharp.Tests;

/// <summary>load_state_dict's contract (strict and not), name pairing, tied weights and dtype conversion.</summary>
public sealed class LoadOptionsTests
{
    private static string Pt(string name) => TestPaths.Fixture("pytorch", name);

    // torch's own values for a fixture (tests/fixtures/pytorch/*.expected.json, written by pytorch_fixtures.py).
    private static float[] Expected(string fixture, string tensor)
    {
        var json = JsonDocument.Parse(File.ReadAllText(Pt(Path.GetFileNameWithoutExtension(fixture) + ".expected.json")));
        var t = json.RootElement.GetProperty("tensors").EnumerateArray().First(e => e.GetProperty("name").GetString() == tensor);
        return t.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
    }

    private static float[] Values(Tensor t) => t.contiguous().data<float>().ToArray();

    [Fact]
    public void SimpleNN_from_torch_state_dict_holds_torchs_values()
    {
        using var model = new SimpleNN(10, 5, 1);
        var result = model.LoadWeights(Pt("simple_nn_state_dict.pth"));
        Assert.True(result.IsComplete);
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], result.Loaded.Select(l => l.Name));
        foreach (var (name, tensor) in model.state_dict())
            Assert.Equal(Expected("simple_nn_state_dict.pth", name), Values(tensor));
    }

    [Fact]
    public void Strict_lists_every_problem_and_copies_nothing()
    {
        using var model = new SimpleNN(10, 6, 1); // fc1 is 6×10 where the file's is 5×10
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => Values(kv.Value));
        var e = Assert.Throws<WeightLoadException>(() => model.LoadWeights(Pt("mymodel_state_dict.pt")));
        Assert.Contains("size mismatch for fc1.weight: copying a param with shape [50, 10]", e.Message, StringComparison.Ordinal);
        Assert.Contains("size mismatch for fc2.weight", e.Message, StringComparison.Ordinal);
        Assert.Equal(3, e.Result.ShapeMismatches.Count); // fc1.weight, fc1.bias, fc2.weight; fc2.bias [1] matches
        foreach (var (name, tensor) in model.state_dict()) Assert.Equal(before[name], Values(tensor));
    }

    [Fact]
    public void Not_strict_loads_what_matches_and_reports_the_rest()
    {
        using var model = new SimpleNN(10, 6, 1);
        var result = model.LoadWeights(Pt("mymodel_state_dict.pt"), new LoadOptions { Strict = false });
        Assert.Equal(["fc2.bias"], result.Loaded.Select(l => l.Name));
        Assert.Equal(Expected("mymodel_state_dict.pt", "fc2.bias"), Values(model.state_dict()["fc2.bias"]));
        Assert.False(result.IsComplete);
    }

    [Fact]
    public void Missing_and_unexpected_keys_are_named()
    {
        using var model = nn.Sequential(("fc1", nn.Linear(10, 5)), ("head", nn.Linear(5, 1)));
        var e = Assert.Throws<WeightLoadException>(() => model.LoadWeights(Pt("simple_nn_state_dict.pth")));
        Assert.Equal(["head.weight", "head.bias"], e.Result.MissingKeys);
        Assert.Equal(["fc2.weight", "fc2.bias"], e.Result.UnexpectedKeys);
        Assert.Contains("Missing key(s) in the file: \"head.weight\", \"head.bias\".", e.Message, StringComparison.Ordinal);
        Assert.Contains("Unexpected key(s) in the file: \"fc2.weight\", \"fc2.bias\".", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rename_rules_and_callback_pair_other_names()
    {
        using var model = nn.Sequential(("fc1", nn.Linear(10, 5)), ("head", nn.Linear(5, 1)));
        Assert.True(model.LoadWeights(Pt("simple_nn_state_dict.pth"), new LoadOptions { Rename = ["s/^fc2\\./head./"] }).IsComplete);
        Assert.Equal(Expected("simple_nn_state_dict.pth", "fc2.weight"), Values(model.state_dict()["head.weight"]));
        using var other = nn.Sequential(("fc1", nn.Linear(10, 5)), ("head", nn.Linear(5, 1)));
        var result = other.LoadWeights(Pt("simple_nn_state_dict.pth"), new LoadOptions { MapName = n => n.Replace("fc2", "head", StringComparison.Ordinal) });
        Assert.True(result.IsComplete);
        Assert.Equal(Expected("simple_nn_state_dict.pth", "fc2.bias"), Values(other.state_dict()["head.bias"]));
    }

    [Fact]
    public void DataParallel_prefix_and_checkpoint_nesting_are_found()
    {
        using var mymodel = nn.Sequential(("fc1", nn.Linear(10, 50)), ("fc2", nn.Linear(50, 1)));
        var dp = mymodel.LoadWeights(Pt("dataparallel_keys.pt"));
        Assert.True(dp.IsComplete, dp.DescribeProblems());
        Assert.Contains(dp.Warnings, w => w.Contains("'module.'", StringComparison.Ordinal));
        Assert.Equal(Expected("dataparallel_keys.pt", "module.fc1.bias"), Values(mymodel.state_dict()["fc1.bias"]));

        using var net = nn.Sequential(("fc1", nn.Linear(6, 8)), ("bn", nn.BatchNorm1d(8)), ("fc2", nn.Linear(8, 2)));
        var ckpt = net.LoadWeights(Pt("checkpoint.tar"));
        Assert.True(ckpt.IsComplete, ckpt.DescribeProblems());
        Assert.Contains(ckpt.Warnings, w => w.Contains("'model_state_dict.'", StringComparison.Ordinal));
        Assert.Contains(ckpt.Warnings, w => w.Contains("optimizer-state", StringComparison.Ordinal));
        Assert.Equal(Expected("checkpoint.tar", "model_state_dict.bn.running_var"), Values(net.state_dict()["bn.running_var"]));
    }

    [Fact]
    public void A_wrapped_module_pairs_without_its_prefix()
    {
        using var inner = new SimpleNN(10, 5, 1);
        using var wrapper = nn.Sequential(("model", inner));
        Assert.True(wrapper.LoadWeights(Pt("simple_nn_state_dict.pth")).IsComplete);
        Assert.Equal(Expected("simple_nn_state_dict.pth", "fc1.weight"), Values(wrapper.state_dict()["model.fc1.weight"]));
    }

    [Fact]
    public void Dtypes_convert_to_the_parameters_and_warn_when_precision_is_lost()
    {
        using var half = new SimpleNN(10, 5, 1);
        half.to(ScalarType.Float16);
        var result = half.LoadWeights(Pt("simple_nn_state_dict.pth"));
        Assert.All(result.Loaded, l => Assert.Equal("torch.float16", l.ModuleDType));
        Assert.Equal(4, result.Warnings.Count(w => w.Contains("rounded to torch.float16", StringComparison.Ordinal)));
        var expected = Expected("simple_nn_state_dict.pth", "fc1.weight").Select(v => (float)(Half)v).ToArray();
        Assert.Equal(expected, Values(half.state_dict()["fc1.weight"].to(ScalarType.Float32)));

        // float16 into float64 loses nothing: no warning.
        using var file = ModelFile.Open(Pt("simple_nn_state_dict.pth"));
        var asHalf = file.Tensors.Select(t => TensorCast.Cast(t, DType.Float16)).ToList();
        var dir = Directory.CreateTempSubdirectory("ws-ts-");
        try
        {
            var f16 = Path.Combine(dir.FullName, "half.safetensors");
            ModelFile.Save(asHalf, f16);
            using var wide = new SimpleNN(10, 5, 1);
            wide.to(ScalarType.Float64);
            var r = wide.LoadWeights(f16);
            Assert.Empty(r.Warnings);
            Assert.Equal(expected.Select(v => (double)v), wide.state_dict()["fc1.weight"].contiguous().data<double>().ToArray());
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Tied_weights_load_once_and_count_as_loaded()
    {
        using var model = nn.Sequential(("wte", nn.Embedding(4, 3)), ("lm_head", nn.Linear(3, 4, hasBias: false)));
        var lmHead = (global::TorchSharp.Modules.Linear)model.named_children().First(c => c.name == "lm_head").module;
        var wte = (global::TorchSharp.Modules.Embedding)model.named_children().First(c => c.name == "wte").module;
        lmHead.weight = wte.weight!; // tie, as GPT-2 does
        var dir = Directory.CreateTempSubdirectory("ws-ts-");
        try
        {
            // A file holding only wte.weight (safetensors drops a tied copy): lm_head.weight is not missing.
            using var source = nn.Embedding(4, 3);
            var path = Path.Combine(dir.FullName, "wte.safetensors");
            using (var live = source.AsModelFile())
                ModelFile.Save(live.Tensors.Select(t => t.With(name: "wte." + t.Name)), path);
            var result = model.LoadWeights(path);
            Assert.True(result.IsComplete, result.DescribeProblems());
            Assert.Contains(result.Warnings, w => w.StartsWith("lm_head.weight: tied", StringComparison.Ordinal));
            Assert.Equal(Values(source.weight!), Values(lmHead.weight!));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Two_prefixes_that_pair_equally_are_the_users_call()
    {
        using var file = ModelFile.Open(Pt("simple_nn_state_dict.pth"));
        var both = file.Tensors.Select(t => t.With(name: "model." + t.Name))
            .Concat(file.Tensors.Select(t => TensorEdits.Zeroed(t).With(name: "ema." + t.Name))).ToList();
        var dir = Directory.CreateTempSubdirectory("ws-ts-");
        try
        {
            var path = Path.Combine(dir.FullName, "ckpt.safetensors");
            ModelFile.Save(both, path);
            using var model = new SimpleNN(10, 5, 1);
            var e = Assert.Throws<WeightLoadException>(() => model.LoadWeights(path));
            Assert.Contains("Note: the file's names pair with the module's under two prefixes, 'ema.' and 'model.'", e.Message, StringComparison.Ordinal);
            // The user's call: the model's copy, and the EMA copy left out (a callback's null drops a name).
            var result = model.LoadWeights(path, new LoadOptions
            {
                Rename = ["s/^model\\.//"],
                MapName = n => n.StartsWith("ema.", StringComparison.Ordinal) ? null : n,
            });
            Assert.True(result.IsComplete, result.DescribeProblems());
            Assert.Equal(Expected("simple_nn_state_dict.pth", "fc1.weight"), Values(model.state_dict()["fc1.weight"]));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void A_tied_pair_with_different_values_in_the_file_loads_the_first_and_says_so()
    {
        using var model = nn.Sequential(("wte", nn.Embedding(4, 3)), ("lm_head", nn.Linear(3, 4, hasBias: false)));
        var lmHead = (global::TorchSharp.Modules.Linear)model.named_children().Last().module;
        lmHead.weight = ((global::TorchSharp.Modules.Embedding)model.named_children().First().module).weight!;
        var dir = Directory.CreateTempSubdirectory("ws-ts-");
        try
        {
            // Fine-tuned untied, then loaded into a tied module: two different tensors for one Parameter.
            using var untied = nn.Sequential(("wte", nn.Embedding(4, 3)), ("lm_head", nn.Linear(3, 4, hasBias: false)));
            var path = Path.Combine(dir.FullName, "untied.safetensors");
            untied.SaveWeights(path);
            var result = model.LoadWeights(path);
            Assert.Contains(result.Warnings, w => w.StartsWith("lm_head.weight is tied to wte.weight", StringComparison.Ordinal));
            Assert.Equal(Values(untied.state_dict()["wte.weight"]), Values(lmHead.weight!));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void A_batchnorm_counter_the_file_lacks_is_kept_with_a_note()
    {
        using var source = nn.Sequential(("bn", nn.BatchNorm1d(3)));
        using var live = source.AsModelFile();
        var dir = Directory.CreateTempSubdirectory("ws-ts-");
        try
        {
            var path = Path.Combine(dir.FullName, "old.safetensors"); // as torch < 0.4.1 saved it: no num_batches_tracked
            ModelFile.Save(live.Tensors.Where(t => !t.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal)), path);
            using var model = nn.Sequential(("bn", nn.BatchNorm1d(3)));
            var result = model.LoadWeights(path);
            Assert.True(result.IsComplete, result.DescribeProblems());
            Assert.Contains(result.Warnings, w => w.StartsWith("bn.num_batches_tracked: not in the file", StringComparison.Ordinal));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Integer_widening_is_exact_and_float_narrowing_is_not()
    {
        Assert.True(TorchDTypes.IsExact(DType.Int32, ScalarType.Int64));
        Assert.True(TorchDTypes.IsExact(DType.UInt8, ScalarType.Int16));
        Assert.True(TorchDTypes.IsExact(DType.Bool, ScalarType.Int8));
        Assert.False(TorchDTypes.IsExact(DType.Int64, ScalarType.Int32));
        Assert.False(TorchDTypes.IsExact(DType.UInt64, ScalarType.Int64));
        Assert.False(TorchDTypes.IsExact(DType.Float32, ScalarType.Int64));
        Assert.True(TorchDTypes.IsExact(DType.BFloat16, ScalarType.Float32));
        Assert.False(TorchDTypes.IsExact(DType.BFloat16, ScalarType.Float16));
        Assert.False(TorchDTypes.IsExact(DType.Int32, ScalarType.Float32));
        Assert.True(TorchDTypes.IsExact(DType.Int16, ScalarType.Float32));
    }

    [Fact]
    public void Two_wrapped_copies_of_the_files_network_are_the_users_call()
    {
        // The module holds the network twice (student and teacher); the file once: which copy it is for is not guessed.
        using var model = new Bag(("student", new SimpleNN(10, 5, 1)), ("teacher", new SimpleNN(10, 5, 1)));
        var e = Assert.Throws<WeightLoadException>(() => model.LoadWeights(Pt("simple_nn_state_dict.pth")));
        Assert.Contains("Note: the module's names pair with the file's without either of two prefixes, 'student.' and 'teacher.'", e.Message, StringComparison.Ordinal);
        var result = model.LoadWeights(Pt("simple_nn_state_dict.pth"), new LoadOptions { Strict = false, MapName = n => "teacher." + n });
        Assert.Equal(4, result.Loaded.Count);
        Assert.Equal(Expected("simple_nn_state_dict.pth", "fc1.weight"), Values(model.state_dict()["teacher.fc1.weight"]));
    }
}
