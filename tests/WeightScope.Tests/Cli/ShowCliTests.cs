using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary>
/// <c>show</c> as the tutorials' loops (issue 18 §1): each case of tests/fixtures/show/expected.json is what the Python
/// loop printed (torch 1.13, numpy 1.24, h5py; tests/fixtures/generate/show_fixtures.py) and the arguments that ask
/// WeightScope for the same thing.
/// </summary>
public class ShowCliTests
{
    private static readonly string Folder = TestPaths.Fixture("show");

    private static readonly Lazy<JsonArray> Cases =
        new(() => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "expected.json")))!["cases"]!.AsArray());

    public static TheoryData<string> CaseNames() => [.. Cases.Value.Select(c => c!["name"]!.GetValue<string>())];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void PrintsWhatThePythonLoopPrints(string name)
    {
        var c = Cases.Value.Single(c => c!["name"]!.GetValue<string>() == name)!;
        var args = c["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray();
        var r = CliRunner.RunIn(Folder, ["show", .. args]);
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
        Assert.Equal(c["expected"]!.GetValue<string>(), r.Stdout);
    }

    [Fact]
    public void OneExactNameIsPrintedWithoutAHeaderAsPrintTensorIs()
    {
        var one = CliRunner.RunIn(Folder, "show", "state.pth", "0.bias");
        var loop = CliRunner.RunIn(Folder, "show", "state.pth", "0.bias", "--no-header");
        Assert.Equal(0, one.ExitCode);
        Assert.StartsWith("tensor([", one.Stdout, StringComparison.Ordinal);
        Assert.Equal(loop.Stdout, one.Stdout);
        var glob = CliRunner.RunIn(Folder, "show", "state.pth", "0.b*");
        Assert.Equal("0.bias  float32 [5]\n" + one.Stdout, glob.Stdout);
    }

    [Fact]
    public void JsonIsOneObjectForOneNameAndAnArrayOtherwise()
    {
        var one = CliRunner.RunIn(Folder, "show", "state.pth", "0.bias", "--json");
        Assert.Equal(0, one.ExitCode);
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(one.Stdout).RootElement.ValueKind);
        var many = CliRunner.RunIn(Folder, "show", "state.pth", "*.bias", "--json");
        Assert.Equal(0, many.ExitCode);
        var array = JsonDocument.Parse(many.Stdout).RootElement;
        Assert.Equal(JsonValueKind.Array, array.ValueKind);
        Assert.Equal(["0.bias", "1.bias", "3.0.bias", "4.bias"], array.EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        Assert.All(array.EnumerateArray(), e => Assert.Equal(JsonValueKind.Array, e.GetProperty("values").ValueKind));
    }

    [Fact]
    public void FiltersNarrowTheTensorsAsListDoes()
    {
        var listed = CliRunner.RunIn(Folder, "list", "model.pt", "--buffers", "--json");
        var names = JsonDocument.Parse(listed.Stdout).RootElement.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList();
        var shown = CliRunner.RunIn(Folder, "show", "model.pt", "--buffers");
        Assert.Equal(0, shown.ExitCode);
        var headers = shown.Stdout.Split('\n').Where(l => names.Any(n => l.StartsWith(n + "  ", StringComparison.Ordinal))).ToList();
        Assert.Equal(names.Count, headers.Count);
        Assert.Equal(names, headers.Select(h => h[..h.IndexOf("  ", StringComparison.Ordinal)]).ToList());
    }

    [Fact]
    public void AFileWithoutRolesSaysSoForTrainable()
    {
        var r = CliRunner.RunIn(Folder, "show", "state.pth", "--trainable");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Contains("does not record which tensors are parameters", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("'weightscope show' shows them all", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--suppress", "numpy's print options")]
    [InlineData("--sign=+", "numpy's print options")]
    public void NumpyOptionsNeedTheNumpyStyle(string option, string message)
    {
        var r = CliRunner.RunIn(Folder, "show", "state.pth", "0.bias", option);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TorchOptionsAreRefusedWithTheNumpyStyle()
    {
        var r = CliRunner.RunIn(Folder, "show", "state.pth", "0.bias", "--style", "numpy", "--sci-mode", "true");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("torch's print options", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void NumpyOptionValuesAreCheckedLikeEveryOption()
    {
        var r = CliRunner.RunIn(Folder, "show", "state.pth", "0.bias", "--style", "numpy", "--precision", "-1");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("weightscope: --precision must be at least 0 (got -1)", r.Stderr.Split('\n')[0]);
    }

    [Fact]
    public void AGlobMatchingNothingAndAnUnknownLayerAreErrorsThatSayWhatThereIs()
    {
        var glob = CliRunner.RunIn(Folder, "show", "state.pth", "*.kernel");
        Assert.Equal(2, glob.ExitCode);
        Assert.Contains("no tensor matches '*.kernel'", glob.Stderr, StringComparison.Ordinal);
        var layer = CliRunner.RunIn(Folder, "show", "../keras/nested_full_model.h5", "--layer", "dense_9");
        Assert.Equal(2, layer.ExitCode);
        Assert.Contains("no layer named 'dense_9'; layers: ", layer.Stderr, StringComparison.Ordinal);
        Assert.Contains("head", layer.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ReshapeNeedsOneTensor()
    {
        var r = CliRunner.RunIn(Folder, "show", "state.pth", "*.bias", "--reshape", "-1,1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--reshape applies to one tensor; 4 are selected", r.Stderr, StringComparison.Ordinal);
    }
}
