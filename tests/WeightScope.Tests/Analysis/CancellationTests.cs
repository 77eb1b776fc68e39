using System.Runtime.InteropServices;
using WeightScope.Analysis;
using WeightScope.Plotting;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Analysis;

/// <summary>
/// The chunk loops stop at the next chunk once their token is cancelled (issue 17 §6: a viewer whose client went away
/// stops computing), throwing <see cref="OperationCanceledException"/> — never an AggregateException or a partial
/// result — and parallel loops run on the caller's task scheduler, so a caller that bounds its scheduler bounds them.
/// </summary>
public sealed class CancellationTests
{
    private const int Chunk = 1000;
    private const int Chunks = 64;

    private static TensorEntry Tensor(string name = "t")
    {
        var values = Enumerable.Range(0, Chunk * Chunks).Select(i => (float)Math.Sin(i)).ToArray();
        return new TensorEntry(name, DType.Float32, new Shape(Chunks, Chunk), new ArrayStorage(MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), name));
    }

    private static CancellationToken Cancelled() => new(canceled: true);

    [Fact]
    public void A_token_cancelled_before_the_start_reads_nothing()
    {
        var t = Tensor();
        int chunks = 0;
        Assert.Throws<OperationCanceledException>(() => TensorChunks.ForEach(t, (_, _) => chunks++, Chunk, Cancelled()));
        Assert.Throws<OperationCanceledException>(() => TensorChunks.ForEachParallel(t, (_, _) => Interlocked.Increment(ref chunks), Chunk, 2, Cancelled()));
        Assert.Throws<OperationCanceledException>(() => TensorChunks.ForEachPair(t, t, (_, _, _) => chunks++, Chunk, Cancelled()));
        Assert.Equal(0, chunks);
        long bytes = 0;
        Assert.Throws<OperationCanceledException>(() => Stats.Compute([t], progress: b => Interlocked.Add(ref bytes, b), cancellationToken: Cancelled()));
        Assert.Equal(0, bytes);
        Assert.Throws<OperationCanceledException>(() => Histogram.Compute(t, 10, cancellationToken: Cancelled()));
        Assert.Throws<OperationCanceledException>(() => Histogram.Compute(t, 10, -1, 1, Cancelled()));
        Assert.Throws<OperationCanceledException>(() => Diff.ComparePair(t, Tensor("u"), cancellationToken: Cancelled()));
        Assert.Throws<OperationCanceledException>(() => Plot.Heatmap(t, cancellationToken: Cancelled()));
    }

    [Fact]
    public void A_token_cancelled_midway_stops_at_the_next_chunk()
    {
        var t = Tensor();
        using var cts = new CancellationTokenSource();
        int seen = 0;
        Assert.Throws<OperationCanceledException>(() => TensorChunks.ForEach(t, (_, _) =>
        {
            if (++seen == 3) cts.Cancel();
        }, Chunk, cts.Token));
        Assert.Equal(3, seen);

        // In parallel: chunks already started finish, no new one starts. "Started" is "past its check": on a busy
        // machine each of the two threads may be between its check and its body when the token fires (seen 3 to 5 at
        // load 20), but a loop that ignored the token would see all 64.
        using var cts2 = new CancellationTokenSource();
        int parallelSeen = 0;
        Assert.Throws<OperationCanceledException>(() => TensorChunks.ForEachParallel(t, (_, _) =>
        {
            if (Interlocked.Increment(ref parallelSeen) == 3) cts2.Cancel();
        }, Chunk, 2, cts2.Token));
        Assert.InRange(parallelSeen, 3, 5);

        using var cts3 = new CancellationTokenSource();
        int statsChunks = 0;
        Assert.Throws<OperationCanceledException>(() => Stats.Compute([t], 1e-6f, _ =>
        {
            if (Interlocked.Increment(ref statsChunks) == 3) cts3.Cancel();
        }, 2, Chunk, cts3.Token));
        Assert.InRange(statsChunks, 3, 5);
    }

    [Fact]
    public async Task Parallel_chunks_run_on_the_callers_scheduler()
    {
        // A scheduler of one thread: the loop's chunks never overlap, though it asks for four threads.
        var one = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, 1).ConcurrentScheduler;
        int active = 0, most = 0;
        await Task.Factory.StartNew(() => TensorChunks.ForEachParallel(Tensor(), (_, _) =>
        {
            int now = Interlocked.Increment(ref active);
            InterlockedMax(ref most, now);
            Thread.Sleep(1);
            Interlocked.Decrement(ref active);
        }, Chunk, maxThreads: 4), CancellationToken.None, TaskCreationOptions.None, one);
        Assert.Equal(1, most);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
