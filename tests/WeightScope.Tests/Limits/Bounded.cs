using System.Diagnostics;
using Xunit;

namespace WeightScope.Tests.Limits;

/// <summary>
/// Runs work under the issue 17 budget for small inputs (≤ 2 s, ≤ a few hundred MB), with ceilings several times the
/// target so a busy CI machine does not flake: a hang or a huge allocation fails the test instead of stalling the run.
/// </summary>
internal static class Bounded
{
    /// <summary>Wall-clock ceiling: ten times the 2 s target.</summary>
    public static readonly TimeSpan Time = TimeSpan.FromSeconds(20);

    /// <summary>Managed bytes the work may allocate on its thread: the "few hundred MB" of the target.</summary>
    public const long Bytes = 300L << 20;

    /// <summary>
    /// Runs <paramref name="work"/> on its own thread (the default stack size, so a recursion that would overflow a
    /// real caller's stack overflows here too) and returns what it threw, or null.
    /// </summary>
    public static Exception? Run(Action work, long bytes = Bytes)
    {
        long allocated = 0;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { work(); }
            catch (Exception e) { failure = e; }
            finally { allocated = GC.GetAllocatedBytesForCurrentThread() - before; }
        }) { IsBackground = true };
        var watch = Stopwatch.StartNew();
        thread.Start();
        Assert.True(thread.Join(Time), $"did not finish within {Time}");
        Assert.True(allocated < bytes, $"allocated {allocated:N0} bytes, more than the {bytes:N0} allowed");
        return failure;
    }

    /// <summary>Runs <paramref name="work"/> within the bounds and returns the exception of type <typeparamref name="T"/> it threw.</summary>
    public static T Fails<T>(Action work, long bytes = Bytes) where T : Exception
    {
        var e = Run(work, bytes);
        Assert.NotNull(e);
        return Assert.IsAssignableFrom<T>(e);
    }

    /// <summary>Runs <paramref name="work"/> within the bounds and checks it succeeded.</summary>
    public static void Succeeds(Action work, long bytes = Bytes)
    {
        var e = Run(work, bytes);
        Assert.True(e is null, $"failed: {e}");
    }

    /// <summary>Opens <paramref name="path"/> and reads every tensor's values (the work of <c>stats</c>).</summary>
    public static void OpenAndReadAll(string path, ReaderOptions? options = null)
    {
        using var m = ModelFile.Open(path, options);
        foreach (var t in m.Tensors) t.ReadBytes();
    }
}
