using System.Text.Json;
using WeightScope.Tests;
using WeightScope.Tests.Packaging;
using Xunit;

namespace WeightScope.TorchSharp.Tests.Samples;

/// <summary>
/// Builds <c>samples/csharp/TorchSharpSamples.slnx</c> (LoadIntoTorchSharp and Tutorials) once for every test class of
/// the collection, and runs the built programs from the repository root (their default paths are relative to it).
/// </summary>
public sealed class TorchSharpSamplesBuild
{
    public static string SamplesRoot => Path.Combine(TestPaths.RepoRoot, "samples", "csharp");

    /// <summary>The fixtures the tutorials load and torch's answers (tests/fixtures/generate/torchsharp_tutorials.py).</summary>
    public static string Fixtures => TestPaths.Fixture("torchsharp-tutorials");

    // BuildProjectReferences=false: the libraries were built with this test project (same configuration), and
    // `dotnet test` of the solution runs the main suite at the same time, whose SamplesTests builds
    // samples/csharp/Samples.slnx; not rebuilding src/ here keeps the two builds out of each other's obj/ folders.
    // ShouldUnsetParentConfigurationAndPlatform=false: src/ is not in this .slnx, and MSBuild resolves a reference to a
    // project outside the solution in its default (Debug) configuration unless told to keep the solution's; on a clean
    // checkout there is no Debug build to find.
    public TorchSharpSamplesBuild() =>
        Dotnet.Run(TestPaths.RepoRoot, ["build", Path.Combine(SamplesRoot, "TorchSharpSamples.slnx"), "-c", Dotnet.Configuration, "--nologo", "-v", "q",
            "-nodeReuse:false", "-p:BuildProjectReferences=false", "-p:ShouldUnsetParentConfigurationAndPlatform=false"]);

    /// <summary>Runs a built sample; returns its exit code and output whatever the exit code.</summary>
    public Dotnet.Result Run(string sample, params string[] args)
    {
        var dll = Path.Combine(SamplesRoot, sample, "bin", Dotnet.Configuration, "net10.0", sample + ".dll");
        return Dotnet.RunProgram("dotnet", [dll, .. args], TestPaths.RepoRoot);
    }

    /// <summary>Runs a built sample that must exit 0; returns its stdout.</summary>
    public string RunOk(string sample, params string[] args)
    {
        var r = Run(sample, args);
        Assert.True(r.ExitCode == 0, $"{sample} {string.Join(' ', args)}:\n{r.Output}");
        return r.Stdout;
    }

    /// <summary>torch's answers for the tutorials (answers.json).</summary>
    public static JsonElement Answers { get; } = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, "answers.json"))).RootElement;

    public static string[] Lines(string text) => text.TrimEnd('\n').Split('\n');
}

/// <summary>The test classes that run the TorchSharp samples share one build.</summary>
[CollectionDefinition(Name)]
public sealed class TorchSharpSamplesCollection : ICollectionFixture<TorchSharpSamplesBuild>
{
    public const string Name = "TorchSharp samples";
}
