using System.Text.RegularExpressions;
using WeightScope.Tests;
using Xunit;

namespace WeightScope.TorchSharp.Tests.Samples;

/// <summary>
/// samples/csharp/README.md's "The tutorials in C# (TorchSharp)": each ```csharp block naming a Tutorials file is that
/// file's <c>#region readme</c> (dedented), and every tutorial file with such a region is shown, so the README's C#
/// cannot drift from the code the tests run. (The top README's block is checked by the main suite's ReadmeTests.)
/// </summary>
public sealed class TutorialsReadmeTests
{
    private static string Readme => File.ReadAllText(Path.Combine(TorchSharpSamplesBuild.SamplesRoot, "README.md")).ReplaceLineEndings("\n");

    private static Dictionary<string, string> Blocks() =>
        Regex.Matches(Readme, "```csharp\n// (samples/csharp/Tutorials/\\w+\\.cs)\n(.*?)```", RegexOptions.Singleline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);

    /// <summary>The lines between <c>#region readme</c> and <c>#endregion</c>, less the region's own indentation.</summary>
    private static string? Region(string path)
    {
        var text = File.ReadAllText(path).ReplaceLineEndings("\n");
        var m = Regex.Match(text, "^( *)#region readme\n(.*?)^ *#endregion", RegexOptions.Singleline | RegexOptions.Multiline);
        if (!m.Success) return null;
        int indent = m.Groups[1].Length;
        return string.Concat(m.Groups[2].Value.Split('\n').SkipLast(1)
            .Select(l => (l.Length >= indent && l[..indent].Trim().Length == 0 ? l[indent..] : l.TrimStart(' ')) + "\n"));
    }

    private static List<string> FilesWithRegion() =>
        Directory.GetFiles(Path.Combine(TorchSharpSamplesBuild.SamplesRoot, "Tutorials"), "*.cs").Order(StringComparer.Ordinal)
            .Where(f => Region(f) is not null).Select(f => Path.GetFileName(f)!).ToList();

    public static TheoryData<string> TutorialFiles() => new(FilesWithRegion());

    [Theory]
    [MemberData(nameof(TutorialFiles))]
    public void Readme_shows_the_tutorial_file_as_written(string file)
    {
        var blocks = Blocks();
        string key = $"samples/csharp/Tutorials/{file}";
        Assert.True(blocks.ContainsKey(key), $"samples/csharp/README.md has no ```csharp block starting '// {key}'");
        Assert.Equal(Region(Path.Combine(TorchSharpSamplesBuild.SamplesRoot, "Tutorials", file)), blocks[key]);
    }

    [Fact]
    public void Every_tutorial_block_names_a_file_with_a_region()
    {
        var files = FilesWithRegion().Select(f => $"samples/csharp/Tutorials/{f}").ToHashSet();
        Assert.Equal(6, files.Count);
        Assert.All(Blocks().Keys, k => Assert.Contains(k, files));
    }
}
