using System.Globalization;
using TorchSharp.Modules;
using WeightScope.Tests;
using Xunit;
using static TorchSharp.torch;

namespace WeightScope.TorchSharp.Tests.Samples;

/// <summary>
/// The fixed contract of <c>samples/csharp/LoadIntoTorchSharp</c>: FILE in any format and layout holding SimpleNN's
/// four tensors prints "name sum" per parameter (torch's sums, committed by the generator) and exits 0; a strict-load
/// mismatch exits 3 with WeightLoadException's message on stderr; an unreadable file exits 4.
/// </summary>
[Collection(TorchSharpSamplesCollection.Name)]
public sealed class LoadIntoTorchSharpTests(TorchSharpSamplesBuild samples)
{
    private const string Sample = "LoadIntoTorchSharp";

    private static string Fixture(string name) => Path.Combine(TorchSharpSamplesBuild.Fixtures, name);

    [Theory]
    [InlineData("simple_nn.pth")]          // torch.save(state_dict)
    [InlineData("simple_nn.safetensors")]
    [InlineData("simple_nn.npz")]          // np.savez
    [InlineData("simple_nn_keras.h5")]     // a Keras full model: Dense kernels [in, out], transposed on load
    [InlineData("simple_nn.onnx")]         // torch.onnx.export: the Gemm initializers keep the parameters' names
    public void Prints_torchs_sum_of_every_parameter(string file)
    {
        var lines = TorchSharpSamplesBuild.Lines(samples.RunOk(Sample, Fixture(file)));
        var expected = TorchSharpSamplesBuild.Answers.GetProperty("simple_nn").EnumerateObject().ToList();
        Assert.Equal(expected.Select(e => e.Name), lines.Select(l => l.Split(' ')[0]));
        for (int i = 0; i < lines.Length; i++)
        {
            string text = lines[i].Split(' ')[1];
            Assert.Equal(((float)expected[i].Value.GetDouble()).ToString("R", CultureInfo.InvariantCulture), text); // round-trip form
            Assert.Equal((float)expected[i].Value.GetDouble(), float.Parse(text, CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Every format SaveWeights writes (the Keras one in Keras's layout: kernels [in, out], layers named dense,
    /// dense_1), read back by the sample: the sums are those TorchSharp computes for the module that was saved.</summary>
    [Theory]
    [InlineData("model.pt", false)]
    [InlineData("model.safetensors", false)]
    [InlineData("model.npz", false)]
    [InlineData("model.weights.h5", true)]
    [InlineData("model.dat", false)]        // TorchSharp's own Module.save format
    public void Reads_what_SaveWeights_writes_in_every_format(string file, bool kerasLayout)
    {
        string dir = Directory.CreateTempSubdirectory("ws-load-").FullName;
        try
        {
            random.manual_seed(7);
            var module = new SimpleNN();
            string path = Path.Combine(dir, file);
            module.SaveWeights(path, new SaveOptions { KerasLayout = kerasLayout });
            var expected = module.named_parameters().Select(p =>
                $"{p.name} {((float)p.parameter.detach().to_type(ScalarType.Float64).sum().item<double>()).ToString("R", CultureInfo.InvariantCulture)}");
            Assert.Equal(expected, TorchSharpSamplesBuild.Lines(samples.RunOk(Sample, path)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("simple_nn_wrong_shape.pth", "size mismatch for fc1.weight")]   // SimpleNN(10, 6, 1)'s weights
    [InlineData("simple_nn_extra.pth", "fc3.weight")]                          // one key the module lacks
    public void A_mismatch_exits_3_with_the_strict_load_message(string file, string mentioned)
    {
        string path = Fixture(file);
        var r = samples.Run(Sample, path);
        Assert.True(r.ExitCode == 3, r.Output);
        Assert.Equal("", r.Stdout);
        Assert.Contains(mentioned, r.Stderr, StringComparison.Ordinal);

        // The message is the library's own, for a module of the same type name.
        var e = Assert.Throws<WeightLoadException>(() => new SimpleNN().LoadWeights(path));
        Assert.Equal(e.Message, r.Stderr.TrimEnd('\n'));
    }

    [Theory]
    [InlineData("no_such_file.pth")]
    [InlineData("answers.json")]           // a file that is no model
    public void An_unreadable_file_exits_4_with_the_reason(string file)
    {
        var r = samples.Run(Sample, Fixture(file));
        Assert.True(r.ExitCode == 4, r.Output);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith($"error: cannot read {Fixture(file)}: ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void No_file_is_a_usage_error()
    {
        var r = samples.Run(Sample);
        Assert.True(r.ExitCode == 2, r.Output);
        Assert.StartsWith("usage: ", r.Stderr, StringComparison.Ordinal);
    }

    /// <summary>The sample's network, under the same type name (the strict-load message names it).</summary>
    private sealed class SimpleNN : nn.Module<Tensor, Tensor>
    {
        private readonly Linear fc1 = nn.Linear(10, 5);
        private readonly ReLU relu = nn.ReLU();
        private readonly Linear fc2 = nn.Linear(5, 1);

        public SimpleNN() : base(nameof(SimpleNN)) => RegisterComponents();

        public override Tensor forward(Tensor x) => fc2.forward(relu.forward(fc1.forward(x)));
    }
}
