using System.Text.RegularExpressions;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary>The README's CLI examples are real: each `$ ./weightscope …` block is run and must print what the README shows.</summary>
public class ReadmeTests
{
    public static TheoryData<string> Commands()
    {
        var d = new TheoryData<string>();
        foreach (var (command, _) in Examples()) d.Add(command);
        return d;
    }

    private static IEnumerable<(string Command, string Output)> Examples()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        foreach (Match block in Regex.Matches(readme, "```\n(\\$ ./weightscope .*?)```", RegexOptions.Singleline))
        {
            var parts = Regex.Split(block.Groups[1].Value, @"^\$ ", RegexOptions.Multiline).Where(p => p.Length > 0);
            foreach (var part in parts)
            {
                int nl = part.IndexOf('\n');
                yield return (part[..nl], part[(nl + 1)..]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Example_prints_what_the_readme_shows(string command)
    {
        var expected = Examples().First(e => e.Command == command).Output.TrimEnd('\n');
        var args = Regex.Matches(command["./weightscope ".Length..], @"'[^']*'|\S+").Select(m => m.Value.Trim('\'')).ToArray();
        var r = CliRunner.RunIn(TestPaths.RepoRoot, args);
        Assert.Equal(0, r.ExitCode);
        var actual = r.Stdout.TrimEnd('\n');
        if (expected.EndsWith("  …", StringComparison.Ordinal)) // the README shows only the start of long outputs
        {
            expected = expected[..^"\n  …".Length];
            actual = string.Join('\n', actual.Split('\n').Take(expected.Split('\n').Length));
        }
        Assert.Equal(expected, actual);
    }
}
