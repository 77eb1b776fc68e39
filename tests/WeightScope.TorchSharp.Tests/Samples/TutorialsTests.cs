using System.Globalization;
using System.Text.Json;
using WeightScope.Tests;
using WeightScope.Tests.Interop;
using Xunit;

namespace WeightScope.TorchSharp.Tests.Samples;

/// <summary>
/// <c>samples/csharp/Tutorials</c>, verb by verb, against torch: its answers committed by
/// tests/fixtures/generate/torchsharp_tutorials.py, or torch run live on what the sample wrote.
/// </summary>
[Collection(TorchSharpSamplesCollection.Name)]
public sealed class TutorialsTests(TorchSharpSamplesBuild samples) : IDisposable
{
    private const string Sample = "Tutorials";
    private static JsonElement Answers => TorchSharpSamplesBuild.Answers;
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-tutorials-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string[] Lines(string text) => TorchSharpSamplesBuild.Lines(text);

    // ---- train: SimpleNN trained, printed torch- and numpy-style, saved ----------------------------------------------

    [Fact]
    public void Train_saves_the_four_parameters_it_printed()
    {
        var lines = Lines(samples.RunOk(Sample, "train", _dir));
        string saved = Path.Combine(_dir, "simple_nn_model.pth");
        Assert.Equal($"saved {saved}", lines[^1]);
        using var model = ModelFile.Open(saved);
        Assert.Equal(["fc1.weight [5, 10]", "fc1.bias [5]", "fc2.weight [1, 5]", "fc2.bias [1]"], model.Tensors.Select(t => $"{t.Name} {t.Shape}"));
        Assert.Equal(2, lines.Count(l => l == "fc1.weight torch.Size([5, 10])"));   // once per loop
    }

    [PythonFact("torch")]
    public void Train_prints_what_torch_and_numpy_print_for_the_saved_parameters()
    {
        var output = samples.RunOk(Sample, "train", _dir);
        // torch.load of the sample's file; each tensor as the Parameter named_parameters() yields (print(param) says
        // "Parameter containing:" and requires_grad=True), then the numpy loop.
        var torch = Python.Run("""
            import sys, torch
            sd = torch.load(sys.argv[1], weights_only=True)   # a plain state dict: torch's safe loader accepts it
            params = {k: torch.nn.Parameter(v) for k, v in sd.items()}
            for name, param in params.items():
                print(name, param.shape)
                print(param)
            for name, param in params.items():
                print(name, param.shape)
                print(param.detach().numpy())
            """, Path.Combine(_dir, "simple_nn_model.pth"));
        Assert.Equal(torch, string.Join('\n', Lines(output)[..^1]) + "\n");
    }

    [Fact]
    public void Train_trains_the_weights_python_torch_trains()
    {
        // Same seed, same draws (libtorch's generator), same initialisation, batches and updates as the Python tutorial
        // run by torch 1.13; TorchSharp's newer libtorch may round a kernel differently (a few float32 ulps measured).
        samples.RunOk(Sample, "train", _dir);
        using var saved = ModelFile.Open(Path.Combine(_dir, "simple_nn_model.pth"));
        var torch = Answers.GetProperty("train").GetProperty("state_dict").EnumerateObject().ToList();
        Assert.Equal(torch.Select(p => p.Name), saved.Tensors.Select(t => t.Name));
        foreach (var p in torch)
        {
            var ours = saved.Tensors[p.Name].ToFloat32();
            var expected = Flatten(p.Value).ToList();
            Assert.Equal(expected.Count, ours.Length);
            for (int i = 0; i < ours.Length; i++)
                Assert.True(Math.Abs(ours[i] - expected[i]) <= 1e-6, $"{p.Name}[{i}]: {ours[i]}, torch {expected[i]}");
        }
    }

    [Fact]
    public void Train_is_reproducible()
    {
        // manual_seed(42): the same data, initialisation and batches every run, so the same printed weights.
        var first = samples.RunOk(Sample, "train", Path.Combine(_dir, "a"));
        var second = samples.RunOk(Sample, "train", Path.Combine(_dir, "b"));
        Assert.Equal(Lines(first)[..^1], Lines(second)[..^1]);
    }

    // ---- load: MyModel from .pth, .safetensors, .npz ------------------------------------------------------------------

    [Fact]
    public void Load_prints_torchs_named_parameters_from_every_format()
    {
        var output = samples.RunOk(Sample, "load", TorchSharpSamplesBuild.Fixtures);
        string torch = string.Concat(Answers.GetProperty("my_model").EnumerateArray()
            .Select(p => p.GetProperty("shape").GetString() + p.GetProperty("param").GetString()));
        string expected = string.Concat(new[] { "my_model.pth", "my_model.safetensors", "my_model.npz" }.Select(f => $"== {f}\n{torch}"));
        Assert.Equal(expected, output);
    }

