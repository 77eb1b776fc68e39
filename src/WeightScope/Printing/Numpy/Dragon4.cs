using System.Numerics;
using System.Text;

namespace WeightScope.Printing.Numpy;

/// <summary>The float types numpy prints with their own shortest digits (numpy prints float32 0.1 as <c>0.1</c>).</summary>
internal enum NumpyFloatKind
{
    /// <summary>IEEE binary16 (<c>np.float16</c>).</summary>
    Half,
    /// <summary>IEEE binary32 (<c>np.float32</c>, and the parts of <c>np.complex64</c>).</summary>
    Single,
    /// <summary>IEEE binary64 (<c>np.float64</c>, and the parts of <c>np.complex128</c>).</summary>
    Double,
}

/// <summary>How many digits Dragon4 produces (numpy's <c>DigitMode</c>).</summary>
internal enum DigitMode
{
    /// <summary>The shortest digits that read back to the same value of the float's own type (<c>unique=True</c>).</summary>
    Unique,
    /// <summary>The exact binary value's digits, up to the cutoff (<c>unique=False</c>).</summary>
    Exact,
}

/// <summary>What <c>precision</c> counts (numpy's <c>CutoffMode</c>).</summary>
internal enum CutoffMode
{
    /// <summary>Significant digits.</summary>
    TotalLength,
    /// <summary>Digits after the decimal point (<c>fractional=True</c>).</summary>
    FractionLength,
}

/// <summary>Trailing zeros and decimal point (numpy's <c>trim</c> argument).</summary>
internal enum TrimMode
{
    /// <summary><c>'k'</c>: keep trailing zeros, keep the point.</summary>
    None,
    /// <summary><c>'.'</c>: trim trailing zeros, keep the point.</summary>
    Zeros,
    /// <summary><c>'0'</c>: trim trailing zeros but leave one after the point.</summary>
    LeaveOneZero,
    /// <summary><c>'-'</c>: trim trailing zeros and the point.</summary>
    DptZeros,
}

/// <summary>
/// numpy's float to text conversion: <c>dragon4_positional</c> and <c>dragon4_scientific</c>
/// (<c>numpy/core/src/multiarray/dragon4.c</c>, numpy 1.24: <c>Dragon4</c>, <c>FormatPositional</c>,
/// <c>FormatScientific</c>, <c>Dragon4_PrintFloat_IEEE_binary16/32/64</c>), ported with <see cref="BigInteger"/> in place
/// of numpy's fixed-size big integers (the quotient digits and comparisons are the same; numpy's block shifts only
/// keep its division in range and scale every operand alike).
/// <see cref="PythonFloat"/> is not enough here: numpy's "unique" digits are the shortest for the value's own type
/// (float16/float32), and its <c>maxprec</c> mode stops the shortest-digit loop at a cutoff and rounds there from the
/// loop's state, which is not the same as rounding the shortest digits.
/// </summary>
internal static class Dragon4
{
    // numpy's Dragon4_Scratch.repr buffer: digits stop there (only reachable with precision in the thousands).
    private const int BufferSize = 16384;
    private const double Log10Of2 = 0.30102999566398119521373889472449;

    /// <summary>The options of one numpy call (<c>Dragon4_Options</c>); −1 means "not given" as in numpy.</summary>
    public readonly record struct Options(
        DigitMode DigitMode, CutoffMode CutoffMode, int Precision, int MinDigits, bool Sign, TrimMode Trim,
        int PadLeft, int PadRight, int ExpDigits);

    /// <summary><c>dragon4_positional(x, …)</c> for a finite value of the given kind.</summary>
    public static string Positional(double value, NumpyFloatKind kind, in Options o)
    {
        var f = Decompose(value, kind);
        return FormatPositional(f, o);
    }

    /// <summary><c>dragon4_scientific(x, …)</c> for a finite value of the given kind.</summary>
    public static string Scientific(double value, NumpyFloatKind kind, in Options o)
    {
        var f = Decompose(value, kind);
        return FormatScientific(f, o);
    }

    /// <summary>A finite float as mantissa × 2^exponent, with what Dragon4 needs to know about its neighbours.</summary>
    private readonly record struct FloatParts(bool Negative, ulong Mantissa, int Exponent, int MantissaBit, bool UnequalMargins);

