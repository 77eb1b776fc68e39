using WeightScope.Tests.Robustness;
using Xunit;

namespace WeightScope.Tests.Formats.Onnx;

/// <summary>
/// Seeded mutations of the ONNX fixtures and the small corpus ONNX files, opened by path (so <c>.pb</c> detection by
/// name and external data beside the model are exercised, which the stream-based Robustness/MutationTests cannot):
/// only <see cref="ModelFormatException"/> may escape, quickly. Mutating the external data file as well as the model.
/// </summary>
public sealed class OnnxMutationTests : IDisposable
{
    private static readonly int Iterations = int.TryParse(Environment.GetEnvironmentVariable("WEIGHTSCOPE_FUZZ_ITERATIONS"), out var n) ? n : 40;
    private readonly string _dir = Directory.CreateTempSubdirectory("weightscope-onnx-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Inputs()
    {
        var files = Directory.GetFiles(TestPaths.Fixture("onnx")).Where(f => !f.EndsWith(".json", StringComparison.Ordinal)).ToList();
        if (TestPaths.CorpusAvailable)
            files.AddRange(Directory.GetFiles(TestPaths.CorpusFile("onnx"), "*", SearchOption.AllDirectories).Where(f => new FileInfo(f).Length < 100_000));
        var data = new TheoryData<string>();
        foreach (var f in files.Order(StringComparer.Ordinal)) data.Add(Path.GetRelativePath(TestPaths.RepoRoot, f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Only_model_format_errors_escape(string relativePath)
    {
        var source = Path.Combine(TestPaths.RepoRoot, relativePath);
        var original = File.ReadAllBytes(source);
        var rng = new Random(StructuredMutations.StableSeed(relativePath) ^ 4242);
        // The mutated file keeps its name; a model's siblings (external data) are copied beside it, a data file's model too.
        foreach (var sibling in Directory.GetFiles(Path.GetDirectoryName(source)!).Where(f => f != source && new FileInfo(f).Length < 1_000_000))
            File.Copy(sibling, Path.Combine(_dir, Path.GetFileName(sibling)), overwrite: true);
        var target = Path.Combine(_dir, Path.GetFileName(source));
        var open = target.EndsWith(".data", StringComparison.Ordinal) ? target[..^".data".Length] : target;
        File.WriteAllBytes(target, original);
        bool baseline = FuzzCheck.OpenPath(open, $"{relativePath} unmutated");
        // Every input is a valid model (or its external data) except the crafted bad ones among the fixtures.
        Assert.True(baseline || relativePath.Contains("bad", StringComparison.Ordinal), $"{relativePath} must open unmutated, or mutations only reach its first error");
        for (int i = 0; i < Iterations; i++)
        {
            var (mutated, how) = MutationTests.Mutate(original, rng);
            File.WriteAllBytes(target, mutated);
            FuzzCheck.OpenPath(open, $"{relativePath}, mutation {i} ({how})");
        }
    }
}
