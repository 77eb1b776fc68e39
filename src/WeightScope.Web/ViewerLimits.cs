namespace WeightScope.Web;

/// <summary>
/// How much work the viewer takes on at once and how much it keeps. A request is heavy when it reads more than
/// <see cref="LightElements"/> values (statistics, histogram or heatmap of a large tensor, a long print, a comparison):
/// heavy work waits its turn on <see cref="HeavyWork"/>; everything else (the page, the tensor table, the tree, file
/// summaries, small tensors' views) is answered at once on the request's own thread and never waits behind it.
/// </summary>
internal sealed record ViewerLimits
{
    /// <summary>The defaults: one heavy computation per core but one (at least one), 128 MiB of results.</summary>
    public static ViewerLimits Default { get; } = new();

    /// <summary>
    /// Heavy computations running at once, and the threads they share (their parallel chunk loops run on the same
    /// scheduler): one core is left for the light requests. Default: processors − 1, at least 1.
    /// </summary>
    public int HeavyConcurrency { get; init; } = Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>
    /// Heavy computations accepted (running or waiting) before a new one is refused with 503 and Retry-After: a page
    /// asks for four views per tensor, so this is dozens of clicks ahead.
    /// </summary>
    public int MaxPendingHeavy { get; init; } = 64;

    /// <summary>
    /// Values a computation may read and still count as light: 256 Ki float32 (1 MiB) are binned or summarised in a
    /// few milliseconds, so a small tensor never queues behind a large one.
    /// </summary>
    public long LightElements { get; init; } = 1L << 18;

    /// <summary>Bytes of computed results kept (statistics, histograms, plots, prints, comparisons), least recently used dropped first.</summary>
    public long CacheBytes { get; init; } = 128L << 20;
}