    // Dragon4_PrintFloat_IEEE_binary16/32/64: the value's own type decides the margins to its neighbours.
    private static FloatParts Decompose(double value, NumpyFloatKind kind)
    {
        if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "Dragon4 formats finite values");
        int fractionBits, exponentBits;
        ulong bits;
        switch (kind)
        {
            case NumpyFloatKind.Half:
                bits = BitConverter.HalfToUInt16Bits((Half)value); fractionBits = 10; exponentBits = 5; break;
            case NumpyFloatKind.Single:
                bits = BitConverter.SingleToUInt32Bits((float)value); fractionBits = 23; exponentBits = 8; break;
            default:
                bits = BitConverter.DoubleToUInt64Bits(value); fractionBits = 52; exponentBits = 11; break;
        }
        int bias = (1 << (exponentBits - 1)) - 1;
        bool negative = (bits >> (fractionBits + exponentBits)) != 0;
        ulong fraction = bits & ((1UL << fractionBits) - 1);
        int biased = (int)((bits >> fractionBits) & ((1UL << exponentBits) - 1));
        if (biased != 0)
        {
            // normalized: value = (2^fractionBits + fraction) × 2^(biased − bias − fractionBits)
            return new FloatParts(negative, (1UL << fractionBits) | fraction, biased - bias - fractionBits, fractionBits,
                biased != 1 && fraction == 0);
        }
        // subnormal: value = fraction × 2^(1 − bias − fractionBits)
        int mantissaBit = fraction == 0 ? 0 : 63 - BitOperations.LeadingZeroCount(fraction);
        return new FloatParts(negative, fraction, 1 - bias - fractionBits, mantissaBit, false);
    }

    // Port of Dragon4(): the decimal digits of the value (no leading zeros) and the base-10 exponent of the first one.
    private static (string Digits, int Exponent) Digits(FloatParts f, DigitMode digitMode, CutoffMode cutoffMode,
        int cutoffMax, int cutoffMin, int bufferSize)
    {
        if (f.Mantissa == 0) return ("0", 0);

        // value = scaledValue / scale; the margins are half the distance to the neighbouring floats.
        BigInteger scale, scaledValue, marginLow, marginHigh;
        bool unequal = f.UnequalMargins;
        if (unequal)
        {
            if (f.Exponent > 0)
            {
                scaledValue = new BigInteger(f.Mantissa) << (f.Exponent + 2);
                scale = 4;
                marginLow = BigInteger.One << f.Exponent;
                marginHigh = BigInteger.One << (f.Exponent + 1);
            }
            else
            {
                scaledValue = new BigInteger(f.Mantissa) << 2;
                scale = BigInteger.One << (-f.Exponent + 2);
                marginLow = 1;
                marginHigh = 2;
            }
        }
        else
        {
            if (f.Exponent > 0)
            {
                scaledValue = new BigInteger(f.Mantissa) << (f.Exponent + 1);
                scale = 2;
                marginLow = BigInteger.One << f.Exponent;
            }
            else
            {
                scaledValue = new BigInteger(f.Mantissa) << 1;
                scale = BigInteger.One << (-f.Exponent + 1);
                marginLow = 1;
            }
            marginHigh = marginLow;
        }

        // An estimate of floor(log10(v)) + 1 that is right or one too low (Burger and Dybvig, with numpy's 0.69).
        int digitExponent = (int)Math.Ceiling((f.MantissaBit + f.Exponent) * Log10Of2 - 0.69);
        if (cutoffMax >= 0 && cutoffMode == CutoffMode.FractionLength && digitExponent <= -cutoffMax)
            digitExponent = -cutoffMax + 1;

        if (digitExponent > 0)
        {
            scale *= BigInteger.Pow(10, digitExponent);
        }
        else if (digitExponent < 0)
        {
            var pow10 = BigInteger.Pow(10, -digitExponent);
            scaledValue *= pow10;
            marginLow *= pow10;
            marginHigh = unequal ? marginLow * 2 : marginLow;
        }

        if (scaledValue >= scale)
        {
            digitExponent++;
        }
        else
        {
            scaledValue *= 10;
            marginLow *= 10;
            marginHigh = unequal ? marginLow * 2 : marginLow;
        }

        int cutoffMaxExponent = digitExponent - bufferSize;
        if (cutoffMax >= 0)
        {
            int desired = cutoffMode == CutoffMode.TotalLength ? digitExponent - cutoffMax : -cutoffMax;
            if (desired > cutoffMaxExponent) cutoffMaxExponent = desired;
        }
        int cutoffMinExponent = digitExponent;
        if (cutoffMin >= 0)
        {
            int desired = cutoffMode == CutoffMode.TotalLength ? digitExponent - cutoffMin : -cutoffMin;
            if (desired < cutoffMinExponent) cutoffMinExponent = desired;
        }
        int outExponent = digitExponent - 1;

        var digits = new StringBuilder(24);
        bool isEven = (f.Mantissa & 1) == 0;
        bool low, high;
        int outputDigit;
        if (digitMode == DigitMode.Unique)
        {
            while (true)
            {
                digitExponent--;
                outputDigit = (int)BigInteger.DivRem(scaledValue, scale, out scaledValue);
                var scaledValueHigh = scaledValue + marginHigh;
                int cmp = scaledValue.CompareTo(marginLow);
                low = isEven ? cmp <= 0 : cmp < 0;
                cmp = scaledValueHigh.CompareTo(scale);
                high = isEven ? cmp >= 0 : cmp > 0;
                // stop when far enough from the neighbours (and the minimum digits are out), or at the cutoff
                if (((low || high) && digitExponent <= cutoffMinExponent) || digitExponent == cutoffMaxExponent) break;
                digits.Append((char)('0' + outputDigit));
                scaledValue *= 10;
                marginLow *= 10;
                marginHigh = unequal ? marginLow * 2 : marginLow;
            }
        }
        else
        {
            low = false;
            high = false;
            while (true)
            {
                digitExponent--;
                outputDigit = (int)BigInteger.DivRem(scaledValue, scale, out scaledValue);
                if (scaledValue.IsZero || digitExponent == cutoffMaxExponent) break;
                digits.Append((char)('0' + outputDigit));
                scaledValue *= 10;
            }
        }

        // Round the final digit: down if only that is legal, else to nearest, ties to the even digit.
        bool roundDown = low;
        if (low == high)
        {
            int compare = (scaledValue * 2).CompareTo(scale);
            roundDown = compare < 0;
            if (compare == 0) roundDown = (outputDigit & 1) == 0;
        }
        if (roundDown)
        {
            digits.Append((char)('0' + outputDigit));
        }
        else if (outputDigit == 9)
        {
            // carry into the first digit that is not a 9; all nines become "1" one exponent up
            while (true)
            {
                if (digits.Length == 0)
                {
                    digits.Append('1');
                    outExponent++;
                    break;
                }
                char last = digits[^1];
                digits.Length--;
                if (last != '9')
                {
                    digits.Append((char)(last + 1));
                    break;
                }
            }
        }
        else
        {
            digits.Append((char)('0' + outputDigit + 1));
        }
        return (digits.ToString(), outExponent);
    }

    // Port of FormatPositional (the buffer-length guards only matter past 16 KB of text and are left out).
    private static string FormatPositional(FloatParts f, in Options o)
    {
        var sb = new StringBuilder(32);
        int hasSign = 0;
        if (f.Negative) { sb.Append('-'); hasSign = 1; }
        else if (o.Sign) { sb.Append('+'); hasSign = 1; }

        var (digits, printExponent) = Digits(f, o.DigitMode, o.CutoffMode, o.Precision, o.MinDigits, BufferSize - 1 - hasSign);
        int numDigits = digits.Length;
        int numWholeDigits, numFractionDigits = 0;
        if (printExponent >= 0)
        {
            numWholeDigits = printExponent + 1;
            if (numDigits <= numWholeDigits)
            {
                sb.Append(digits).Append('0', numWholeDigits - numDigits);
            }
            else
            {
                numFractionDigits = numDigits - numWholeDigits;
                sb.Append(digits, 0, numWholeDigits).Append('.').Append(digits, numWholeDigits, numFractionDigits);
            }
        }
        else
        {
            int numFractionZeros = -(printExponent + 1);
            sb.Append("0.").Append('0', numFractionZeros).Append(digits);
            numFractionDigits = numDigits + numFractionZeros;
            numWholeDigits = 1;
        }

        // always add the decimal point, except for DptZeros mode
        if (o.Trim != TrimMode.DptZeros && numFractionDigits == 0) sb.Append('.');

        int addDigits = o.DigitMode == DigitMode.Unique ? o.MinDigits : o.Precision;
        int desiredFractionalDigits = addDigits < 0 ? 0 : addDigits;
        if (o.CutoffMode == CutoffMode.TotalLength) desiredFractionalDigits = addDigits - numWholeDigits;

        if (o.Trim == TrimMode.LeaveOneZero)
        {
            if (numFractionDigits == 0) { sb.Append('0'); numFractionDigits++; }
        }
        else if (o.Trim == TrimMode.None && desiredFractionalDigits > numFractionDigits)
        {
            sb.Append('0', desiredFractionalDigits - numFractionDigits);
            numFractionDigits = desiredFractionalDigits;
        }

        // rounding can still leave trailing zeros: remove them as the trim mode says
        if (o.Trim != TrimMode.None && numFractionDigits > 0)
        {
            while (sb[^1] == '0') { sb.Length--; numFractionDigits--; }
            if (sb[^1] == '.')
            {
                if (o.Trim == TrimMode.LeaveOneZero) { sb.Append('0'); numFractionDigits++; }
                else if (o.Trim == TrimMode.DptZeros) sb.Length--;
            }
        }

        if (o.PadRight >= numFractionDigits)
        {
            // in DptZeros mode a trimmed point becomes a space when padding
            if (o.Trim == TrimMode.DptZeros && numFractionDigits == 0) sb.Append(' ');
            sb.Append(' ', o.PadRight - numFractionDigits);
        }
        if (o.PadLeft > numWholeDigits + hasSign) sb.Insert(0, " ", o.PadLeft - (numWholeDigits + hasSign));
        return sb.ToString();
    }

    // Port of FormatScientific.
    private static string FormatScientific(FloatParts f, in Options o)
    {
        var sb = new StringBuilder(32);
        bool hasSign = f.Negative || o.Sign;
        int leftChars = 1 + (hasSign ? 1 : 0);
        if (o.PadLeft > leftChars) sb.Append(' ', o.PadLeft - leftChars);
        if (f.Negative) sb.Append('-');
        else if (o.Sign) sb.Append('+');

        var (digits, printExponent) = Digits(f, o.DigitMode, CutoffMode.TotalLength,
            o.Precision < 0 ? -1 : o.Precision + 1, o.MinDigits < 0 ? -1 : o.MinDigits + 1, BufferSize - sb.Length);

        sb.Append(digits[0]);
        int numFractionDigits = digits.Length - 1;
        if (numFractionDigits > 0) sb.Append('.').Append(digits, 1, numFractionDigits);
        if (o.Trim != TrimMode.DptZeros && numFractionDigits == 0) sb.Append('.');

        int addDigits = o.DigitMode == DigitMode.Unique ? o.MinDigits : o.Precision;
        if (addDigits < 0) addDigits = 0;
        if (o.Trim == TrimMode.LeaveOneZero)
        {
            if (numFractionDigits == 0) { sb.Append('0'); numFractionDigits++; }
        }
        else if (o.Trim == TrimMode.None && addDigits > numFractionDigits)
        {
            sb.Append('0', addDigits - numFractionDigits);
            numFractionDigits = addDigits;
        }

        // numpy trims zeros here but (unlike FormatPositional) never the point itself
        if (o.Trim != TrimMode.None && numFractionDigits > 0)
        {
            while (sb[^1] == '0') { sb.Length--; numFractionDigits--; }
            if (o.Trim == TrimMode.LeaveOneZero && sb[^1] == '.') { sb.Append('0'); numFractionDigits++; }
        }

        int expDigits = o.ExpDigits > 5 ? 5 : o.ExpDigits < 0 ? 2 : o.ExpDigits;
        sb.Append('e').Append(printExponent >= 0 ? '+' : '-');
        string exponent = Math.Abs(printExponent).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (exponent.Length < expDigits) sb.Append('0', expDigits - exponent.Length);
        return sb.Append(exponent).ToString();
    }
}
