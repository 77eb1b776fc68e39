namespace WeightScope.Web;

/// <summary>What a cached result is: a view of one tensor of one file with its options (<see cref="Slot"/> −1 for the comparison).</summary>
/// <param name="Slot">The file's slot (0, 1), or −1 for results over both files.</param>
/// <param name="Index">The tensor's index in the file (or the pair's in the comparison; −1 for the whole comparison).</param>
/// <param name="View">What was computed: stats, hist, hist.svg, heatmap.png, values, diff, delta.</param>
/// <param name="Options">The options it was computed with, written out in full (slice, bins, range, print options…).</param>
internal readonly record struct CacheKey(int Slot, int Index, string View, string Options);

/// <summary>
/// Computed results, each computed once: a least-recently-used cache bounded in bytes, and single-flight — requests
/// that ask for a result being computed wait for that computation instead of starting their own. A computation is
/// cancelled when the last request waiting for it has gone (its client disconnected); a cancelled or failed
/// computation leaves nothing behind, so the next request computes afresh and a file's error is reported every time
/// it is asked for, never kept as a result. The lock guards only the two dictionaries; no computation runs under it.
/// </summary>
internal sealed class ResultCache
{
    private sealed record Entry(CacheKey Key, object Value, long Bytes);

    /// <summary>One computation in progress and the requests waiting for it.</summary>
    private sealed class Flight
    {
        public readonly TaskCompletionSource<object> Result = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly CancellationTokenSource Cancel = new();
        public int Waiters;
        public bool Abandoned; // every waiter left: a new request starts a new computation
    }

    private readonly object _gate = new();
    private readonly Dictionary<CacheKey, LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _recent = []; // most recently used first
    private readonly Dictionary<CacheKey, Flight> _flights = [];
    private bool _closed;
    private long _bytes, _hits, _computations, _joins, _failures, _cancellations, _evictions;

    public ResultCache(long capacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        CapacityBytes = capacityBytes;
    }

    /// <summary>Most bytes of results kept.</summary>
    public long CapacityBytes { get; }

    /// <summary>Bytes of the results kept now.</summary>
    public long Bytes { get { lock (_gate) return _bytes; } }

    /// <summary>Results kept now.</summary>
    public int Count { get { lock (_gate) return _entries.Count; } }

    /// <summary>Requests answered from a kept result.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Computations started (one per key, however many requests asked at once).</summary>
    public long Computations => Interlocked.Read(ref _computations);

    /// <summary>Requests that waited for a computation another request had started.</summary>
    public long Joins => Interlocked.Read(ref _joins);

    /// <summary>Computations that failed (the file's error, a bad option): nothing kept.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Computations cancelled because every request waiting for them went away (or the server stopped): nothing kept.</summary>
    public long Cancellations => Interlocked.Read(ref _cancellations);

    /// <summary>Results dropped to stay within <see cref="CapacityBytes"/>.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>
    /// The result for <paramref name="key"/>: kept, being computed (then awaited), or computed now by
    /// <paramref name="start"/>, which receives a token cancelled when every request waiting for it has gone.
    /// <paramref name="start"/> runs on the calling thread up to its first wait: light work is done there and then.
    /// </summary>
    /// <param name="key">What is asked for.</param>
    /// <param name="start">Starts the computation.</param>
    /// <param name="size">The bytes a result holds, for the bound.</param>
    /// <param name="aborted">The request's token: when it fires, this request stops waiting.</param>
    /// <exception cref="OperationCanceledException"><paramref name="aborted"/> fired, or the cache was closed.</exception>
    public async Task<T> GetAsync<T>(CacheKey key, Func<CancellationToken, Task<T>> start, Func<T, long> size, CancellationToken aborted)
        where T : class
    {
        Flight flight;
        bool owner = false;
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _recent.Remove(node);
                _recent.AddFirst(node);
                _hits++;
                return (T)node.Value.Value;
            }
            if (_flights.TryGetValue(key, out var running) && !running.Abandoned)
            {
                flight = running;
                _joins++;
            }
            else
            {
                if (_closed) throw new OperationCanceledException("the viewer is stopping");
                flight = _flights[key] = new Flight();
                owner = true;
                _computations++;
            }
            flight.Waiters++;
        }
        if (owner) _ = Compute(key, flight, start, size);
        try
        {
            return (T)await flight.Result.Task.WaitAsync(aborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested && !flight.Result.Task.IsCompleted)
        {
            Leave(flight);
            throw;
        }
    }

    private async Task Compute<T>(CacheKey key, Flight flight, Func<CancellationToken, Task<T>> start, Func<T, long> size) where T : class
    {
        T value;
        try
        {
            value = await start(flight.Cancel.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            bool cancelled = e is OperationCanceledException && flight.Cancel.IsCancellationRequested;
            lock (_gate)
            {
                if (_flights.TryGetValue(key, out var f) && f == flight) _flights.Remove(key);
                if (cancelled) _cancellations++;
                else _failures++;
            }
            if (cancelled) flight.Result.SetCanceled(flight.Cancel.Token);
            else flight.Result.SetException(e);
            return;
        }
        Keep(key, flight, value, size(value));
        flight.Result.SetResult(value);
    }

    // A result that finished after its requests left is still right: it is kept like any other.
    private void Keep(CacheKey key, Flight flight, object value, long bytes)
    {
        lock (_gate)
        {
            if (_flights.TryGetValue(key, out var f) && f == flight) _flights.Remove(key);
            if (bytes > CapacityBytes || _entries.ContainsKey(key)) return;
            _entries[key] = _recent.AddFirst(new Entry(key, value, bytes));
            _bytes += bytes;
            while (_bytes > CapacityBytes && _recent.Last is { } oldest)
            {
                _recent.RemoveLast();
                _entries.Remove(oldest.Value.Key);
                _bytes -= oldest.Value.Bytes;
                _evictions++;
            }
        }
    }

    // A request stopped waiting; the last one to go cancels the computation (outside the lock: cancellation runs callbacks).
    private void Leave(Flight flight)
    {
        lock (_gate)
        {
            if (--flight.Waiters > 0 || flight.Result.Task.IsCompleted) return;
            flight.Abandoned = true;
        }
        flight.Cancel.Cancel();
    }

    /// <summary>Cancels every computation in progress and refuses new ones (the server is stopping).</summary>
    public void Close()
    {
        List<Flight> running;
        lock (_gate)
        {
            _closed = true;
            running = [.. _flights.Values];
        }
        foreach (var f in running) f.Cancel.Cancel();
    }
}
