using System.Runtime.ExceptionServices;

namespace WeightScope.Threading;

/// <summary>
/// Runs work on a thread with a known, large stack. Readers and printers of nested values recurse once per level, and
/// their depth is bounded by <see cref="ReaderLimits.MaxNestingDepth"/> and <see cref="ReaderLimits.MaxDimensions"/>,
/// whose flags accept at most <see cref="ReaderLimits.DepthCeiling"/>: this stack holds that many levels of the deepest
/// walk with room to spare, so a raised limit is met by a limit error, never by a stack overflow (which .NET cannot
/// catch: it ends the process).
/// </summary>
public static class LargeStack
{
    /// <summary>
    /// The stack size, 512 MiB of address space (pages are committed only as they are touched). The deepest walk, a
    /// pickle tuple nested <see cref="ReaderLimits.DepthCeiling"/> deep opened and printed by <c>info</c>, touches far
    /// less (LargeStackTests runs it).
    /// </summary>
    public const int Size = 512 << 20;

    /// <summary>Runs <paramref name="work"/> on a new thread of <see cref="Size"/> bytes of stack and returns its result; what it throws is rethrown here, its stack trace kept.</summary>
    public static T Run<T>(Func<T> work)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try { result = work(); }
            catch (Exception e) { failure = ExceptionDispatchInfo.Capture(e); }
        }, Size) { Name = "WeightScope large stack" };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a large stack when <paramref name="limits"/> let nesting or dimensions go deeper
    /// than their defaults (which any thread's stack holds), else on the calling thread.
    /// </summary>
    public static T RunFor<T>(ReaderLimits limits, Func<T> work) =>
        limits.MaxNestingDepth > ReaderLimits.Default.MaxNestingDepth || limits.MaxDimensions > ReaderLimits.Default.MaxDimensions
            ? Run(work)
            : work();
}
