using WeightScope.Tests.Robustness;
using Xunit;

namespace WeightScope.Tests.Formats.TensorFlow;

/// <summary>
/// Seeded mutations of real checkpoint indexes opened beside their real data shards, so entries are mapped and every
/// tensor read (the registry-wide fuzzer opens from a stream, where shards are not found). Also mutates the shard.
/// Only <see cref="ModelFormatException"/> may escape.
/// </summary>
public sealed class TfCheckpointMutationTests
{
    private static readonly int Iterations = int.TryParse(Environment.GetEnvironmentVariable("WEIGHTSCOPE_FUZZ_ITERATIONS"), out var n) ? n : 100;

    public static TheoryData<string> Indexes() =>
    [
        "tf-savedmodel/tf-serving/saved_model_half_plus_two_cpu/variables/variables.index",
        "tf-savedmodel/tf-serving/saved_model_half_plus_two_tf2_cpu/variables/variables.index",
        "tf-savedmodel/tfnet/leak_testmodel/saved_model/variables/variables.index",
        "tf-savedmodel/tfnet/lstm_from_sequential/variables/variables.index",
    ];

    [CorpusTheory]
    [MemberData(nameof(Indexes))]
    public void Only_model_format_errors_escape(string index)
    {
        using var dir = new TempDir();
        var src = TestPaths.CorpusFile(index);
        var shardName = "variables.data-00000-of-00001";
        var indexBytes = File.ReadAllBytes(src);
        var shardBytes = File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(src)!, shardName));
        File.WriteAllBytes(Path.Combine(dir.Path, "variables.index"), indexBytes);
        File.WriteAllBytes(Path.Combine(dir.Path, shardName), shardBytes);
        Assert.True(FuzzCheck.OpenPath(Path.Combine(dir.Path, "variables.index"), $"{index} unmutated"), $"{index} must open unmutated");
        var rng = new Random(index.Length * 7919);
        for (int i = 0; i < Iterations; i++)
        {
            bool mutateShard = rng.Next(4) == 0;
            string which = mutateShard ? "shard" : "index";
            var (mutated, how) = MutationTests.Mutate(mutateShard ? shardBytes : indexBytes, rng);
            var idx = mutateShard ? indexBytes : mutated;
            var shard = mutateShard ? mutated : shardBytes;
            File.WriteAllBytes(Path.Combine(dir.Path, "variables.index"), idx);
            File.WriteAllBytes(Path.Combine(dir.Path, shardName), shard);
            FuzzCheck.OpenPath(Path.Combine(dir.Path, "variables.index"), $"{index}, mutation {i} ({how}, {which})");
        }
    }
}
