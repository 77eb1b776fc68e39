using WeightScope.Tensors;

namespace WeightScope.Analysis;

/// <summary>
/// A tensor's value distribution in equal-width bins, computed exactly as <c>numpy.histogram(w.flatten(), bins)</c>
/// (and so <c>plt.hist</c>) computes it over the tensor's finite values: edges are <c>linspace(min, max, bins + 1)</c>,
/// every bin is half-open <c>[a, b)</c> except the last, which includes its right edge, and a constant tensor gets the
/// range <c>(v - 0.5, v + 0.5)</c>. NaN and ±Inf, which make numpy raise, are left out of the bins and counted apart.
/// </summary>
/// <remarks>
/// numpy computes the edges and bin indices in the input's floating type (float32 for float32 weights, float16 for
/// float16, float64 for integers and float64); <see cref="Compute"/> rounds every step to that type so counts agree
/// with numpy even for values on an edge. Values are read as float32 chunks (<see cref="TensorChunks"/>), so float64 and
/// large integer tensors are binned at float32 precision.
/// </remarks>
public sealed class Histogram
{
    private Histogram(string name, double[] edges, long[] counts, long nan, long posInf, long negInf)
    {
        Name = name;
        Edges = edges;
        Counts = counts;
        NaN = nan;
        PositiveInfinity = posInf;
        NegativeInfinity = negInf;
    }

    /// <summary>The tensor's name.</summary>
    public string Name { get; }

    /// <summary>The <c>bins + 1</c> bin edges, ascending (numpy's second result, widened to double).</summary>
    public IReadOnlyList<double> Edges { get; }

    /// <summary>Finite values per bin (numpy's first result).</summary>
    public IReadOnlyList<long> Counts { get; }

    /// <summary>NaN values (not in any bin).</summary>
    public long NaN { get; }

    /// <summary>+Inf values (not in any bin).</summary>
    public long PositiveInfinity { get; }

    /// <summary>-Inf values (not in any bin).</summary>
    public long NegativeInfinity { get; }

    /// <summary>Values counted in the bins.</summary>
    public long Total => Counts.Sum();

    /// <summary>
    /// Bins <paramref name="tensor"/>'s finite values into <paramref name="bins"/> equal-width bins over
    /// [<paramref name="min"/>, <paramref name="max"/>] (default: the finite values' own range, as numpy). Values
    /// outside an explicit range are not counted, as in numpy.
    /// </summary>
    /// <param name="tensor">The tensor.</param>
    /// <param name="bins">Number of bins (numpy's <c>bins</c>).</param>
    /// <param name="min">Lower end of the range (numpy's <c>range[0]</c>); null for the smallest finite value.</param>
    /// <param name="max">Upper end of the range (numpy's <c>range[1]</c>); null for the largest finite value.</param>
    /// <param name="cancellationToken">Checked before each chunk of either pass (range, then bins).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bins"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The range is not finite, or <paramref name="min"/> exceeds <paramref name="max"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Histogram Compute(TensorEntry tensor, int bins = 50, double? min = null, double? max = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var round = Rounding(tensor.DType);
        double first, last, denom;
        if (min is not null || max is not null)
        {
            // numpy: an explicit range is Python floats, so the edges' span is computed in float64.
            var (lo, hi) = min is not null && max is not null ? (min.Value, max.Value) : FiniteRange(tensor, round, cancellationToken);
            first = min ?? lo;
            last = max ?? hi;
            if (!double.IsFinite(first) || !double.IsFinite(last)) throw new ArgumentException($"histogram range [{first}, {last}] is not finite");
            if (first > last) throw new ArgumentException($"histogram range: max ({last}) must be larger than min ({first})");
            denom = last - first;
        }
        else
        {
            (first, last) = FiniteRange(tensor, round, cancellationToken);
            denom = round(last - first);
        }
        if (first == last)
        {
            // numpy's _get_outer_edges: a zero-width range becomes (v - 0.5, v + 0.5), in float64.
            first -= 0.5;
            last += 0.5;
            denom = last - first;
        }
        var edges = Linspace(first, last, bins, round);
        var counts = new long[bins];
        long nan = 0, posInf = 0, negInf = 0;
        TensorChunks.ForEachParallel(tensor, (values, _) =>
        {
            var local = new long[bins];
            long lNan = 0, lPos = 0, lNeg = 0;
            foreach (float v in values)
            {
                if (float.IsNaN(v)) { lNan++; continue; }
                if (float.IsPositiveInfinity(v)) { lPos++; continue; }
                if (float.IsNegativeInfinity(v)) { lNeg++; continue; }
                double x = round(v);
                if (x < first || x > last) continue;
                local[BinIndex(x, first, denom, edges, bins, round)]++;
            }
            lock (counts)
            {
                for (int i = 0; i < bins; i++) counts[i] += local[i];
                nan += lNan;
                posInf += lPos;
                negInf += lNeg;
            }
        }, cancellationToken: cancellationToken);
        return new Histogram(tensor.Name, edges, counts, nan, posInf, negInf);
    }

    // numpy's _histogram (uniform bins): a first guess from the value's offset, every step rounded to the bin type,
    // then corrected against the edges themselves, so a value equal to an edge always lands in the bin it starts.
    private static int BinIndex(double x, double first, double denom, double[] edges, int bins, Func<double, double> round)
    {
        double f = round(round(round(x - first) / denom) * bins);
        long index = (long)f;
        if (index >= bins) index = bins - 1;
        if (index < 0) index = 0;
        if (x < edges[index]) index--;
        if (index < 0) index = 0;
        else if (x >= edges[index + 1] && index != bins - 1) index++;
        return (int)index;
    }

    // numpy.linspace(first, last, bins + 1) computed in float64, then cast to the bin type; the last edge is `last` itself.
    private static double[] Linspace(double first, double last, int bins, Func<double, double> round)
    {
        var edges = new double[bins + 1];
        double delta = last - first, step = delta / bins;
        for (int i = 0; i <= bins; i++)
            edges[i] = round(step == 0 ? (double)i / bins * delta + first : i * step + first);
        edges[bins] = round(last);
        return edges;
    }

    // The smallest and largest finite values (numpy's a.min(), a.max() over the finite values); (0, 1) when there are none.
    private static (double Min, double Max) FiniteRange(TensorEntry tensor, Func<double, double> round, CancellationToken cancellationToken)
    {
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        bool any = false;
        var gate = new object();
        TensorChunks.ForEachParallel(tensor, (values, _) =>
        {
            float l = float.PositiveInfinity, h = float.NegativeInfinity;
            bool seen = false;
            foreach (float v in values)
            {
                if (!float.IsFinite(v)) continue;
                seen = true;
                if (v < l) l = v;
                if (v > h) h = v;
            }
            if (!seen) return;
            lock (gate)
            {
                any = true;
                if (l < lo) lo = l;
                if (h > hi) hi = h;
            }
        }, cancellationToken: cancellationToken);
        return any ? (round(lo), round(hi)) : (0, 1);
    }

    // The floating type numpy computes in: float16 and float32 keep their own; integers and float64 use float64. Types
    // numpy lacks (bfloat16, float8) are widened to float32 by the reader and binned as float32. Rounding an exact
    // double result to the narrower type gives the same value as the narrower type's own arithmetic for + - * /.
    private static Func<double, double> Rounding(DType dtype) => dtype switch
    {
        DType.Float16 => x => (double)(Half)x,
        DType.Float32 or DType.BFloat16 or DType.Float8E4M3FN or DType.Float8E5M2 => x => (float)x,
        _ => x => x,
    };
}
