using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace WeightScope.Analysis;

/// <summary>
/// Running statistics over float32 values, mergeable in any grouping (Chan et al.'s parallel update of mean and the
/// sum of squared deviations), so chunks can be computed on several threads and combined in a fixed order.
/// </summary>
/// <remarks>
/// Accuracy: each chunk is cut into blocks of <see cref="BlockElements"/> values that stay in L1; a block's sums of
/// |x|, of deviations d = x − c and of d² are accumulated in float32 vector lanes (a lane adds at most 128 values) and
/// merged in float64. The shift c is the mean so far (a chunk's first block, having none, takes a second pass from its
/// own mean), so d² is never a raw square of a large mean: the variance stays accurate even when |mean| ≫ std
/// (BatchNorm variances around 1 with spread 1e-3). Non-finite values (NaN, ±Inf) are counted and left out of every other figure.
/// </remarks>
public struct StatsAccumulator
{
    /// <summary>Values per block (4 KiB of float32).</summary>
    public const int BlockElements = 1024;

    /// <summary>Finite values seen.</summary>
    public long Count;
    /// <summary>Mean of the finite values.</summary>
    public double Mean;
    /// <summary>Sum of squared deviations from <see cref="Mean"/>.</summary>
    public double M2;
    /// <summary>Sum of |x|.</summary>
    public double SumAbs;
    /// <summary>Smallest finite value (+∞ when none).</summary>
    public float Min;
    /// <summary>Largest finite value (−∞ when none).</summary>
    public float Max;
    /// <summary>Values equal to zero (either sign).</summary>
    public long Zeros;
    /// <summary>Values with |x| &lt; eps.</summary>
    public long NearZero;
    /// <summary>NaN values.</summary>
    public long NaN;
    /// <summary>+Inf values.</summary>
    public long PosInf;
    /// <summary>−Inf values.</summary>
    public long NegInf;

    /// <summary>An empty accumulator.</summary>
    public static StatsAccumulator Empty => new() { Min = float.PositiveInfinity, Max = float.NegativeInfinity };

    /// <summary>Adds <paramref name="values"/>; <paramref name="eps"/> is the near-zero threshold.</summary>
    public void Add(ReadOnlySpan<float> values, float eps)
    {
        for (int i = 0; i < values.Length; i += BlockElements)
            AddBlock(values.Slice(i, Math.Min(BlockElements, values.Length - i)), eps);
    }

    /// <summary>Merges <paramref name="other"/> into this (order matters only for the last bits of rounding).</summary>
    public void Merge(in StatsAccumulator other)
    {
        NaN += other.NaN;
        PosInf += other.PosInf;
        NegInf += other.NegInf;
        Zeros += other.Zeros;
        NearZero += other.NearZero;
        SumAbs += other.SumAbs;
        if (other.Min < Min) Min = other.Min;
        if (other.Max > Max) Max = other.Max;
        if (other.Count == 0) return;
        if (Count == 0)
        {
            Count = other.Count;
            Mean = other.Mean;
            M2 = other.M2;
            return;
        }
        long n = Count + other.Count;
        double delta = other.Mean - Mean;
        Mean += delta * other.Count / n;
        M2 += other.M2 + delta * delta * ((double)Count * other.Count / n);
        Count = n;
    }

    private void AddBlock(ReadOnlySpan<float> block, float eps)
    {
        // The vector path gives up on a block holding NaN or ±Inf (rare), which the scalar path then counts.
        if (!(Vector256.IsHardwareAccelerated && block.Length >= Vector256<float>.Count && TryAddFiniteBlockVector(block, eps)))
            AddBlockScalar(block, eps);
    }

