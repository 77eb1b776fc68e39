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

    // ---- C# blocks: each is the `#region readme` of the sample its first line names --------------------------------

    /// <summary>The READMEs whose ```csharp blocks come from samples/csharp: the repository's and the NuGet packages'.</summary>
    private static readonly string[] s_readmesWithSamples = ["README.md", "src/WeightScope/README.md", "src/WeightScope.TorchSharp/README.md"];

    private static IEnumerable<(string Readme, string Source, string Code)> SampleBlocks()
    {
        foreach (var readme in s_readmesWithSamples)
        {
            var text = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, readme)).ReplaceLineEndings("\n");
            foreach (Match m in Regex.Matches(text, "```csharp\n// (samples/csharp/\\S+\\.cs)\n(.*?)```", RegexOptions.Singleline))
                yield return (readme, m.Groups[1].Value, m.Groups[2].Value);
        }
    }

    public static TheoryData<string, string> SampleBlockKeys()
    {
        var d = new TheoryData<string, string>();
        foreach (var (readme, source, _) in SampleBlocks()) d.Add(readme, source);
        return d;
    }

    /// <summary>The text between <c>#region readme</c> and <c>#endregion</c> of a sample (each line as written).</summary>
    private static string Region(string source)
    {
        var text = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, source)).ReplaceLineEndings("\n");
        var m = Regex.Match(text, "^#region readme\n(.*?)^#endregion", RegexOptions.Singleline | RegexOptions.Multiline);
        Assert.True(m.Success, $"{source} has no '#region readme' … '#endregion'");
        return m.Groups[1].Value;
    }

    [Theory]
    [MemberData(nameof(SampleBlockKeys))]
    public void CSharp_block_is_the_code_of_the_sample_it_names(string readme, string source)
    {
        var block = Assert.Single(SampleBlocks(), b => b.Readme == readme && b.Source == source);
        Assert.Equal(Region(source), block.Code);
    }

    [Fact]
    public void Library_examples_show_every_sample_and_only_samples()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md")).ReplaceLineEndings("\n");
        var section = Regex.Match(readme, "^## Library examples\n(.*?)(?=^## |\\z)", RegexOptions.Singleline | RegexOptions.Multiline);
        Assert.True(section.Success, "README.md has no '## Library examples' section");
        var blocks = Regex.Matches(section.Groups[1].Value, "```csharp\n(.*?)\n").Select(m => m.Groups[1].Value).ToList();
        Assert.All(blocks, first => Assert.Matches("^// samples/csharp/\\w+/Program\\.cs$", first));
        var samples = Directory.GetDirectories(Path.Combine(TestPaths.RepoRoot, "samples", "csharp"))
            .Where(d => File.Exists(Path.Combine(d, "Program.cs")) && Path.GetFileName(d) != "Quickstart") // that one is "## Library"'s
            .Where(d => !Samples.SamplesTests.TorchSharpNames.Contains(Path.GetFileName(d)))   // "The tutorials in C# (TorchSharp)"'s
            .Select(d => $"// samples/csharp/{Path.GetFileName(d)}/Program.cs").Order().ToList();
        Assert.Equal(7, samples.Count);
        Assert.Equal(samples, blocks.Order().ToList());
    }

    [Fact]
    public void Every_csharp_block_of_the_readmes_comes_from_a_sample()
    {
        // A block without its sample's marker would be checked by nothing and could drift from the library.
        foreach (var readme in s_readmesWithSamples)
        {
            var text = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, readme)).ReplaceLineEndings("\n");
            var firstLines = Regex.Matches(text, "```(?:csharp|cs|c#)\n(.*?)\n").Select(m => m.Groups[1].Value).ToList();
            Assert.NotEmpty(firstLines);
            Assert.All(firstLines, first => Assert.Matches("^// samples/csharp/\\w+/Program\\.cs$", first));
        }
    }
}
