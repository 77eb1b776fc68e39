using System.Text.Json;
using Xunit;

namespace WeightScope.Tests.Formats.Onnx;

/// <summary>
/// The corpus's onnx/ files (MANIFEST.md: the external-data cartpole model written by torch 2.x, onnx's backend-test
/// models from PyTorch 0.3 and the onnx helper, their <c>.pb</c> test data), checked against what onnx 1.12 itself
/// returns for each (tests/fixtures/onnx/corpus_expected.json: names, dtypes, shapes, hashes of to_array's bytes).
/// </summary>
public sealed class OnnxCorpusTests
{
    public static TheoryData<string> Files()
    {
        var d = new TheoryData<string>();
        foreach (var f in OnnxAnswers.Corpus.EnumerateObject()) d.Add(f.Name);
        return d;
    }

    [CorpusTheory]
    [MemberData(nameof(Files))]
    public void Opens_with_the_tensors_onnx_returns(string path)
    {
        var answer = OnnxAnswers.Corpus.GetProperty(path);
        using var m = ModelFile.Open(TestPaths.CorpusFile(path));
        if (path.EndsWith(".pb", StringComparison.Ordinal))
        {
            Assert.Equal("onnx-tensor", m.Format.Name);
            var t = answer.GetProperty("tensor");
            var name = answer.GetProperty("name").GetString()!;
            if (name.Length == 0) name = Path.GetFileNameWithoutExtension(path);
            if (t.GetProperty("dtype").GetString() == "STRING")
            {
                Assert.Empty(m.Tensors);
                Assert.Equal(t.GetProperty("shape")[0].GetInt32(), Assert.IsType<List<object?>>(m.Metadata[name]).Count);
                return;
            }
            OnnxAnswers.AssertTensor(t, Assert.Single(m.Tensors), path);
            Assert.Equal(name, m.Tensors[0].Name);
            return;
        }
        Assert.Equal("onnx", m.Format.Name);
        Assert.Equal($"ir {answer.GetProperty("ir_version").GetInt64()}", m.Format.Version);
        var producer = $"{answer.GetProperty("producer_name").GetString()} {answer.GetProperty("producer_version").GetString()}".Trim();
        Assert.Equal(producer.Length == 0 ? null : producer, m.Format.Producer);
        Assert.Equal(answer.GetProperty("nodes").GetInt32(), m.Modules.Children.Count);
        var names = new List<string>();
        foreach (var t in answer.GetProperty("tensors").EnumerateObject())
        {
            names.Add(t.Name);
            OnnxAnswers.AssertTensor(t.Value, m.Tensors[t.Name], $"{path}:{t.Name}");
        }
        Assert.Equal(names.Order(StringComparer.Ordinal), m.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
    }

    [CorpusFact]
    public void The_cartpole_weights_come_from_its_external_data_file()
    {
        var path = TestPaths.CorpusFile("onnx/external-data-cartpole-torch2.13/model.onnx");
        using var m = ModelFile.Open(path);
        Assert.Equal(6, m.Tensors.Count);
        Assert.Equal(2, m.SourceFiles.Count);
        Assert.EndsWith("model.onnx.data", m.SourceFiles[1]);
    }

    [CorpusFact]
    public void A_TensorFlow_saved_model_pb_is_not_taken_for_an_onnx_tensor()
    {
        var path = TestPaths.CorpusFile("tf-savedmodel/tf2onnx-regression/saved_model.pb");
        try
        {
            using var m = ModelFile.Open(path);
            Assert.DoesNotContain("onnx", m.Format.Name);
        }
        catch (UnknownModelFormatException) { }
    }
}