    // Fully optimised from the first call: one stats run is a single long call, over before tiered compilation
    // would replace slow tier-0 vector code (measured: 790 ms cold vs 290 ms warm on 1.4 GB). Native AOT ignores it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryAddFiniteBlockVector(ReadOnlySpan<float> block, float eps)
    {
        // Deviations are taken from a shift close to the mean — the mean so far, once there is one — so one pass gives
        // Σd and Σd²; a first block has no such shift and takes a second pass from its own mean.
        bool shifted = Count > 0;
        float shift = shifted ? (float)Mean : 0;
        int width = Vector256<float>.Count, n = block.Length, i = 0;
        ref float start = ref MemoryMarshal.GetReference(block);
        var vmin = Vector256.Create(float.PositiveInfinity);
        var vmax = Vector256.Create(float.NegativeInfinity);
        var vsum = Vector256<float>.Zero;
        var vsq = Vector256<float>.Zero;
        var vabs = Vector256<float>.Zero;
        var vzeros = Vector256<int>.Zero;
        var vnear = Vector256<int>.Zero;
        var vshift = Vector256.Create(shift);
        var veps = Vector256.Create(eps);
        // The loop is the whole cost of `stats`, so it does the least per 8 values: no finiteness test (a NaN or ±Inf
        // makes Σ|x| non-finite, checked once after the loop), counts kept as −1 lanes of the comparison masks, and
        // MinNative/MaxNative (one instruction each; NaN handling does not matter here, as such blocks go scalar).
        for (; i <= n - width; i += width)
        {
            var v = Vector256.LoadUnsafe(ref start, (nuint)i);
            var a = Vector256.Abs(v);
            var d = v - vshift;
            vmin = Vector256.MinNative(vmin, v);
            vmax = Vector256.MaxNative(vmax, v);
            vsum += d;
            vsq = Vector256.FusedMultiplyAdd(d, d, vsq);
            vabs += a;
            vzeros -= Vector256.Equals(v, Vector256<float>.Zero).AsInt32();
            vnear -= Vector256.LessThan(a, veps).AsInt32();
        }
        double dsum = Vector256.Sum(vsum), dsq = Vector256.Sum(vsq), sumAbs = Vector256.Sum(vabs);
        // NaN or ±Inf in the block, or float32 overflow of Σ|x| or Σd² (values beyond ~1e19): the scalar path, in float64.
        if (!double.IsFinite(sumAbs + dsq)) return false;
        for (int k = i; k < n; k++) if (!float.IsFinite(block[k])) return false;
        long zeros = Vector256.Sum(vzeros), near = Vector256.Sum(vnear);
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        for (int k = 0; k < width; k++) { min = MathF.Min(min, vmin[k]); max = MathF.Max(max, vmax[k]); }
        for (; i < n; i++)
        {
            float x = block[i];
            double d = x - shift;
            min = MathF.Min(min, x);
            max = MathF.Max(max, x);
            dsum += d;
            dsq += d * d;
            sumAbs += MathF.Abs(x);
            if (x == 0) zeros++;
            if (MathF.Abs(x) < eps) near++;
        }
        if (!shifted)
        {
            shift = (float)(dsum / n);
            var vmean = Vector256.Create(shift);
            var vdev = Vector256<float>.Zero;
            var vdevSum = Vector256<float>.Zero;
            for (i = 0; i <= n - width; i += width)
            {
                var d = Vector256.Create(block[i..]) - vmean;
                vdev += d * d;
                vdevSum += d;
            }
            dsq = Vector256.Sum(vdev);
            dsum = Vector256.Sum(vdevSum);
            if (!double.IsFinite(dsq)) return false; // |x − mean| beyond ~1e19
            for (; i < n; i++)
            {
                double d = block[i] - shift;
                dsq += d * d;
                dsum += d;
            }
        }
        // Σ(x−c)² − (Σ(x−c))²/n is the sum of squared deviations from the block's mean c + Σ(x−c)/n.
        MergeBlock(n, shift + dsum / n, Math.Max(dsq - dsum * dsum / n, 0), sumAbs, min, max, zeros, near);
        return true;
    }

    // Fully optimised from the first call: one stats run is a single long call, over before tiered compilation
    // would replace slow tier-0 vector code (measured: 790 ms cold vs 290 ms warm on 1.4 GB).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddBlockScalar(ReadOnlySpan<float> block, float eps)
    {
        double sum = 0, sumAbs = 0;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        long n = 0, zeros = 0, near = 0;
        foreach (float x in block)
        {
            if (float.IsNaN(x)) { NaN++; continue; }
            if (float.IsPositiveInfinity(x)) { PosInf++; continue; }
            if (float.IsNegativeInfinity(x)) { NegInf++; continue; }
            n++;
            sum += x;
            sumAbs += Math.Abs(x);
            if (x < min) min = x;
            if (x > max) max = x;
            if (x == 0) zeros++;
            if (MathF.Abs(x) < eps) near++;
        }
        if (n == 0) return;
        double mean = sum / n, m2 = 0;
        foreach (float x in block)
            if (float.IsFinite(x)) { double d = x - mean; m2 += d * d; }
        MergeBlock(n, mean, m2, sumAbs, min, max, zeros, near);
    }

    private void MergeBlock(long n, double mean, double m2, double sumAbs, float min, float max, long zeros, long near) =>
        Merge(new StatsAccumulator { Count = n, Mean = mean, M2 = m2, SumAbs = sumAbs, Min = min, Max = max, Zeros = zeros, NearZero = near });
}
