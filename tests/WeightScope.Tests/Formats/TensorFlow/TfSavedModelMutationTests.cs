using WeightScope.Tests.Robustness;
using Xunit;

namespace WeightScope.Tests.Formats.TensorFlow;

/// <summary>
/// Seeded mutations of real <c>saved_model.pb</c> and <c>keras_metadata.pb</c> files, opened as their SavedModel folder
/// beside the real variables: a graph or Keras metadata that is corrupt, truncated or differently shaped must give a
/// <see cref="ModelFormatException"/> or still open; nothing else may escape.
/// </summary>
public sealed class TfSavedModelMutationTests
{
    private static readonly int Iterations = int.TryParse(Environment.GetEnvironmentVariable("WEIGHTSCOPE_FUZZ_ITERATIONS"), out var n) ? n : 60;

    public static TheoryData<string, string> Files() => new()
    {
        { "tf-savedmodel/tf-serving/saved_model_half_plus_two_cpu", "saved_model.pb" },
        { "tf-savedmodel/tf-serving/saved_model_half_plus_two_tf2_cpu", "saved_model.pb" },
        { "tf-savedmodel/tfnet/leak_testmodel/saved_model", "saved_model.pb" },
        { "tf-savedmodel/tfnet/lstm_from_sequential", "keras_metadata.pb" },
        { "tf-savedmodel/tfnet/simple_model_from_auto_compile", "saved_model.pb" },
        { "tf-savedmodel/tfnet/example1_graph_only", "saved_model.pb" },
    };

    [CorpusTheory]
    [MemberData(nameof(Files))]
    public void Only_model_format_errors_escape(string folder, string file)
    {
        using var dir = new TempDir();
        var src = TestPaths.CorpusFile(folder);
        foreach (var f in Directory.GetFiles(src, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(dir.Path, Path.GetRelativePath(src, f));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(f, to);
        }
        var original = File.ReadAllBytes(Path.Combine(src, file));
        Assert.True(FuzzCheck.OpenPath(dir.Path, $"{folder} unmutated"), $"{folder} must open unmutated");
        var rng = new Random(folder.Length * 7919 + file.Length);
        for (int i = 0; i < Iterations; i++)
        {
            var (bytes, how) = MutationTests.Mutate(original, rng);
            File.WriteAllBytes(Path.Combine(dir.Path, file), bytes);
            FuzzCheck.OpenPath(dir.Path, $"{folder}/{file}, mutation {i} ({how})");
        }
    }
}
