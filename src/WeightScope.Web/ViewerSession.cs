using WeightScope.Analysis;
using WeightScope.Tensors;

namespace WeightScope.Web;

/// <summary>
/// What one <c>serve</c> run has open: the files named on the command line (slot 0, and slot 1 when comparing), the
/// results computed so far (<see cref="Cache"/>) and the queue heavy computations wait in (<see cref="Heavy"/>).
/// </summary>
/// <remarks>
/// Tensor data is read by several requests at once, as <c>Stats.Compute</c> already reads one file's chunks from
/// several threads: storages read by position (memory-mapped files, HDF5 chunk decoding) and are safe for it.
/// </remarks>
internal sealed class ViewerSession : IDisposable
{
    /// <summary>How long closing waits for running computations to see their cancellation before the files are closed.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, int>[] _indexByName;

    public ViewerSession(IReadOnlyList<ModelFile> files, DiffOptions diffOptions, ViewerLimits? limits = null)
    {
        Files = files;
        DiffOptions = diffOptions;
        Limits = limits ?? ViewerLimits.Default;
        Cache = new ResultCache(Limits.CacheBytes);
        Heavy = new HeavyWork(Limits.HeavyConcurrency, Limits.MaxPendingHeavy);
        _indexByName = [.. files.Select(IndexByName)];
    }

    /// <summary>How the two files are paired and compared (the serve command's --map, --atol…).</summary>
    public DiffOptions DiffOptions { get; }

    /// <summary>The opened files: one to view, or A and B to compare.</summary>
    public IReadOnlyList<ModelFile> Files { get; }

    /// <summary>The bounds on work and memory.</summary>
    public ViewerLimits Limits { get; }

    /// <summary>The results computed so far.</summary>
    public ResultCache Cache { get; }

    /// <summary>The queue of heavy computations.</summary>
    public HeavyWork Heavy { get; }

    /// <summary>The port the server is bound to; 0 until it is (no request is answered before).</summary>
    public volatile int Port;

    /// <summary>True when two files are open.</summary>
    public bool Comparing => Files.Count == 2;

    /// <summary>The file in a slot given by a request ("0", "1"), or null for anything else.</summary>
    public ModelFile? File(string? slot) =>
        slot is "0" ? Files[0] : slot is "1" && Files.Count == 2 ? Files[1] : null;

    /// <summary>The slot number of a file of this session.</summary>
    public int SlotOf(ModelFile file) => Files[0] == file ? 0 : 1;

    /// <summary>The index of the tensor named <paramref name="name"/> in a file's collection, or -1.</summary>
    public int IndexOf(ModelFile file, string name) => _indexByName[SlotOf(file)].TryGetValue(name, out int i) ? i : -1;

    private static Dictionary<string, int> IndexByName(ModelFile file)
    {
        var d = new Dictionary<string, int>(file.Tensors.Count, StringComparer.Ordinal);
        for (int i = 0; i < file.Tensors.Count; i++) d.TryAdd(file.Tensors[i].Name, i);
        return d;
    }

    /// <summary>
    /// The result for <paramref name="key"/>, from the cache or computed once by <paramref name="compute"/>: queued as
    /// heavy work when it reads more than <see cref="ViewerLimits.LightElements"/> values, run at once on this thread
    /// otherwise. <paramref name="compute"/> gets a token cancelled when every request asking for it has gone.
    /// </summary>
    public Task<T> Compute<T>(CacheKey key, long elements, Func<CancellationToken, T> compute, Func<T, long> size, CancellationToken aborted)
        where T : class =>
        Cache.GetAsync(key, token => elements > Limits.LightElements ? Heavy.Run(compute, token) : Task.FromResult(compute(token)), size, aborted);

    /// <summary>
    /// Statistics of one tensor (as <c>weightscope stats</c> computes them): <see cref="StatsResult.Skipped"/> says why
    /// there are none (complex tensors).
    /// </summary>
    public Task<StatsResult> Stats(ModelFile file, int index, CancellationToken aborted)
    {
        var tensor = file.Tensors[index];
        return Compute(new CacheKey(SlotOf(file), index, "stats", ""), tensor.ElementCount, token =>
        {
            // Queued as heavy, the loop's chunks run on HeavyWork's scheduler, sharing its threads.
            var report = Analysis.Stats.Compute([tensor], cancellationToken: token);
            return report.Tensors.Count == 1 ? new StatsResult(report.Tensors[0], null) : new StatsResult(null, report.Skipped[0].Reason);
        }, _ => StatsResult.Bytes, aborted);
    }

    /// <summary>The comparison of the two files (<c>weightscope diff</c> with the serve command's options), computed once.</summary>
    /// <exception cref="InvalidOperationException">Only one file is open.</exception>
    public Task<DiffResult> Diff(CancellationToken aborted)
    {
        if (!Comparing) throw new InvalidOperationException("only one file is open: start serve with two files to compare them");
        long elements = Files[0].Tensors.Sum(t => t.ElementCount) + Files[1].Tensors.Sum(t => t.ElementCount);
        return Compute(new CacheKey(-1, -1, "diff", ""), elements,
            token => Analysis.Diff.Compare(Files[0], Files[1], DiffOptions, token),
            r => 256L * (r.Pairs.Count + r.OnlyInA.Count + r.OnlyInB.Count + 1), aborted);
    }

    /// <summary>Cancels every computation in progress and refuses new ones (the server is stopping).</summary>
    public void CancelWork() => Cache.Close();

    /// <summary>Cancels the computations, waits for them to stop reading, then closes the files.</summary>
    public void Dispose()
    {
        CancelWork();
        Heavy.Drain(DrainTimeout);
        Heavy.Dispose();
        foreach (var f in Files) f.Dispose();
    }
}

/// <summary>A tensor's statistics, or why it has none.</summary>
internal sealed record StatsResult(TensorStatistics? Stats, string? Skipped)
{
    /// <summary>What one costs in the cache: a record of fifteen fields and two short strings.</summary>
    public const long Bytes = 256;
}
