using System.CommandLine;
using System.Globalization;
using WeightScope.Cli.Commands;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary>
/// Every numeric option of every verb, found by walking the command tree (so a new option is covered without editing
/// this test), refuses a value out of its range with one line naming the option and the range, exit 2 (usage).
/// </summary>
public sealed class OptionRangeTests
{
    private static readonly Command Root = CliRoot.Create();

    private static readonly HashSet<string> LimitFlags = [.. Common.LimitOptions.Select(l => l.Option.Name)];

    // (verb, option) for every numeric option in the tree, the recursive reader limits aside (checked below).
    private static IEnumerable<(Command Verb, Option Option)> NumericOptions() =>
        OptionRanges.Walk(Root).Skip(1).SelectMany(c => c.Options.Where(OptionRanges.IsNumeric).Where(o => !LimitFlags.Contains(o.Name)).Select(o => (c, o)));

    [Fact]
    public void Every_numeric_option_has_a_range()
    {
        var options = NumericOptions().ToList();
        Assert.True(options.Count >= 12, $"only {options.Count} numeric options found: the walk is broken");
        var missing = options.Where(x => !OptionRanges.ByName.ContainsKey(x.Option.Name)).Select(x => $"{x.Verb.Name} {x.Option.Name}").ToList();
        Assert.True(missing.Count == 0, "numeric options without a range in OptionRanges.ByName: " + string.Join(", ", missing));
    }

    public static TheoryData<string, string, string> OutOfRange()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (verb, option) in NumericOptions())
        {
            if (!OptionRanges.ByName.TryGetValue(option.Name, out var range) || range.Unchecked is not null) continue;
            if (range.Min is { } lo) data.Add(verb.Name, option.Name, Text(lo - 1));
            if (range.Max is { } hi) data.Add(verb.Name, option.Name, Text(hi + 1));
        }
        return data;
    }

    private static string Text(double v) => v.ToString(CultureInfo.InvariantCulture);

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void An_out_of_range_value_is_one_usage_line_naming_option_and_range(string verb, string option, string value)
    {
        var range = OptionRanges.ByName[option];
        // A file that exists and any other arguments a verb needs come after: parsing stops the run before they matter.
        var args = new List<string> { verb, Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth") };
        if (verb is "diff") args.Add(Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth"));
        string temp = Path.Combine(Path.GetTempPath(), "ws-range-" + Guid.NewGuid().ToString("N"));
        if (verb is "convert" or "edit") args.Add(temp + ".pt");
        if (verb is "export") args.AddRange(["--to", option is "--align" ? "c" : option is "--width" ? "mem" : "txt", "--out", temp]);
        args.AddRange([option, value]);
        var r = CliRunner.Run([.. args]);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        var lines = r.Stderr.TrimEnd('\n').Split('\n');
        Assert.Equal($"weightscope: {option} must be {range.Describe()} (got {value})", lines[0]);
        Assert.DoesNotContain("Parameter '", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
    }

    [Fact]
    public void Limit_flags_refuse_zero_naming_the_flag()
    {
        var (_, option) = Common.LimitOptions[0];
        var r = CliRunner.Run("list", Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth"), option.Name, "0");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"weightscope: {option.Name}: '0' is not a positive", r.Stderr);
    }

    [Fact]
    public void Values_in_range_still_run()
    {
        var r = CliRunner.Run("hist", Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth"), "fc1.weight", "--bins", "1", "--json");
        Assert.Equal(0, r.ExitCode);
    }
}
