using System.Text.Json;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary>
/// Every verb that reads values, over a file where some tensors cannot be decoded (<c>analysis/corrupt_chunks.h5</c>:
/// h5py cannot read <c>b</c>, <c>d</c>, <c>f</c>), exits 3 with the format's own message — file, format, entry, offset,
/// what — as <c>show</c> gives it; never "internal error" or an AggregateException, and the same on every run.
/// </summary>
public sealed class ParallelErrorCliTests : IDisposable
{
    private static readonly string File = TestPaths.Fixture("analysis", "corrupt_chunks.h5");
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-parallel-errors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static long FirstDamagedChunk(string name)
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(TestPaths.Fixture("analysis", "corrupt_chunks.json")));
        return doc.RootElement.GetProperty("damaged_chunk_offsets").GetProperty(name)[0].GetInt64();
    }

    private static string Expected(string name) => $"weightscope: {File}, hdf5, entry '{name}', offset {FirstDamagedChunk(name)}: ";

    public static TheoryData<string, string[]> Verbs() => new()
    {
        { "b", ["stats", File] },
        { "b", ["stats", File, "--json"] },
        { "b", ["health", File] },
        { "b", ["hist", File, "b", "--bins", "10"] },
        { "d", ["heatmap", File, "d", "--out", "{dir}/d.png"] },
        { "b", ["convert", File, "{dir}/out.npz"] },
        { "b", ["convert", File, "{dir}/out.safetensors", "--dtype", "float16"] },
        { "b", ["export", File, "--to", "txt", "--out", "{dir}/txt"] },
        { "b", ["diff", File, File] },
        { "d", ["show", File, "d"] },
    };

    [Theory]
    [MemberData(nameof(Verbs))]
    public void Exits_3_with_the_first_failure_in_file_order(string name, string[] args)
    {
        var messages = new HashSet<string>();
        for (int run = 0; run < 3; run++)
        {
            var r = CliRunner.Run([.. args.Select(a => a.Replace("{dir}", _dir, StringComparison.Ordinal))]);
            Assert.True(r.ExitCode == 3, $"exit {r.ExitCode}: {r.Stderr}");
            Assert.StartsWith(Expected(name), r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("Aggregate", r.Stderr, StringComparison.Ordinal);
            messages.Add(r.Stderr);
        }
        Assert.Single(messages);
        Assert.DoesNotContain(Directory.EnumerateFiles(_dir, "out.*"), _ => true); // a failed convert leaves nothing behind
    }

    [Fact]
    public void Stats_counts_the_other_tensors_that_failed()
    {
        var r = CliRunner.Run("stats", File);
        Assert.Contains("(2 more tensors could not be read either; this is the first in file order)", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void The_readable_tensors_still_work()
    {
        var r = CliRunner.Run("stats", File, "a", "c", "e", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(0, CliRunner.Run("list", File).ExitCode);
    }
}