    // ---- statedict: listing, zero_(), npz, histogram, filter ----------------------------------------------------------

    [Fact]
    public void StateDict_steps_give_torchs_and_numpys_answers()
    {
        var answers = Answers.GetProperty("state_dict");
        var lines = Lines(samples.RunOk(Sample, "statedict", TorchSharpSamplesBuild.Fixtures, _dir));
        var listing = Lines(answers.GetProperty("listing").GetString()!);
        Assert.Equal(listing, lines[..listing.Length]);
        var rest = lines[listing.Length..];

        var hist = answers.GetProperty("histogram");
        Assert.Equal($"counts: {string.Join(" ", hist.GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()))}", rest[0]);
        Assert.StartsWith("edges: ", rest[1], StringComparison.Ordinal);
        Assert.Equal(hist.GetProperty("edges").EnumerateArray().Select(e => e.GetDouble()),
            rest[1]["edges: ".Length..].Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)));

        var filter = answers.GetProperty("filter");
        Assert.Equal(filter.GetProperty("names").EnumerateArray().Select(n => $"matches {filter.GetProperty("pattern").GetString()}: {n.GetString()}"),
            rest[2..^2]);
        Assert.True(File.Exists(Path.Combine(_dir, "fc1_weight_hist.svg")));

        // The .npz holds the state after fc1.bias.zero_(): torch's values, bit for bit in float32.
        using var npz = ModelFile.Open(Path.Combine(_dir, "my_model_zeroed.npz"));
        var afterZero = answers.GetProperty("after_zero").EnumerateObject().ToList();
        Assert.Equal(afterZero.Select(p => p.Name), npz.Tensors.Select(t => t.Name));
        foreach (var p in afterZero)
            Assert.Equal(Flatten(p.Value).Select(v => (float)v), npz.Tensors[p.Name].ToFloat32());
        Assert.All(npz.Tensors["fc1.bias"].ToFloat32(), v => Assert.Equal(0f, v));
    }

    [PythonFact("numpy")]
    public void StateDict_npz_is_what_numpy_loads()
    {
        samples.RunOk(Sample, "statedict", TorchSharpSamplesBuild.Fixtures, _dir);
        var numpy = JsonDocument.Parse(Python.Run("""
            import json, sys
            import numpy as np
            with np.load(sys.argv[1]) as z:
                print(json.dumps({k: z[k].astype(np.float64).tolist() for k in z.files}))
            """, Path.Combine(_dir, "my_model_zeroed.npz"))).RootElement;
        var afterZero = Answers.GetProperty("state_dict").GetProperty("after_zero");
        Assert.Equal(afterZero.EnumerateObject().Select(p => p.Name), numpy.EnumerateObject().Select(p => p.Name));
        foreach (var p in afterZero.EnumerateObject())
            Assert.Equal(Flatten(p.Value), Flatten(numpy.GetProperty(p.Name)));
    }

    // ---- whole: PolynomialRegression from a pickled whole model; modules() filtered by type -----------------------------

    [Fact]
    public void Whole_prints_every_Linear_as_torch_does()
        => Assert.Equal(Answers.GetProperty("whole_model").GetString(), samples.RunOk(Sample, "whole", TorchSharpSamplesBuild.Fixtures));

    // ---- fpga: a slice as a column, GRU gates, .mem files ----------------------------------------------------------------

    [Theory]
    [InlineData("Q3.12", 12, 16)]
    [InlineData("Q1.6", 6, 8)]
    public void Fpga_prints_the_column_and_writes_torchs_gates_in_fixed_point(string q, int fractionBits, int width)
    {
        var fpga = Answers.GetProperty("fpga");
        var output = samples.RunOk(Sample, "fpga", TorchSharpSamplesBuild.Fixtures, _dir, q);
        string column = fpga.GetProperty("depth_conv_column").GetString()!;
        Assert.StartsWith(column, output, StringComparison.Ordinal);

        var gates = fpga.GetProperty("gates").EnumerateObject().ToList();
        Assert.Equal(12, gates.Count);   // weight_ih, weight_hh, bias_ih, bias_hh: r, z, n each
        var written = Lines(output[column.Length..]);
        Assert.Equal(gates.Select(g => g.Name).Order(StringComparer.Ordinal), written.Select(l => l.Split(' ')[0]).Order(StringComparer.Ordinal));
        foreach (var gate in gates)
        {
            // torch's chunk(3) of the stacked tensor, against the words read back: within half a step (round to nearest).
            var words = File.ReadAllLines(Path.Combine(_dir, gate.Name.Replace('.', '_') + ".mem")).Where(l => !l.StartsWith("//", StringComparison.Ordinal)).ToList();
            var torch = Flatten(gate.Value).ToList();
            Assert.Equal(torch.Count, words.Count);
            for (int i = 0; i < words.Count; i++)
            {
                Assert.Equal(width / 4, words[i].Length);
                long raw = long.Parse(words[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (raw >= 1L << (width - 1)) raw -= 1L << width;      // two's complement
                double value = raw / Math.Pow(2, fractionBits);
                Assert.True(Math.Abs(value - torch[i]) <= Math.Pow(2, -fractionBits - 1) + 1e-12, $"{gate.Name}[{i}]: {words[i]} = {value}, torch {torch[i]}");
            }
        }
    }

    // ---- keras: a Keras .h5 in its TorchSharp twin; torch's forward output of the same network ---------------------------

    [Fact]
    public void Keras_GRU_model_in_TorchSharp_computes_what_torch_computes() =>
        KerasModelComputesWhatTorchComputes(Path.Combine(TorchSharpSamplesBuild.Fixtures, "keras_gru.h5"));

    [Fact]
    public void Keras_LSTM_model_in_TorchSharp_computes_what_torch_computes() =>
        KerasModelComputesWhatTorchComputes(Path.Combine(TorchSharpSamplesBuild.Fixtures, "keras_lstm.h5"));

    /// <summary>Real Keras 2.3.1 files from hls4ml, read in place from the shared corpus: Dense layers named fc1_relu and
    /// output_sigmoid (paired in order with the twin's fc1, fc2), and Dense/BatchNormalization with moving statistics
    /// (Keras's non-trainable weights, torch's running_mean/running_var buffers).</summary>
    [CorpusTheory]
    [InlineData("keras-h5/hls4ml/keras_1layer.h5")]
    [InlineData("keras-h5/hls4ml/keras_3layer_batch_norm.h5")]
    public void Keras_model_from_the_corpus_in_TorchSharp_computes_what_torch_computes(string file) =>
        KerasModelComputesWhatTorchComputes(TestPaths.CorpusFile(file));

    private void KerasModelComputesWhatTorchComputes(string path)
    {
        var answer = Answers.GetProperty("keras").GetProperty(Path.GetFileName(path));
        string input = Path.Combine(TorchSharpSamplesBuild.Fixtures, answer.GetProperty("input").GetString()!);
        var lines = Lines(samples.RunOk(Sample, "keras", path, input));

        var keras = answer.GetProperty("keras");
        Assert.Contains($"Keras: count_params {keras.GetProperty("count_params")}, trainable {keras.GetProperty("trainable")}, "
            + $"non-trainable {keras.GetProperty("non_trainable")}", lines);
        var torch = answer.GetProperty("torch");
        Assert.Contains($"TorchSharp: parameters {torch.GetProperty("parameters")} (trainable {torch.GetProperty("trainable")}), "
            + $"buffers {torch.GetProperty("buffers")}, {torch.GetProperty("bytes").GetInt64() / 1024.0 / 1024.0:F6} MB", lines);

        var expected = answer.GetProperty("output").EnumerateArray().ToList();
        var outputs = lines.Where(l => l.StartsWith("output[", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected.Count, outputs.Count);
        for (int i = 0; i < outputs.Count; i++)
        {
            var ours = outputs[i][(outputs[i].IndexOf(": ", StringComparison.Ordinal) + 2)..].Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToList();
            var row = expected[i].EnumerateArray().Select(v => v.GetDouble()).ToList();
            Assert.Equal(row.Count, ours.Count);
            for (int j = 0; j < ours.Count; j++)
                Assert.True(Math.Abs(ours[j] - row[j]) <= 1e-5, $"output[{i}][{j}]: {ours[j]}, torch {row[j]}");
        }
    }

    // ---- usage -----------------------------------------------------------------------------------------------------------

    [Fact]
    public void An_unknown_verb_is_a_usage_error()
    {
        var r = samples.Run(Sample, "nope");
        Assert.True(r.ExitCode == 2, r.Output);
        Assert.StartsWith("usage: ", r.Stderr, StringComparison.Ordinal);
    }

    private static IEnumerable<double> Flatten(JsonElement e) =>
        e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().SelectMany(Flatten) : [e.GetDouble()];
}
