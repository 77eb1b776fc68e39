using System.Text.Json;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary><c>tree --modules [--type T]</c> and <c>--type</c> on the other verbs, against torch's output (module_loops.json).</summary>
public sealed class ModuleLoopCliTests
{
    private static JsonElement Case(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("printing", "module_loops.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray().Single(c => c.GetProperty("case").GetString() == name).Clone();
    }

    private static string FileOf(JsonElement c) => TestPaths.Fixture("printing", c.GetProperty("file").GetString()!);

    [Theory]
    [InlineData("shared")]
    [InlineData("mobilenet_v3_small")]
    public void Tree_modules_is_the_tutorial_loop_byte_for_byte(string name)
    {
        var c = Case(name);
        var r = CliRunner.Run("tree", FileOf(c), "--modules");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        Assert.Equal(c.GetProperty("modules").GetString(), r.Stdout);
    }

    [Theory]
    [InlineData("resnet18", "torch.nn.Linear")]
    [InlineData("resnet18", "torch.nn.modules.batchnorm._BatchNorm")]
    [InlineData("mobilenet_v3_small", "Sequential")]
    [InlineData("custom", "nn.Linear")]
    public void Tree_type_is_the_isinstance_loop(string name, string type)
    {
        var c = Case(name);
        var f = c.GetProperty("filters").EnumerateArray().Single(x => x.GetProperty("type").GetString() == type);
        var r = CliRunner.Run("tree", FileOf(c), "--type", type);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(f.GetProperty("expected").GetString(), r.Stdout);
        var json = CliRunner.Run("tree", FileOf(c), "--modules", "--type", type, "--json");
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(f.GetProperty("blocks").EnumerateArray().Select(b => b.GetProperty("path").GetString()),
            doc.RootElement.EnumerateArray().Select(b => b.GetProperty("path").GetString()));
    }

    [Theory]
    [InlineData("list")]
    [InlineData("tree")]
    [InlineData("stats")]
    public void An_unknown_type_is_a_usage_error_listing_the_types_present(string verb)
    {
        var c = Case("nested_sequential");
        var r = CliRunner.Run(verb, FileOf(c), "--type", "Conv2d");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        string present = string.Join(", ", c.GetProperty("type_counts").EnumerateObject().Select(p => $"{p.Name} ({p.Value.GetInt32()})"));
        Assert.Equal($"weightscope: no module in this file is a 'Conv2d'; the types present are: {present}\n", r.Stderr);
    }

    [Theory]
    [InlineData("Linear")]
    [InlineData("nn.Linear")]
    [InlineData("torch.nn.Linear")]
    [InlineData("torch.nn.modules.linear.Linear")]
    public void List_type_accepts_the_names_Python_users_write(string type)
    {
        var r = CliRunner.Run("list", FileOf(Case("nested_sequential")), "--type", type, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        // three Linear layers with weight and bias each
        Assert.Equal(6, doc.RootElement.GetProperty("tensors").GetArrayLength());
    }

    [Fact]
    public void Modules_on_a_file_without_PyTorch_modules_says_why()
    {
        var r = CliRunner.Run("tree", TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth"), "--modules");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--modules prints the modules of a PyTorch model", r.Stderr);
    }
}
