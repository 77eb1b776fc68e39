using Xunit;
using System.Runtime.CompilerServices;

namespace WeightScope.Tests;

/// <summary>Where fixtures and the shared corpus are, found from this source file's location.</summary>
public static class TestPaths
{
    private static string ThisDir([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    /// <summary>The repository root.</summary>
    public static string RepoRoot { get; } = Path.GetFullPath(Path.Combine(ThisDir(), "..", ".."));

    /// <summary><c>tests/fixtures</c>.</summary>
    public static string Fixtures { get; } = Path.Combine(RepoRoot, "tests", "fixtures");

    /// <summary>A file under <c>tests/fixtures</c>.</summary>
    public static string Fixture(params string[] parts) => Path.Combine([Fixtures, .. parts]);

    /// <summary><c>../shared/corpus</c> beside the repository (may be absent: see <see cref="CorpusAvailable"/>).</summary>
    public static string Corpus { get; } = Environment.GetEnvironmentVariable("WEIGHTSCOPE_CORPUS")
        ?? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "corpus"));

    /// <summary>True when the shared corpus folder exists.</summary>
    public static bool CorpusAvailable => Directory.Exists(Corpus);

    /// <summary>A file in the corpus.</summary>
    public static string CorpusFile(string relative) => Path.Combine(Corpus, relative);
}

/// <summary>A fact that needs the shared corpus: skipped, with the reason shown, when the corpus folder is absent.</summary>
public sealed class CorpusFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the corpus is missing.</summary>
    public CorpusFactAttribute()
    {
        if (!TestPaths.CorpusAvailable) Skip = $"shared corpus not found at {TestPaths.Corpus} (set WEIGHTSCOPE_CORPUS)";
    }
}

/// <summary>A theory that needs the shared corpus: skipped, with the reason shown, when the corpus folder is absent.</summary>
public sealed class CorpusTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the corpus is missing.</summary>
    public CorpusTheoryAttribute()
    {
        if (!TestPaths.CorpusAvailable) Skip = $"shared corpus not found at {TestPaths.Corpus} (set WEIGHTSCOPE_CORPUS)";
    }
}
