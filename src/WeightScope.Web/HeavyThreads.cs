namespace WeightScope.Web;

/// <summary>
/// A task scheduler of a few threads of its own, first come first served: heavy computations run here rather than on
/// the thread pool, because a computation blocks its thread for seconds and a pool whose threads are all blocked
/// answers nothing until it injects more (half a second each): the light requests, which the pool serves, would wait
/// behind the heavy ones after all. A task that waits for another task of this scheduler (a parallel loop waiting for
/// its replicas) runs it inline, so a loop never waits for a thread its own caller holds.
/// </summary>
internal sealed class HeavyThreads : TaskScheduler, IDisposable
{
    [ThreadStatic] private static HeavyThreads? t_owner;

    private readonly LinkedList<Task> _queue = new(); // oldest first
    private readonly int _threads;
    private bool _closed;

    public HeavyThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _threads = threads;
        for (int i = 0; i < threads; i++)
        {
            // Below normal where the system honours it (Windows; Linux ignores it without privileges): a light
            // request's thread is then scheduled first when both are ready.
            new Thread(Loop) { IsBackground = true, Name = $"weightscope heavy {i}", Priority = ThreadPriority.BelowNormal }.Start();
        }
    }

    /// <inheritdoc />
    public override int MaximumConcurrencyLevel => _threads;

    /// <inheritdoc />
    protected override void QueueTask(Task task)
    {
        lock (_queue)
        {
            if (!_closed)
            {
                _queue.AddLast(task);
                Monitor.Pulse(_queue);
                return;
            }
        }
        // Closed (the server stopped while a cancelled loop was ending): the straggler still runs, on the pool.
        ThreadPool.UnsafeQueueUserWorkItem(_ => TryExecuteTask(task), null);
    }

    /// <inheritdoc />
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => t_owner == this && TryExecuteTask(task);

    /// <summary>Takes a task out of the queue before its turn: it will never run. False when it has started (or was never queued).</summary>
    public bool TryRemove(Task task)
    {
        lock (_queue) return _queue.Remove(task);
    }

    /// <inheritdoc />
    protected override IEnumerable<Task> GetScheduledTasks()
    {
        lock (_queue) return [.. _queue];
    }

    private void Loop()
    {
        t_owner = this;
        while (true)
        {
            Task task;
            lock (_queue)
            {
                while (_queue.Count == 0)
                {
                    if (_closed) return;
                    Monitor.Wait(_queue);
                }
                task = _queue.First!.Value;
                _queue.RemoveFirst();
            }
            TryExecuteTask(task);
        }
    }

    /// <summary>The threads run what is queued, then end.</summary>
    public void Dispose()
    {
        lock (_queue)
        {
            _closed = true;
            Monitor.PulseAll(_queue);
        }
    }
}
