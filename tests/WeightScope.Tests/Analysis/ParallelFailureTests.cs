using System.Text.Json;
using WeightScope.Analysis;
using Xunit;

namespace WeightScope.Tests.Analysis;

/// <summary>
/// Work that runs in parallel fails as a sequential loop would (issue 16 §2): over <c>analysis/corrupt_chunks.h5</c>,
/// where h5py lists six datasets and cannot read <c>b</c>, <c>d</c> and <c>f</c> (<c>corrupt_chunks.json</c>, written
/// by <c>generate/corrupt_tensors.py</c>), statistics, health and histograms throw the format's own exception for the
/// first undecodable tensor in file order, at its first damaged chunk, naming the file and counting the others — the
/// same message on every run, whatever the threads and chunk sizes.
/// </summary>
public sealed class ParallelFailureTests
{
    private static readonly string File = TestPaths.Fixture("analysis", "corrupt_chunks.h5");
    private static readonly JsonElement Answers =
        JsonDocument.Parse(System.IO.File.ReadAllText(TestPaths.Fixture("analysis", "corrupt_chunks.json"))).RootElement;

    private static long FirstDamagedChunk(string name) => Answers.GetProperty("damaged_chunk_offsets").GetProperty(name)[0].GetInt64();

    private static string[] Unreadable() => Answers.GetProperty("datasets").EnumerateArray()
        .Where(d => d.TryGetProperty("h5py_error", out _)).Select(d => d.GetProperty("name").GetString()!).ToArray();

    private static ModelFormatException Fails(Action action)
    {
        var e = Record.Exception(action);
        Assert.NotNull(e);
        return Assert.IsAssignableFrom<ModelFormatException>(e); // never an AggregateException
    }

    [Fact]
    public void Stats_names_the_first_undecodable_tensor_and_counts_the_rest_the_same_on_every_run()
    {
        Assert.Equal(["b", "d", "f"], Unreadable());
        var messages = new HashSet<string>();
        foreach (var (threads, chunk) in new[] { (1, 1 << 20), (2, 64), (4, 7), (8, 1000) })
            for (int run = 0; run < 5; run++)
            {
                using var m = ModelFile.Open(File);
                var e = Fails(() => Stats.Compute(m.Tensors, Stats.DefaultEps, null, threads, chunk));
                Assert.Equal("b", e.Entry);
                Assert.Equal(FirstDamagedChunk("b"), e.Offset);
                Assert.Equal(File, e.FilePath);
                Assert.Equal(2, e.MoreFailures);
                Assert.Contains("2 more tensors could not be read either", e.Message, StringComparison.Ordinal);
                messages.Add(e.Message);
            }
        Assert.Single(messages);
    }

    [Fact]
    public void One_undecodable_tensor_is_reported_alone()
    {
        using var m = ModelFile.Open(File);
        var e = Fails(() => Stats.Compute(m.Tensors.Where(t => t.Name is "a" or "d" or "e"), Stats.DefaultEps, null, 4, 64));
        Assert.Equal(("d", FirstDamagedChunk("d"), 0), (e.Entry, e.Offset, e.MoreFailures));
        Assert.DoesNotContain("more tensor", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_readable_tensors_have_h5pys_sums()
    {
        using var m = ModelFile.Open(File);
        Assert.Equal(Answers.GetProperty("datasets").EnumerateArray().Select(d => d.GetProperty("name").GetString()), m.Tensors.Select(t => t.Name));
        foreach (var d in Answers.GetProperty("datasets").EnumerateArray().Where(d => d.TryGetProperty("sum", out _)))
        {
            var report = Stats.Compute([m.Tensors[d.GetProperty("name").GetString()!]], Stats.DefaultEps, null, 4, 64);
            Assert.Equal(d.GetProperty("sum").GetDouble(), report.Tensors[0].Mean!.Value * report.Tensors[0].Count, 1e-3);
        }
    }

    [Fact]
    public void Health_fails_like_stats()
    {
        using var m = ModelFile.Open(File);
        var e = Fails(() => Health.Check(m));
        Assert.Equal(("b", FirstDamagedChunk("b"), 2, File), (e.Entry, e.Offset, e.MoreFailures, e.FilePath));
    }

    [Theory]
    [InlineData("b")]
    [InlineData("d")]
    public void Histograms_and_chunked_reads_fail_at_the_first_damaged_chunk(string name)
    {
        for (int run = 0; run < 5; run++)
        {
            using var m = ModelFile.Open(File);
            var t = m.Tensors[name];
            var e = Fails(() => Histogram.Compute(t, 10));
            Assert.Equal((name, FirstDamagedChunk(name), File), (e.Entry, e.Offset, e.FilePath));
            using var again = ModelFile.Open(File);
            e = Fails(() => TensorChunks.ForEachParallel(again.Tensors[name], (_, _) => { }, chunkElements: 64, maxThreads: 4));
            Assert.Equal((name, FirstDamagedChunk(name)), (e.Entry, e.Offset));
        }
    }
}
