using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using WeightScope.Tensors;

namespace WeightScope.Printing;

/// <summary>
/// Python's float formatting, which torch's printing is built on: <c>'{:.4f}'</c>, <c>'{:.4e}'</c> and <c>repr(float)</c>.
/// Python formats the exact binary value, correctly rounded, ties to even (<c>'{:.2f}'.format(0.125)</c> is <c>0.12</c>),
/// where .NET's "F"/"E" round decimal ties away from zero and write exponents as <c>E+000</c>; so the digits are computed
/// here from the IEEE bits with exact integer arithmetic.
/// </summary>
internal static class PythonFloat
{
    private const int MantissaBits = 52;
    private const int ExponentBias = 1075; // 1023 + 52: value = mantissa × 2^(exponent − 1075)
    private const int SubnormalExponent = -1074;
    private const int MaxFastPrecision = 19; // 10^19 < 2^64

    private static readonly UInt128[] Pow10U128 = BuildPow10();

    /// <summary><c>'{:.{precision}f}'.format(value)</c>.</summary>
    // Printing a large tensor calls this once or twice per element: skip the slow first JIT tier.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string Fixed(double value, int precision)
    {
        if (!double.IsFinite(value)) return NonFinite(value);
        var (negative, mantissa, exponent) = Decompose(value);
        string digits = ScaledRoundedDigits(mantissa, exponent, precision);
        var sb = new StringBuilder(digits.Length + 3);
        if (negative) sb.Append('-');
        if (precision == 0)
        {
            sb.Append(digits);
        }
        else
        {
            if (digits.Length <= precision) digits = new string('0', precision + 1 - digits.Length) + digits;
            sb.Append(digits, 0, digits.Length - precision).Append('.').Append(digits, digits.Length - precision, precision);
        }
        return sb.ToString();
    }

    /// <summary><c>'{:.{precision}e}'.format(value)</c>: <c>1.2346e+03</c>, <c>-5.0000e-05</c>, <c>0.0000e+00</c>.</summary>
    public static string Exponent(double value, int precision)
    {
        if (!double.IsFinite(value)) return NonFinite(value);
        var (negative, mantissa, exponent) = Decompose(value);
        string digits;
        int decimalExponent;
        if (mantissa == 0)
        {
            digits = new string('0', precision + 1);
            decimalExponent = 0;
        }
        else
        {
            (digits, decimalExponent) = SignificantDigits(mantissa, exponent, precision);
        }
        var sb = new StringBuilder(precision + 8);
        if (negative) sb.Append('-');
        sb.Append(digits[0]);
        if (precision > 0) sb.Append('.').Append(digits, 1, precision);
        return AppendExponent(sb, decimalExponent).ToString();
    }

    /// <summary><c>repr(value)</c> (also <c>str(value)</c>): the shortest digits that read back to the same double,
    /// in fixed notation for decimal exponents −4…15 (<c>0.0001</c>, <c>100.0</c>) and scientific otherwise (<c>1e-05</c>, <c>1e+16</c>).</summary>
    public static string Repr(double value) => Layout(value, ShortestDigits, ReprScientific);

    // CPython's float_repr_style 'short': scientific when decpt <= -4 or decpt > 16 (pystrtod.c, format_float_short).
    private static bool ReprScientific(double positive, int decimalPoint) => decimalPoint <= -4 || decimalPoint > 16;

    // numpy's float32/float16 scalar str: positional when 1e-4 <= |v| < 1e16, the value compared, not its digits
    // (scalartypes.c.src), so float32 1e-4 (9.99999974e-05) prints as 1e-04.
    private static bool NumpyScientific(double positive, int decimalPoint) => !(positive >= 1e-4 && positive < 1e16);

