using System.Diagnostics;
using System.Runtime.InteropServices;
using WeightScope.Analysis;
using WeightScope.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace WeightScope.Web.Tests;

/// <summary>
/// A client that goes away stops its computation (issue 17 §6): queued, it never starts; running, it stops at its next
/// chunk; either way nothing is cached, and the next request computes afresh. The tensors are slow on purpose (each
/// chunk read takes <see cref="SlowStorage.Delay"/>, and A's first read waits at a gate the test opens), so the
/// computation is still running whatever the machine's speed, and their read counters show where it stopped.
/// </summary>
public sealed class ViewerCancellationTests(ITestOutputHelper output)
{
    /// <summary>Elements of each tensor: 64 chunks of <see cref="TensorChunks.DefaultChunkElements"/>.</summary>
    private const int Chunks = 64;

    /// <summary>Float32 values <c>(i mod 1000) / 1000</c>, generated on read, each read counted and slowed down.</summary>
    private sealed class SlowStorage(long elements, string key) : TensorStorage(key)
    {
        public static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(20);

        public int Reads;

        /// <summary>Closed: reads wait here.</summary>
        public readonly ManualResetEventSlim Gate = new(initialState: true);

        public override long ByteLength => elements * sizeof(float);

        protected override void ReadCore(long offset, Span<byte> destination)
        {
            Interlocked.Increment(ref Reads);
            Gate.Wait(TimeSpan.FromSeconds(30));
            Thread.Sleep(Delay);
            var values = MemoryMarshal.Cast<byte, float>(destination);
            long first = offset / sizeof(float);
            for (int i = 0; i < values.Length; i++) values[i] = (first + i) % 1000 / 1000f;
        }
    }

    [Fact]
    public void A_client_that_goes_away_cancels_its_computation_and_leaves_nothing_cached()
    {
        var shape = new Shape(Chunks, TensorChunks.DefaultChunkElements);
        var (slowA, slowB) = (new SlowStorage(shape.ElementCount, "a"), new SlowStorage(shape.ElementCount, "b"));
        var model = new ModelFile(new ModelFormatInfo("memory"), new TensorCollection([
            new TensorEntry("a", DType.Float32, shape, slowA), new TensorEntry("b", DType.Float32, shape, slowB)]));
        // One heavy computation at a time: A runs while B waits its turn.
        using var served = new Served(ViewerServer.Start([model], 0, limits: new ViewerLimits { HeavyConcurrency = 1 }));
        var (cache, heavy) = (served.Server.Session.Cache, served.Server.Session.Heavy);
        string State() => $"pending {heavy.Pending}, started {heavy.Started}, stopped {heavy.Stopped}, completed {heavy.Completed}; " +
                          $"cache: {cache.Computations} computations, {cache.Cancellations} cancelled; reads: A {slowA.Reads}, B {slowB.Reads}";

        using var goneA = new CancellationTokenSource();
        using var goneB = new CancellationTokenSource();
        slowA.Gate.Reset();
        var a = served.Http.GetAsync("/api/files/0/tensors/0/stats", goneA.Token);
        Until(() => slowA.Reads == 1, "A to start reading", State);
        var b = served.Http.GetAsync("/api/files/0/tensors/1/stats", goneB.Token);
        Until(() => heavy.Pending == 2, "B to queue", State);

        // B's client goes away before its turn: B leaves the queue and never starts.
        goneB.Cancel();
        Until(() => heavy.Pending == 1, "B to leave the queue", State);
        Assert.Equal(0, slowB.Reads);

        // A's client goes away mid-computation (in its first read): A stops at its next chunk, its other chunks never
        // read. The gate opens a moment later, time for the server to learn of it; were it late, A would read a few
        // more chunks, 20 ms each, before stopping.
        int readsAtCancel = slowA.Reads;
        var clock = Stopwatch.StartNew();
        goneA.Cancel();
        Thread.Sleep(200);
        slowA.Gate.Set();
        Until(() => heavy.Pending == 0, "A to stop", State);
        double stopMs = clock.Elapsed.TotalMilliseconds;
        Assert.ThrowsAny<OperationCanceledException>(() => a.GetAwaiter().GetResult());
        Assert.ThrowsAny<OperationCanceledException>(() => b.GetAwaiter().GetResult());
        output.WriteLine($"A read {readsAtCancel} of {Chunks} chunks when its client went away, {slowA.Reads} in all; it stopped {stopMs:F0} ms later");
        Assert.True(slowA.Reads < Chunks, State());
        Assert.Equal((1, 1, 0), (heavy.Started, heavy.Stopped, heavy.Completed));
        Until(() => cache.Cancellations == 2, "the cache to drop both", State); // it learns of it just after the queue
        Assert.Equal(0, cache.Count);

        // Asked again, A is computed afresh, in full, and equals the library's statistics.
        var j = served.Json("/api/files/0/tensors/0/stats");
        var expected = Stats.Compute([model.Tensors["a"]]).Tensors[0];
        Assert.Equal(expected.Mean, j.GetProperty("mean").GetDouble());
        Assert.Equal(expected.Std, j.GetProperty("std").GetDouble());
        Assert.Equal(expected.Max, j.GetProperty("max").GetDouble());
        Assert.Equal((1, 3, 1), (heavy.Completed, cache.Computations, cache.Count));
    }

    /// <summary>Waits (at most 30 s, polling) for <paramref name="condition"/>.</summary>
    internal static void Until(Func<bool> condition, string what, Func<string> state)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"waited 30 s for {what} ({state()})");
            Thread.Sleep(5);
        }
    }
}
