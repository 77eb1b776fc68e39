using System.Text.Json;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary><c>weightscope health</c>: exit 1 on errors (a CI gate), 0 otherwise; the JSON schema; the text summary.</summary>
public sealed class HealthCliTests
{
    [Fact]
    public void Errors_exit_1_and_json_lists_findings_with_a_summary()
    {
        var r = CliRunner.Run("health", TestPaths.Fixture("analysis", "health_model.pt"), "--json");
        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var first = doc.RootElement.GetProperty("findings")[0];
        Assert.Equal(["severity", "code", "tensor", "message", "values"], first.EnumerateObject().Select(p => p.Name));
        var summary = doc.RootElement.GetProperty("summary");
        Assert.Equal(2, summary.GetProperty("errors").GetInt32());
        Assert.Equal(4, summary.GetProperty("warnings").GetInt32());
    }

    [Fact]
    public void A_clean_model_exits_0_with_a_one_line_summary()
    {
        var r = CliRunner.Run("health", TestPaths.Fixture("analysis", "health_clean.pt"));
        Assert.Equal(0, r.ExitCode);
        Assert.EndsWith("0 errors, 0 warnings, 3 notes", r.Stdout.TrimEnd());
    }
}
