using WeightScope.Writing;

namespace WeightScope.Export;

/// <summary>How <c>--int8</c>/<c>--int16</c> choose the scale and zero point.</summary>
public enum IntegerScheme
{
    /// <summary>Zero point 0, scale = max|x| / (2^(b−1) − 1): 0.0 is exact and the range is symmetric (torch's
    /// <c>per_tensor_symmetric</c> observers with <c>quant_min = −(2^(b−1) − 1)</c>, as TFLite quantizes weights).</summary>
    Symmetric,

    /// <summary>Scale = (max − min) / (2^b − 1) over a range that includes 0, zero point chosen so min maps to −2^(b−1)
    /// (torch's <c>MinMaxObserver</c> affine rule, with a signed integer range).</summary>
    Asymmetric,
}

/// <summary>How closely the integers represent the values they replace (printed and in <c>--json</c>).</summary>
/// <param name="Count">Values compared.</param>
/// <param name="MaxAbsError">Largest |x − dequantized(x)|.</param>
/// <param name="Rmse">Root mean square error.</param>
/// <param name="SnrDb">10·log10(Σx² / Σerror²); +∞ when exact, −∞ … when every value is 0 but errors are not.</param>
/// <param name="Saturated">Values outside the integer range (clamped with saturate, wrapped with wrap).</param>
public sealed record QuantizationReport(long Count, double MaxAbsError, double Rmse, double SnrDb, long Saturated);

/// <summary>
/// Real values as signed integer words with the parameters that map them back: x ≈ (q − zero_point) · scale, per tensor
/// (one scale) or per channel along <see cref="Axis"/>.
/// </summary>
public sealed class QuantizedValues
{
    private QuantizedValues(long[] words, int bits, double[] scales, long[] zeroPoints, int? axis, QFormat? format, QuantizationReport report)
    {
        Words = words;
        Bits = bits;
        Scales = scales;
        ZeroPoints = zeroPoints;
        Axis = axis;
        Format = format;
        Report = report;
    }

    /// <summary>The integers, row-major.</summary>
    public long[] Words { get; }

    /// <summary>Bits of each word (signed two's complement).</summary>
    public int Bits { get; }

    /// <summary>One scale per tensor, or one per index of <see cref="Axis"/>.</summary>
    public IReadOnlyList<double> Scales { get; }

    /// <summary>Zero points, matching <see cref="Scales"/>.</summary>
    public IReadOnlyList<long> ZeroPoints { get; }

    /// <summary>The channel axis of per-channel quantization; null per tensor.</summary>
    public int? Axis { get; }

    /// <summary>The fixed-point format for <c>--fixed</c>; null for <c>--int8</c>/<c>--int16</c>.</summary>
    public QFormat? Format { get; }

    /// <summary>Errors against the source values.</summary>
    public QuantizationReport Report { get; }

    internal static QuantizedValues Create(ReadOnlySpan<double> values, long[] words, int bits, double[] scales, long[] zeroPoints,
        int? axis, QFormat? format, long saturated, long channelStride = 1, long channels = 1)
    {
        double maxAbs = 0, sumErr2 = 0, sumX2 = 0;
        for (int i = 0; i < values.Length; i++)
        {
            int c = scales.Length == 1 ? 0 : (int)(i / channelStride % channels);
            double back = (words[i] - zeroPoints[c]) * scales[c];
            double e = values[i] - back;
            if (double.IsNaN(e)) continue; // ±Inf saturated: its error is infinite and says nothing; counted in Saturated
            if (double.IsInfinity(e)) continue;
            maxAbs = Math.Max(maxAbs, Math.Abs(e));
            sumErr2 += e * e;
            sumX2 += values[i] * values[i];
        }
        double rmse = values.Length == 0 ? 0 : Math.Sqrt(sumErr2 / values.Length);
        double snr = sumErr2 == 0 ? double.PositiveInfinity : 10 * Math.Log10(sumX2 / sumErr2);
        return new QuantizedValues(words, bits, scales, zeroPoints, axis, format, new QuantizationReport(values.Length, maxAbs, rmse, snr, saturated));
    }
}

/// <summary>
/// 8- and 16-bit integer quantization (<c>--int8</c>, <c>--int16</c>), per tensor or per channel. The integers are computed as
/// PyTorch's <c>quantize_per_tensor</c>/<c>quantize_per_channel</c> compute them for a given scale and zero point — in float32,
/// <c>q = clamp(nearbyint(x · (1f / scale)) + zero_point)</c> — so a checkpoint quantized here and by torch agree bit for bit.
/// Scales and zero points are chosen as torch's MinMaxObserver chooses them, in float32 (scales are stored as C <c>float</c>s).
/// </summary>
public static class IntegerQuantizer
{
    // torch.finfo(torch.float32).eps, the observers' default eps.
    private const float FloatEpsilon = 1.1920929E-07f;

