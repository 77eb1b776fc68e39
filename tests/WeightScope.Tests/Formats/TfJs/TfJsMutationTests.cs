using WeightScope.Tests.Robustness;
using Xunit;

namespace WeightScope.Tests.Formats.TfJs;

/// <summary>
/// The shared fuzzer's mutations applied to each file of a tfjs model folder in turn (model.json or one shard), the
/// folder then opened by path (a model.json from a stream cannot reach its shards) and every tensor read: only
/// <see cref="ModelFormatException"/> may escape, quickly.
/// </summary>
public sealed class TfJsMutationTests
{
    private static readonly int Iterations = int.TryParse(Environment.GetEnvironmentVariable("WEIGHTSCOPE_FUZZ_ITERATIONS"), out var n) ? n : 25;

    public static TheoryData<string> Folders()
    {
        var data = new TheoryData<string> { Path.Combine("tests", "fixtures", "tfjs", "mixed"), Path.Combine("tests", "fixtures", "tfjs", "layers") };
        if (TestPaths.CorpusAvailable)
            foreach (var d in Directory.GetDirectories(TestPaths.CorpusFile("tfjs")).Order(StringComparer.Ordinal))
                if (Directory.GetFiles(d).Sum(f => new FileInfo(f).Length) < 100_000) data.Add(Path.GetRelativePath(TestPaths.RepoRoot, d));
        return data;
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void Only_model_format_errors_escape(string relativeFolder)
    {
        var source = Path.Combine(TestPaths.RepoRoot, relativeFolder);
        var files = Directory.GetFiles(source).Where(f => !f.EndsWith("answers.json", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        var rng = new Random(StructuredMutations.StableSeed(relativeFolder) ^ 4242);
        var work = Directory.CreateTempSubdirectory("tfjs-fuzz-").FullName;
        try
        {
            foreach (var f in files) File.Copy(f, Path.Combine(work, Path.GetFileName(f)), overwrite: true);
            Assert.True(FuzzCheck.OpenPath(work, $"{relativeFolder} unmutated"), $"{relativeFolder} must open unmutated, or mutations only reach its first error");
            for (int i = 0; i < Iterations; i++)
            {
                foreach (var f in files) File.Copy(f, Path.Combine(work, Path.GetFileName(f)), overwrite: true);
                var target = files[rng.Next(files.Length)];
                var (mutated, how) = MutationTests.Mutate(File.ReadAllBytes(target), rng);
                File.WriteAllBytes(Path.Combine(work, Path.GetFileName(target)), mutated);
                FuzzCheck.OpenPath(work, $"{relativeFolder}: {Path.GetFileName(target)}, mutation {i} ({how})");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
