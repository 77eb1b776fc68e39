using System.Text.Json;
using WeightScope.Tests.Cli;
using Xunit;

namespace WeightScope.Tests.Formats.Onnx;

/// <summary>
/// The CLI over a graph that repeats names (name_clash.onnx): <c>list</c>, <c>list --json</c>, <c>show</c> and
/// <c>info</c> as a user sees them, run as a real process. Values are onnx's (expected.json).
/// </summary>
public sealed class OnnxCliTests
{
    private static readonly string File = TestPaths.Fixture("onnx", "name_clash.onnx");

    private static readonly string[] Listed = ["w", "w~2", "b", "c~2", "c", "c~3", "b~2"];

    [Fact]
    public void List_shows_every_definition_under_its_unique_name()
    {
        var r = CliRunner.Run("list", File);
        Assert.Equal(0, r.ExitCode);
        var names = r.Stdout.Split('\n').Skip(2).TakeWhile(l => l.Trim().Length > 0).Select(l => l.Split(' ', 2)[0]);
        Assert.Equal(Listed, names);
        Assert.Contains("7 tensors, 10 parameters, 40 B", r.Stdout);
    }

    [Fact]
    public void List_json_has_the_unique_names()
    {
        var r = CliRunner.Run("list", File, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(Listed, doc.RootElement.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.Equal(7, doc.RootElement.GetProperty("totals").GetProperty("tensors").GetInt32());
    }

    [Theory]
    [InlineData("c~3", 6)] // the second Constant named c (node 2; definitions: 4 initializers, node 0, node 1, node 2)
    [InlineData("w~2", 1)] // the second initializer named w
    public void Show_prints_the_value_onnx_load_holds_for_that_definition(string name, int definition)
    {
        var expected = OnnxAnswers.Fixtures.GetProperty("name_clash.onnx").GetProperty("definitions")[definition].GetProperty("value").GetProperty("values");
        var r = CliRunner.Run("show", File, name, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(name, doc.RootElement.GetProperty("name").GetString());
        Assert.Equal(expected.EnumerateArray().Select(e => e.GetDouble()), doc.RootElement.GetProperty("values").EnumerateArray().Select(e => e.GetDouble()));
        var text = CliRunner.Run("show", File, name);
        Assert.Equal(0, text.ExitCode);
        Assert.StartsWith("tensor([", text.Stdout);
    }

    [Fact]
    public void Info_prints_the_clash_notes()
    {
        var r = CliRunner.Run("info", File);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("name_clash:c: 'c' in the main graph is defined 2 times: node 0 'Constant_0' (Constant) → 'c'", r.Stdout);
        Assert.Contains("name_clash:w:", r.Stdout);
        Assert.Contains("name_clash:b:", r.Stdout);
    }

    [Fact]
    public void A_tensor_of_an_unknown_data_type_is_named_by_list_and_show_says_why()
    {
        // unknown_type_0.pb: a TensorProto 'future' [2, 3] of data type 27, laid out by onnx_fixtures.py.
        var pb = TestPaths.Fixture("onnx", "unknown_type_0.pb");
        var list = CliRunner.Run("list", pb);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("note: 1 more entry in the file not read as tensors: future: tensor 'future' [2, 3] has data type 27", list.Stderr, StringComparison.Ordinal);
        var show = CliRunner.Run("show", pb, "future");
        Assert.Equal(3, show.ExitCode);
        Assert.StartsWith($"weightscope: {pb}, onnx-tensor, entry 'future': not supported: 'future' is in the file but not read as a tensor: tensor 'future' [2, 3] has data type 27",
            show.Stderr, StringComparison.Ordinal);
    }
}