    /// <summary>Quantizes row-major <paramref name="values"/> of <paramref name="shape"/> to <paramref name="bits"/>-bit signed integers.</summary>
    /// <param name="name">Tensor name, for messages.</param>
    /// <param name="values">Row-major values.</param>
    /// <param name="shape">Their shape.</param>
    /// <param name="bits">8 or 16.</param>
    /// <param name="scheme">Symmetric or asymmetric.</param>
    /// <param name="axis">Channel axis for per-channel quantization; null for per tensor.</param>
    /// <param name="rounding">Rounding of x / scale.</param>
    /// <param name="overflow">Saturate (torch's behaviour) or wrap.</param>
    /// <exception cref="ModelWriteException">NaN or infinite values (no scale can hold them), or a bad axis.</exception>
    public static QuantizedValues Quantize(string name, ReadOnlySpan<double> values, IReadOnlyList<long> shape, int bits, IntegerScheme scheme,
        int? axis = null, Rounding rounding = Rounding.NearestEven, Overflow overflow = Overflow.Saturate)
    {
        if (bits is < 2 or > 32) throw new ArgumentOutOfRangeException(nameof(bits), bits, "2 to 32 bits");
        long qmin = -(1L << (bits - 1)), qmax = (1L << (bits - 1)) - 1;
        long channels = 1, stride = values.Length;
        if (axis is int a)
        {
            if (a < 0) a += shape.Count;
            if (a < 0 || a >= shape.Count)
                throw new ModelWriteException($"{name}: per-channel axis {axis} is out of range for a tensor of {shape.Count} dimension(s)");
            axis = a;
            channels = shape[a];
            stride = 1;
            for (int d = a + 1; d < shape.Count; d++) stride *= shape[d];
        }
        for (int i = 0; i < values.Length; i++)
            if (!double.IsFinite(values[i]))
                throw new ModelWriteException($"{name}: element {i} is {values[i]}; integer quantization needs finite values (remove NaN/Inf first)");

        var min = new double[channels];
        var max = new double[channels];
        for (int i = 0; i < values.Length; i++)
        {
            long c = axis is null ? 0 : i / stride % channels;
            min[c] = Math.Min(min[c], values[i]); // starts at 0: the range always includes 0, as torch's observers do
            max[c] = Math.Max(max[c], values[i]);
        }
        var scales = new double[channels];
        var zeroPoints = new long[channels];
        for (long c = 0; c < channels; c++)
        {
            // torch.ao.quantization's MinMaxObserver._calculate_qparams, in float32 as torch computes it for float32 tensors:
            // symmetric: max(-min, max) / ((quant_max - quant_min) / 2) with the range [-(2^(b-1) - 1), 2^(b-1) - 1];
            // affine: (max - min) / (quant_max - quant_min), zero_point = quant_min - round(min / scale), clamped;
            // the scale never below float32's epsilon (an all-zero channel gets eps).
            float lo = (float)min[c], hi = (float)max[c];
            float scale;
            long zp = 0;
            if (scheme == IntegerScheme.Symmetric)
            {
                scale = Math.Max(-lo, hi) / ((float)(qmax - (-qmax)) / 2);
                scale = Math.Max(scale, FloatEpsilon);
            }
            else
            {
                scale = (hi - lo) / (float)(qmax - qmin);
                scale = Math.Max(scale, FloatEpsilon);
                zp = Math.Clamp(qmin - (long)MathF.Round(lo / scale, MidpointRounding.ToEven), qmin, qmax);
            }
            scales[c] = scale;
            zeroPoints[c] = zp;
        }

        var words = new long[values.Length];
        long outOfRange = 0;
        for (int i = 0; i < values.Length; i++)
        {
            long c = axis is null ? 0 : i / stride % channels;
            float inv = 1f / (float)scales[c];
            float x = (float)values[i] * inv;
            double r = FixedPoint.Round(x, rounding) + zeroPoints[c];
            words[i] = FixedPoint.Fit(r, qmin, qmax, bits, overflow, ref outOfRange);
        }
        return QuantizedValues.Create(values, words, bits, scales, zeroPoints, axis, null, outOfRange, stride, channels);
    }
}