    /// <summary>
    /// <see cref="Repr(double)"/> with the shortest digits that read back to the same value of <paramref name="dtype"/>:
    /// numpy's <c>str(np.float32(v))</c> / <c>str(np.float16(v))</c> (<c>0.1</c> for float32 0.1, not
    /// <c>0.10000000149011612</c>; scientific below 1e-4 and from 1e16 by value, as numpy decides); float64 is
    /// <c>repr(v)</c>; bfloat16, which numpy lacks, is <c>repr</c> of its shortest decimal. Other element types (float8)
    /// are written as float32, whose digits read back exactly too.
    /// </summary>
    /// <param name="value">A value of <paramref name="dtype"/>, widened to double.</param>
    /// <param name="dtype">The element type the text must read back to.</param>
    public static string Repr(double value, DType dtype) => dtype switch
    {
        DType.Float64 => Repr(value),
        DType.Float16 => Layout(value, v => ParseDigits(((Half)v).ToString("R", CultureInfo.InvariantCulture)), NumpyScientific),
        DType.BFloat16 => Layout(value, ShortestBFloat16Digits, ReprScientific),
        _ => Layout(value, v => ParseDigits(((float)v).ToString("R", CultureInfo.InvariantCulture)), NumpyScientific),
    };

    private static string Layout(double value, Func<double, (string Digits, int DecimalPoint)> shortest, Func<double, int, bool> scientific)
    {
        if (!double.IsFinite(value)) return NonFinite(value);
        bool negative = double.IsNegative(value);
        if (value == 0) return negative ? "-0.0" : "0.0";
        // .NET Core 3.0+ "R" yields the shortest round-tripping digits, as Python's repr does (David Gay's mode 0).
        var (digits, decimalPoint) = shortest(Math.Abs(value));
        var sb = new StringBuilder(digits.Length + 8);
        if (negative) sb.Append('-');
        if (scientific(Math.Abs(value), decimalPoint))
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            return AppendExponent(sb, decimalPoint - 1).ToString();
        }
        if (decimalPoint <= 0) sb.Append("0.").Append('0', -decimalPoint).Append(digits);
        else if (decimalPoint >= digits.Length) sb.Append(digits).Append('0', decimalPoint - digits.Length).Append(".0");
        else sb.Append(digits, 0, decimalPoint).Append('.').Append(digits, decimalPoint, digits.Length - decimalPoint);
        return sb.ToString();
    }

    private static string NonFinite(double value) => double.IsNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";

    // Python writes at least two exponent digits, with a sign: e+00, e-05, e+300.
    private static StringBuilder AppendExponent(StringBuilder sb, int exponent) =>
        sb.Append('e').Append(exponent < 0 ? '-' : '+')
          .Append(Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture));

    // |value| = mantissa × 2^exponent exactly.
    private static (bool Negative, ulong Mantissa, int Exponent) Decompose(double value)
    {
        long bits = BitConverter.DoubleToInt64Bits(value);
        bool negative = bits < 0;
        int biased = (int)((bits >> MantissaBits) & 0x7FF);
        ulong fraction = (ulong)bits & ((1UL << MantissaBits) - 1);
        return biased == 0
            ? (negative, fraction, SubnormalExponent)
            : (negative, fraction | (1UL << MantissaBits), biased - ExponentBias);
    }

    // round_half_even(mantissa × 2^exponent × 10^precision), as decimal digits.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static string ScaledRoundedDigits(ulong mantissa, int exponent, int precision)
    {
        // Fast path: mantissa < 2^53 and 10^precision < 2^64, so the product fits in 117 bits.
        if (precision <= MaxFastPrecision)
        {
            if (exponent < 0 && exponent >= -127)
            {
                UInt128 num = (UInt128)mantissa * Pow10U128[precision];
                int shift = -exponent;
                UInt128 q = num >> shift;
                UInt128 r = num - (q << shift);
                UInt128 half = UInt128.One << (shift - 1);
                if (r > half || (r == half && (q & 1) == 1)) q++;
                return q <= ulong.MaxValue ? ((ulong)q).ToString(CultureInfo.InvariantCulture) : q.ToString(CultureInfo.InvariantCulture);
            }
            if (exponent >= 0 && exponent <= 10)
                return ((UInt128)(mantissa << exponent) * Pow10U128[precision]).ToString(CultureInfo.InvariantCulture);
        }
        BigInteger numerator = new BigInteger(mantissa) * BigInteger.Pow(10, precision);
        if (exponent >= 0) return (numerator << exponent).ToString(CultureInfo.InvariantCulture);
        return RoundHalfEven(numerator, BigInteger.One << -exponent).ToString(CultureInfo.InvariantCulture);
    }

    // The precision+1 significant digits of mantissa × 2^exponent (> 0), correctly rounded, and the decimal exponent k
    // such that the value ≈ d.ddd × 10^k.
    private static (string Digits, int DecimalExponent) SignificantDigits(ulong mantissa, int exponent, int precision)
    {
        int k = (int)Math.Floor(Math.Log10(mantissa) + exponent * Math.Log10(2));
        BigInteger low = BigInteger.Pow(10, precision), high = low * 10;
        while (true)
        {
            // value × 10^(precision − k) = numerator / denominator
            int t = precision - k;
            BigInteger numerator = mantissa, denominator = BigInteger.One;
            if (exponent >= 0) numerator <<= exponent; else denominator <<= -exponent;
            if (t >= 0) numerator *= BigInteger.Pow(10, t); else denominator *= BigInteger.Pow(10, -t);
            BigInteger q = BigInteger.DivRem(numerator, denominator, out _);
            if (q < low) { k--; continue; }   // the logarithm estimate was one too high
            if (q >= high) { k++; continue; } // or one too low
            q = RoundHalfEven(numerator, denominator);
            if (q == high) { q = low; k++; }  // 9.99995 → 1.0000e+01
            return (q.ToString(CultureInfo.InvariantCulture), k);
        }
    }

    private static BigInteger RoundHalfEven(BigInteger numerator, BigInteger denominator)
    {
        BigInteger q = BigInteger.DivRem(numerator, denominator, out var r);
        int c = (r * 2).CompareTo(denominator);
        if (c > 0 || (c == 0 && !q.IsEven)) q++;
        return q;
    }

    // Shortest round-trip digits (no leading or trailing zeros) and the decimal point position:
    // value = 0.d1d2… × 10^decimalPoint.
    // bfloat16 has no .NET type: the fewest significant digits (1…9; 9 always suffice for its 8-bit significand) whose
    // decimal rounds back to the same bfloat16, found by trying each; the value is the upper half of a float32.
    private static (string Digits, int DecimalPoint) ShortestBFloat16Digits(double positive)
    {
        uint bits = BitConverter.SingleToUInt32Bits((float)positive);
        for (int p = 1; p < 9; p++)
        {
            string text = positive.ToString("E" + (p - 1).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
            if (RoundsToBFloat16(double.Parse(text, CultureInfo.InvariantCulture), bits)) return ParseDigits(text);
        }
        return ParseDigits(positive.ToString("E8", CultureInfo.InvariantCulture));
    }

    // True when x rounds (to nearest, ties to even) to the bfloat16 whose float32 bits are `bits` (positive, finite):
    // x lies strictly between the midpoints to its neighbours, or on one when `bits` is even.
    private static bool RoundsToBFloat16(double x, uint bits)
    {
        double v = BitConverter.UInt32BitsToSingle(bits);
        double below = bits == 0 ? 0 : BitConverter.UInt32BitsToSingle(bits - 0x10000);
        double above = BitConverter.UInt32BitsToSingle(bits + 0x10000);  // +Inf past the largest finite: midpoint Inf
        double lo = (below + v) / 2, hi = double.IsInfinity(above) ? v + (v - below) / 2 : (v + above) / 2;
        bool even = (bits & 0x10000) == 0;
        return even ? x >= lo && x <= hi : x > lo && x < hi;
    }

    private static (string Digits, int DecimalPoint) ShortestDigits(double positive) =>
        ParseDigits(positive.ToString("R", CultureInfo.InvariantCulture));

    // The significant digits and decimal point position of .NET's text of a positive number ("1.5E-05", "123.25").
    private static (string Digits, int DecimalPoint) ParseDigits(string s)
    {
        int e = s.IndexOf('E');
        int exp10 = e < 0 ? 0 : int.Parse(s.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        string mantissa = e < 0 ? s : s[..e];
        int dot = mantissa.IndexOf('.');
        int integerDigits = dot < 0 ? mantissa.Length : dot;
        string all = dot < 0 ? mantissa : mantissa.Remove(dot, 1);
        int leadingZeros = 0;
        while (leadingZeros < all.Length - 1 && all[leadingZeros] == '0') leadingZeros++;
        string digits = all[leadingZeros..].TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        return (digits, integerDigits - leadingZeros + exp10);
    }

    private static UInt128[] BuildPow10()
    {
        var p = new UInt128[MaxFastPrecision + 1];
        p[0] = 1;
        for (int i = 1; i < p.Length; i++) p[i] = p[i - 1] * 10;
        return p;
    }
}
