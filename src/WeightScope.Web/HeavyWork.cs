using System.Collections.Concurrent;

namespace WeightScope.Web;

/// <summary>
/// The queue heavy computations wait in: first come, first served, at most <see cref="ViewerLimits.HeavyConcurrency"/>
/// running at once and at most <see cref="ViewerLimits.MaxPendingHeavy"/> accepted. Computations run as tasks on
/// <see cref="HeavyThreads"/>, threads of their own, so the parallel loops inside them (<c>Stats</c>,
/// <c>Histogram</c>), which schedule on <see cref="TaskScheduler.Current"/>, share those threads instead of taking
/// every core and the thread pool: the pool stays free for the requests, and the light ones keep a core. A
/// computation whose token is cancelled before its turn never starts; once started, it sees the token between chunks.
/// Nothing here takes a lock a light request could wait on.
/// </summary>
internal sealed class HeavyWork : IDisposable
{
    private readonly HeavyThreads _scheduler;
    private readonly int _maxPending;
    private readonly ConcurrentDictionary<Task, byte> _pending = new();
    private long _started, _completed, _stopped;

    public HeavyWork(int concurrency, int maxPending)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPending, 1);
        _scheduler = new HeavyThreads(concurrency);
        _maxPending = maxPending;
        Concurrency = concurrency;
    }

    /// <summary>Computations that may run at once.</summary>
    public int Concurrency { get; }

    /// <summary>Computations accepted and not yet finished (running or waiting).</summary>
    public int Pending => _pending.Count;

    /// <summary>Computations that started running.</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <summary>Computations that ran to their end (a result or the file's error).</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Computations that started and stopped early because their token was cancelled.</summary>
    public long Stopped => Interlocked.Read(ref _stopped);

    /// <summary>Queues <paramref name="work"/>; the task ends with its result, its exception, or cancelled.</summary>
    /// <exception cref="ViewerBusyException"><see cref="ViewerLimits.MaxPendingHeavy"/> computations are already pending.</exception>
    public Task<T> Run<T>(Func<CancellationToken, T> work, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<T>(cancellationToken);
        // A bound checked before queueing: a racing pair may both pass when one place is left, which only lets the
        // queue reach the bound plus the number of request threads.
        if (_pending.Count >= _maxPending) throw new ViewerBusyException(_pending.Count);
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The job carries no token of its own: the runtime leaves a queued task whose token fires in its scheduler's
        // queue until its turn comes. Cancellation takes it out of the queue here instead, so its place is given back
        // at once, and a job that starts after all sees the token first.
        var job = new Task(() =>
        {
            if (cancellationToken.IsCancellationRequested)
            {
                done.TrySetCanceled(cancellationToken);
                return;
            }
            Interlocked.Increment(ref _started);
            // Counted before the task ends, so whoever sees the task end sees the counters too.
            T result;
            try
            {
                result = work(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _stopped);
                done.TrySetCanceled(cancellationToken);
                return;
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref _completed);
                done.TrySetException(e);
                return;
            }
            Interlocked.Increment(ref _completed);
            done.TrySetResult(result);
        }, TaskCreationOptions.DenyChildAttach);
        _pending.TryAdd(done.Task, 0);
        var unqueue = cancellationToken.Register(() =>
        {
            if (_scheduler.TryRemove(job)) done.TrySetCanceled(cancellationToken);
        });
        done.Task.ContinueWith(t =>
        {
            unqueue.Dispose();
            _pending.TryRemove(t, out _);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        job.Start(_scheduler);
        return done.Task;
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) for the pending computations to end, e.g. after their tokens were cancelled.</summary>
    /// <returns>True when none is left.</returns>
    public bool Drain(TimeSpan timeout)
    {
        var tasks = _pending.Keys.ToArray();
        try { return Task.WaitAll(tasks, timeout); }
        catch (AggregateException) { return true; } // all ended; their failures and cancellations went to their requests
    }

    /// <summary>Lets the threads end once the queue is empty.</summary>
    public void Dispose() => _scheduler.Dispose();
}

/// <summary>Too many heavy computations are pending: 503, try again.</summary>
internal sealed class ViewerBusyException(int pending)
    : Exception($"the viewer is busy: {pending} heavy computations are waiting or running; try again in a moment");
