using WeightScope.Tensors;
using WeightScope.Threading;

namespace WeightScope.Analysis;

/// <summary>Statistics of one tensor (or of several together, for the overall line).</summary>
/// <param name="Name">Tensor name (<c>"overall"</c> for the combination).</param>
/// <param name="DType">Its dtype name (empty for the overall line).</param>
/// <param name="Count">Elements, non-finite ones included (<c>w.numel()</c>).</param>
/// <param name="Min">Smallest finite value; null when there is none.</param>
/// <param name="Max">Largest finite value; null when there is none.</param>
/// <param name="Mean">Mean of the finite values.</param>
/// <param name="Std">Population standard deviation (ddof = 0, numpy's default) of the finite values.</param>
/// <param name="L1">Σ|x| over the finite values.</param>
/// <param name="L2">√Σx² over the finite values.</param>
/// <param name="MeanAbs">Mean of |x| over the finite values.</param>
/// <param name="Zeros">Values equal to 0 (either sign).</param>
/// <param name="NearZero">Values with |x| &lt; eps.</param>
/// <param name="NaN">NaN values.</param>
/// <param name="PosInf">+Inf values.</param>
/// <param name="NegInf">−Inf values.</param>
public sealed record TensorStatistics(
    string Name, string DType, long Count, double? Min, double? Max, double? Mean, double? Std, double L1, double L2, double? MeanAbs,
    long Zeros, long NearZero, long NaN, long PosInf, long NegInf)
{
    /// <summary>Finite values: what min, max, mean, std and the norms are over.</summary>
    public long Finite => Count - NaN - PosInf - NegInf;

    internal static TensorStatistics From(string name, string dtype, long count, in StatsAccumulator a)
    {
        bool any = a.Count > 0;
        return new TensorStatistics(name, dtype, count,
            any ? a.Min : null, any ? a.Max : null, any ? a.Mean : null, any ? Math.Sqrt(a.M2 / a.Count) : null,
            a.SumAbs, any ? Math.Sqrt(a.M2 + a.Count * a.Mean * a.Mean) : 0, any ? a.SumAbs / a.Count : null,
            a.Zeros, a.NearZero, a.NaN, a.PosInf, a.NegInf);
    }
}

/// <summary>What <see cref="Stats.Compute(IEnumerable{TensorEntry}, float, Action{long}?, int, CancellationToken)"/> found: one entry per tensor, the overall figures, and what it skipped.</summary>
/// <param name="Tensors">Per tensor, in the order given.</param>
/// <param name="Overall">All values of all those tensors together.</param>
/// <param name="Skipped">Tensors without real values (complex), with the reason.</param>
public sealed record StatsReport(IReadOnlyList<TensorStatistics> Tensors, TensorStatistics Overall, IReadOnlyList<(string Name, string Reason)> Skipped);

/// <summary>
/// Per-tensor and overall statistics — count, min, max, mean, std, L1, L2, mean |w|, zeros, near-zero, NaN, ±Inf —
/// for every real dtype, read through <see cref="TensorChunks"/> (zero-copy for mapped float32, converted chunk by chunk
/// otherwise, never a full-size float32 copy). The chunks of all tensors are one work list spread over the cores, and
/// the partial results are merged in a fixed order, so results do not depend on scheduling.
/// </summary>
public static class Stats
{
    /// <summary>Default near-zero threshold: |w| &lt; 1e-6.</summary>
    public const float DefaultEps = 1e-6f;

    /// <summary>Statistics of <paramref name="tensors"/>.</summary>
    /// <param name="tensors">The tensors, in report order.</param>
    /// <param name="eps">Near-zero threshold.</param>
    /// <param name="progress">Called with the bytes of each chunk done (from several threads).</param>
    /// <param name="maxThreads">Threads to use (default: one per core).</param>
    /// <param name="cancellationToken">Checked before each chunk: once cancelled, no new chunk is read.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static StatsReport Compute(IEnumerable<TensorEntry> tensors, float eps = DefaultEps, Action<long>? progress = null, int maxThreads = -1,
        CancellationToken cancellationToken = default) =>
        Compute(tensors, eps, progress, maxThreads, TensorChunks.DefaultChunkElements, cancellationToken);

    /// <summary>As <see cref="Compute(IEnumerable{TensorEntry}, float, Action{long}?, int, CancellationToken)"/> with a chosen chunk size (tests use small ones to cross chunk edges).</summary>
    internal static StatsReport Compute(IEnumerable<TensorEntry> tensors, float eps, Action<long>? progress, int maxThreads, int chunkElements,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = new List<TensorEntry>();
        var skipped = new List<(string, string)>();
        foreach (var t in tensors)
        {
            if (t.DType.IsComplex()) skipped.Add((t.Name, $"{t.DType.Name()}: statistics are over real values"));
            else list.Add(t);
        }

        var work = new List<(int Tensor, long Start, int Length)>();
        for (int i = 0; i < list.Count; i++)
            foreach (var (start, length) in TensorChunks.RangesOf(list[i], chunkElements))
                work.Add((i, start, length));
        var partial = new StatsAccumulator[work.Count];
        // A tensor that cannot be decoded fails the report with its own error, the first in file order whatever the
        // scheduling, counting the other tensors that failed too (OrderedParallel).
        OrderedParallel.For(work.Count, maxThreads, () => (float[]?)null, (w, buffer) =>
        {
            var (ti, start, length) = work[w];
            var acc = StatsAccumulator.Empty;
            TensorChunks.ReadRange(list[ti], start, length, ref buffer, (values, _) => acc.Add(values, eps));
            partial[w] = acc;
            progress?.Invoke((long)length * list[ti].DType.ItemSize());
            return buffer;
        }, group: w => work[w].Tensor, cancellationToken: cancellationToken);

        var perTensor = new StatsAccumulator[list.Count];
        for (int i = 0; i < perTensor.Length; i++) perTensor[i] = StatsAccumulator.Empty;
        for (int w = 0; w < work.Count; w++) perTensor[work[w].Tensor].Merge(partial[w]);
        var overall = StatsAccumulator.Empty;
        long total = 0;
        var results = new List<TensorStatistics>(list.Count);
        for (int i = 0; i < list.Count; i++)
        {
            overall.Merge(perTensor[i]);
            total += list[i].ElementCount;
            results.Add(TensorStatistics.From(list[i].Name, list[i].DType.Name(), list[i].ElementCount, perTensor[i]));
        }
        return new StatsReport(results, TensorStatistics.From("overall", "", total, overall), skipped);
    }
}
