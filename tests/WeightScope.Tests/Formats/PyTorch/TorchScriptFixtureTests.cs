using System.Text.Json.Nodes;
using WeightScope.Formats.PyTorch;
using WeightScope.Printing;
using WeightScope.Tensors;
using WeightScope.Tests.Cli;
using Xunit;

namespace WeightScope.Tests.Formats.PyTorch;

/// <summary>
/// The TorchScript naming rule against torch 1.13 on files it wrote (tests/fixtures/pytorch/torchscript, written by
/// tests/fixtures/generate/torchscript_fixtures.py): the listing is <c>torch.jit.load(f).state_dict()</c> (roles
/// Parameter/Buffer) followed by the tensors state_dict() leaves out, with torch's values for each; for modules scripted
/// from an eager model, the state dict plus the Packed tensors are exactly the eager <c>state_dict()</c> keys; and
/// <c>tree</c> prints <c>str(torch.jit.load(f))</c> byte for byte.
/// </summary>
public class TorchScriptFixtureTests
{
    public static string Folder => TestPaths.Fixture("pytorch", "torchscript");

    private static IEnumerable<string> Names() =>
        Directory.GetFiles(Folder, "*.expected.json").Select(f => Path.GetFileName(f)[..^".expected.json".Length]).Order(StringComparer.Ordinal);

    public static TheoryData<string> Fixtures() => [.. Names()];

    private static JsonObject Answer(string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, name + ".expected.json")))!.AsObject();

    private static string FileOf(JsonObject answer)
    {
        string path = Path.Combine(Folder, answer["file"]!.GetValue<string>());
        Assert.Equal(answer["file_size"]!.GetValue<long>(), new FileInfo(path).Length); // a stale answer would mislead
        return path;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Lists_the_state_dict_then_what_it_leaves_out_as_torch_reads_them(string name)
    {
        var answer = Answer(name);
        using var m = ModelFile.Open(FileOf(answer));
        Assert.Equal(TorchScriptFormat.FormatName, m.Format.Name);

        var stateDict = answer["tensors"]!.AsArray();
        var outside = answer["outside_state_dict"]!.AsArray();
        var expected = new JsonArray([.. stateDict.Concat(outside).Select(t => t!.DeepClone())]);
        Assert.Equal(expected.Select(t => t!["name"]!.GetValue<string>()), m.Tensors.Select(t => t.Name));
        for (int i = 0; i < expected.Count; i++) PyTorchFixtureTests.AssertTensor(expected[i]!.AsObject(), m.Tensors[i]);
        PyTorchFixtureTests.AssertSharing(expected, m.Tensors);

        // The state dict is exactly what list shows by default; the rest only with --all.
        Assert.All(m.Tensors.Take(stateDict.Count), t => Assert.False(t.Role.IsOutsideStateDict(), t.Name));
        Assert.All(m.Tensors.Skip(stateDict.Count), t => Assert.True(t.Role.IsOutsideStateDict(), t.Name));
        Assert.Equal(stateDict.Select(t => t!["name"]!.GetValue<string>()),
            new TensorQuery { StateDictOnly = true }.Apply(m).Select(t => t.Name));
    }

    // Fixtures scripted from an eager model (traced, frozen and optimized files keep no eager names to compare with).
    public static TheoryData<string> ScriptedFromEager()
    {
        return [.. Names().Where(n => Answer(n)["eager_state_dict"] is not null)];
    }

    [Theory]
    [MemberData(nameof(ScriptedFromEager))]
    public void The_state_dict_and_the_packed_tensors_are_the_eager_state_dict(string name)
    {
        var answer = Answer(name);
        var eager = answer["eager_state_dict"]!.AsArray();
        using var m = ModelFile.Open(FileOf(answer));
        var listed = m.Tensors.Where(t => !t.Role.IsOutsideStateDict() || t.Role == TensorRole.Packed).Select(t => t.Name);
        Assert.Equal(eager.Select(e => e!.GetValue<string>()).Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Tree_prints_what_torch_prints_for_the_loaded_module(string name)
    {
        var answer = Answer(name);
        using var m = ModelFile.Open(FileOf(answer));
        Assert.Equal(answer["str_model"]!.GetValue<string>(), TreePrinter.Format(m.Modules));
    }

    public static TheoryData<string> EveryTorchScriptFixture()
    {
        var d = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Folder, "*.expected.json").Order()) d.Add(f);
        // the two of pytorch_fixtures.py (answers in its own format, with str_model)
        foreach (var f in new[] { "torchscript_model", "torchscript_traced" })
            d.Add(TestPaths.Fixture("pytorch", f + ".expected.json"));
        return d;
    }

    [Theory]
    [MemberData(nameof(EveryTorchScriptFixture))]
    public void Weightscope_tree_prints_str_of_torch_jit_load_byte_for_byte(string answerPath)
    {
        var answer = JsonNode.Parse(File.ReadAllText(answerPath))!.AsObject();
        var file = Path.Combine(Path.GetDirectoryName(answerPath)!, answer["file"]!.GetValue<string>());
        var r = CliRunner.Run("tree", file);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(answer["str_model"]!.GetValue<string>() + "\n", r.Stdout);
    }

    [Fact]
    public void List_shows_the_state_dict_and_says_how_to_see_the_rest()
    {
        string file = Path.Combine(Folder, "static_quantized_scripted.pt");
        var r = CliRunner.Run("list", file, "--json");
        Assert.Equal(0, r.ExitCode);
        var names = JsonNode.Parse(r.Stdout)!["tensors"]!.AsArray().Select(t => t!["name"]!.GetValue<string>());
        Assert.Equal(["quant.scale", "quant.zero_point"], names);
        Assert.Contains("10 more tensors outside state_dict()", r.Stderr);
        Assert.Contains("--all", r.Stderr);

        var all = CliRunner.Run("list", file, "--all", "--json");
        Assert.Equal(0, all.ExitCode);
        var rows = JsonNode.Parse(all.Stdout)!["tensors"]!.AsArray();
        Assert.Equal(12, rows.Count);
        Assert.Equal("Packed", rows.Single(t => t!["name"]!.GetValue<string>() == "conv.weight")!["role"]!.GetValue<string>());
        Assert.Empty(all.Stderr);
    }
}
