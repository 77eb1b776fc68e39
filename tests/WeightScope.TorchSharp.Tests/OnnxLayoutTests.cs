using System.Text.Json;
using TorchSharp;
using WeightScope.Tests;
using Xunit;
using static TorchSharp.torch;

namespace WeightScope.TorchSharp.Tests;

/// <summary>An ONNX Gemm's B is a Linear weight transposed or not, as transB says; both files compute torch's answer.</summary>
public sealed class OnnxLayoutTests
{
    [Theory]
    [InlineData("gemm_transb0.onnx", true)]
    [InlineData("gemm_transb1.onnx", false)]
    public void Gemm_initializers_load_into_a_linear_that_computes_torchs_answer(string file, bool transposed)
    {
        var expected = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("torchsharp-load", "expected.json"))).RootElement;
        float[] Floats(string key) => expected.GetProperty(key).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        using var model = nn.Sequential(("fc", nn.Linear(10, 5)));
        var result = model.LoadWeights(TestPaths.Fixture("torchsharp-load", file));
        Assert.True(result.IsComplete, result.DescribeProblems());
        Assert.Equal(transposed, result.Loaded.Single(l => l.Name == "fc.weight").Transform?.Contains("ONNX Gemm B (in, out)", StringComparison.Ordinal) == true);
        using var x = torch.tensor(Floats("x")).reshape(3, 10);
        var y = model.forward(x).contiguous().data<float>().ToArray();
        var want = Floats("y");
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - y[i]) <= 1e-5f, $"y[{i}]: torch {want[i]}, TorchSharp {y[i]}");
    }
}
