using System.Text.Json;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary><c>list --trainable/--buffers</c> on a file that records no roles: says why on stderr, exit 0, and no table.</summary>
public sealed class RolesNoteCliTests
{
    [Theory]
    [InlineData("--trainable")]
    [InlineData("--buffers")]
    public void A_bare_state_dict_says_why_and_shows_no_misleading_totals(string option)
    {
        string file = TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth");
        var r = CliRunner.Run("list", file, option);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.StartsWith("note: this pytorch-zip file does not record which tensors are parameters or buffers", r.Stderr);
        Assert.Contains($"so {option} selects none", r.Stderr);
        var json = CliRunner.Run("list", file, option, "--json");
        Assert.Equal(0, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(0, doc.RootElement.GetProperty("tensors").GetArrayLength());
    }

    [Fact]
    public void A_whole_model_records_roles_and_lists_its_parameters()
    {
        var r = CliRunner.Run("list", TestPaths.Fixture("pytorch", "resnet_tiny_whole.pth"), "--buffers");
        Assert.Equal(0, r.ExitCode);
        Assert.DoesNotContain("does not record", r.Stderr);
        Assert.Contains("running_mean", r.Stdout);
    }
}
