using System.Text.Json.Nodes;
using WeightScope.Printing;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.PyTorch;

/// <summary>
/// Every TorchScript file of the shared corpus against torch 1.13's own view of it (corpus_expected.json, written by
/// tests/fixtures/generate/torchscript_fixtures.py without copying the files): the state dict and the tensors outside
/// it, with values, and <c>str(torch.jit.load(f))</c> as <c>tree</c> prints it.
/// </summary>
public class TorchScriptCorpusTests
{
    private static readonly Lazy<JsonObject> Answers = new(() =>
        JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("pytorch", "torchscript", "corpus_expected.json")))!.AsObject());

    public static TheoryData<string> Files()
    {
        var d = new TheoryData<string>();
        foreach (var (path, _) in Answers.Value) d.Add(path);
        return d;
    }

    [CorpusTheory]
    [MemberData(nameof(Files))]
    public void Matches_torchs_view_of_the_file(string path)
    {
        var answer = Answers.Value[path]!.AsObject();
        string file = TestPaths.CorpusFile(path);
        Assert.Equal(answer["file_size"]!.GetValue<long>(), new FileInfo(file).Length);
        using var m = ModelFile.Open(file);
        if (answer["torch_error"] is { } error)
        {
            // torch 1.13 cannot load it (Debian's build has no model.json importer; shakespeare.pt.zip calls an operator
            // of torch 2.x), so there is no answer to compare with; the reader still reads it, and tree prints the
            // loaded-module form.
            Assert.StartsWith("RecursiveScriptModule(", TreePrinter.Format(m.Modules));
            Assert.False(string.IsNullOrEmpty(error.GetValue<string>()));
            return;
        }
        var stateDict = answer["tensors"]!.AsArray();
        var expected = new JsonArray([.. stateDict.Concat(answer["outside_state_dict"]!.AsArray()).Select(t => t!.DeepClone())]);
        Assert.Equal(expected.Select(t => t!["name"]!.GetValue<string>()), m.Tensors.Select(t => t.Name));
        for (int i = 0; i < expected.Count; i++) PyTorchFixtureTests.AssertTensor(expected[i]!.AsObject(), m.Tensors[i]);
        Assert.All(m.Tensors.Skip(stateDict.Count), t => Assert.True(t.Role.IsOutsideStateDict(), t.Name));
        Assert.Equal(answer["str_model"]!.GetValue<string>(), TreePrinter.Format(m.Modules));
    }
}
