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
        var rng = new Random(index.Length * 7919);
        for (int i = 0; i < Iterations; i++)
        {
            var idx = (byte[])indexBytes.Clone();
            var shard = (byte[])shardBytes.Clone();
            var target = rng.Next(4) == 0 ? shard : idx;
            string which = target == shard ? "shard" : "index";
            string how;
            switch (rng.Next(3))
            {
                case 0:
                    int at = rng.Next(target.Length);
                    target[at] ^= (byte)(1 << rng.Next(8));
                    how = $"flip at {at}";
                    break;
                case 1:
                    int k = rng.Next(1, 5);
                    for (int j = 0; j < k; j++) target[rng.Next(target.Length)] = (byte)rng.Next(256);
                    how = $"{k} random bytes";
                    break;
                default:
                    int cut = rng.Next(target.Length);
                    if (target == idx) idx = idx[..cut]; else shard = shard[..cut];
                    how = $"truncate to {cut}";
                    break;
            }
            File.WriteAllBytes(Path.Combine(dir.Path, "variables.index"), idx);
            File.WriteAllBytes(Path.Combine(dir.Path, shardName), shard);
            try
            {
                using var m = ModelFile.Open(Path.Combine(dir.Path, "variables.index"));
                foreach (var t in m.Tensors) _ = t.ToFloat32();
            }
            catch (ModelFormatException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"{index}, mutation {i} ({how}, {which}): {e.GetType().Name} escaped: {e.Message}\n{e.StackTrace}");
            }
        }
    }
}
