using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace WeightScope.Threading;

/// <summary>
/// Parallel loops that fail the way a sequential loop would. <see cref="Parallel.ForEach{TSource}(IEnumerable{TSource}, Action{TSource})"/>
/// wraps what its body throws in an <see cref="AggregateException"/>, in whatever order the threads failed, so a
/// corrupt tensor would reach the user as "internal error (AggregateException …)" with an offset that changes from run
/// to run. Here every item runs; then the failure of the lowest index is rethrown as itself (its stack kept), and when
/// items of other groups (tensors) failed too, a <see cref="ModelFormatException"/> says how many
/// (<see cref="ModelFormatException.MoreFailures"/>). The same input gives the same message on every run.
/// </summary>
internal static class OrderedParallel
{
    /// <summary>
    /// Runs <paramref name="body"/> for each index in [0, <paramref name="count"/>) on up to <paramref name="maxThreads"/>
    /// threads (≤ 0: one per core), with per-thread state from <paramref name="init"/> (e.g. a reused buffer).
    /// </summary>
    /// <param name="count">Number of items.</param>
    /// <param name="maxThreads">Most threads at once; ≤ 0 for one per core.</param>
    /// <param name="init">Creates a thread's state.</param>
    /// <param name="body">Runs item <c>i</c> with the thread's state and returns the state for the next item.</param>
    /// <param name="group">The group of item <c>i</c> (its tensor) for counting failures; null counts nothing.</param>
    /// <param name="groupNoun">What a group is called in the message ("tensor").</param>
    /// <param name="cancellationToken">Checked before each item: once it is cancelled no new item starts, and the loop
    /// throws <see cref="OperationCanceledException"/> (not a failure of any item).</param>
    /// <remarks>
    /// The threads come from <see cref="TaskScheduler.Current"/> (the thread pool unless the caller runs as a task on a
    /// scheduler of its own): a caller that runs the loop on a scheduler of limited concurrency bounds the loop's
    /// threads too.
    /// </remarks>
    public static void For<TState>(int count, int maxThreads, Func<TState> init, Func<int, TState, TState> body,
        Func<int, int>? group = null, string groupNoun = "tensor", CancellationToken cancellationToken = default)
    {
        if (count <= 0) return;
        var failures = new ConcurrentBag<(int Index, Exception Error)>();
        var options = new ParallelOptions
        {
            MaxDegreeOfParallelism = maxThreads > 0 ? maxThreads : Environment.ProcessorCount,
            CancellationToken = cancellationToken,
            TaskScheduler = TaskScheduler.Current, // see remarks
        };
        Parallel.ForEach(Partitioner.Create(0, count, 1), options, init,
            (range, _, state) =>
            {
                for (int i = range.Item1; i < range.Item2; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    try { state = body(i, state); }
                    catch (Exception e) when (e is not OperationCanceledException) { failures.Add((i, e)); }
                }
                return state;
            },
            _ => { });
        ThrowFirst(failures, group, groupNoun);
    }

    /// <summary>As <see cref="For{TState}"/> without per-thread state.</summary>
    public static void For(int count, int maxThreads, Action<int> body, Func<int, int>? group = null, string groupNoun = "tensor") =>
        For<object?>(count, maxThreads, () => null, (i, s) => { body(i); return s; }, group, groupNoun);

    private static void ThrowFirst(ConcurrentBag<(int Index, Exception Error)> failures, Func<int, int>? group, string groupNoun)
    {
        if (failures.IsEmpty) return;
        var ordered = failures.OrderBy(f => f.Index).ToList();
        var first = ordered[0];
        if (group is not null && first.Error is ModelFormatException mfe)
        {
            int firstGroup = group(first.Index);
            int more = ordered.Select(f => group(f.Index)).Where(g => g != firstGroup).Distinct().Count();
            if (more > 0) throw mfe.WithMoreFailures(more, groupNoun);
        }
        ExceptionDispatchInfo.Throw(first.Error);
    }
}
