using System.Globalization;
using WeightScope.Writing;

namespace WeightScope.Export;

/// <summary>How a real value is rounded to an integer step.</summary>
public enum Rounding
{
    /// <summary>To the nearest step, ties to the even step (IEEE default; <c>torch.round</c>, <c>std::nearbyint</c>).</summary>
    NearestEven,

    /// <summary>Toward negative infinity: the fraction bits are dropped, as a hardware shift of a two's complement value does.</summary>
    Truncate,
}

/// <summary>What happens to a value outside the integer range.</summary>
public enum Overflow
{
    /// <summary>Clamped to the nearest representable integer.</summary>
    Saturate,

    /// <summary>Only the low bits are kept (two's complement wrap-around, as an unguarded adder does).</summary>
    Wrap,
}

/// <summary>
/// A signed fixed-point format in the ARM/TI <c>Qm.n</c> notation: one sign bit, <c>m</c> integer bits and <c>n</c>
/// fraction bits, so <c>1 + m + n</c> bits in all (Q3.12 is a 16-bit word; Q0.7 is an 8-bit word covering [-1, 1)).
/// TI's <c>Qn</c> (Q15, Q31) is <c>Q0.n</c>.
/// A value v is stored as the integer <c>round(v · 2^n)</c>.
/// </summary>
/// <param name="IntegerBits">m: integer bits, not counting the sign bit.</param>
/// <param name="FractionBits">n: fraction bits.</param>
public readonly record struct QFormat(int IntegerBits, int FractionBits)
{
    /// <summary>The largest word supported (words are held in 64-bit integers and C has no wider type).</summary>
    public const int MaxTotalBits = 32;

    /// <summary>Total bits: 1 + m + n.</summary>
    public int TotalBits => 1 + IntegerBits + FractionBits;

    /// <summary>Smallest stored integer, −2^(m+n).</summary>
    public long MinInteger => -(1L << (IntegerBits + FractionBits));

    /// <summary>Largest stored integer, 2^(m+n) − 1.</summary>
    public long MaxInteger => (1L << (IntegerBits + FractionBits)) - 1;

    /// <summary>The value of one step, 2^−n.</summary>
    public double Resolution => Math.ScaleB(1.0, -FractionBits);

    /// <summary>
    /// Parses <c>Qm.n</c> (or <c>m.n</c>), e.g. <c>Q3.12</c>, or TI's <c>Qn</c>, e.g. <c>Q15</c>: a sign bit and n
    /// fraction bits, the same as <c>Q0.n</c> (a 16-bit word for Q15).
    /// </summary>
    /// <exception cref="FormatException">Not of that form, or more than <see cref="MaxTotalBits"/> bits.</exception>
    public static QFormat Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.Trim();
        bool prefixed = s.StartsWith('Q') || s.StartsWith('q');
        if (prefixed) s = s[1..];
        var parts = s.Split('.');
        // "Q15" is TI's notation for Q0.15; a bare "15" is not a format (it reads like a bit count).
        if (prefixed && parts.Length == 1) parts = ["0", parts[0]];
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int m)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            throw new FormatException($"fixed-point format '{text}': expected Qm.n, e.g. Q3.12 (1 sign bit + m integer bits + n fraction bits), or TI's Qn, e.g. Q15 (= Q0.15)");
        var q = new QFormat(m, n);
        if (q.TotalBits > MaxTotalBits)
            throw new FormatException($"fixed-point format '{text}' needs {q.TotalBits} bits (1 sign + {m} + {n}); at most {MaxTotalBits} are supported");
        return q;
    }

    /// <summary><c>Q3.12</c> (always the Qm.n form, Q0.15 for TI's Q15).</summary>
    public override string ToString() => $"Q{IntegerBits}.{FractionBits}";
}

/// <summary>Fixed-point conversion of real values (<c>--fixed Qm.n</c>).</summary>
public static class FixedPoint
{
    /// <summary>
    /// Converts <paramref name="values"/> to <paramref name="format"/>: <c>round(v · 2^n)</c> in double precision (exact:
    /// a power-of-two scale loses nothing), then saturated or wrapped into the word. NaN cannot be represented and is refused;
    /// ±Inf saturate (or, with <see cref="Overflow.Wrap"/>, are refused).
    /// </summary>
    /// <exception cref="ModelWriteException">A NaN, or an infinity with wrap-around.</exception>
    public static QuantizedValues Quantize(string name, ReadOnlySpan<double> values, QFormat format, Rounding rounding = Rounding.NearestEven,
        Overflow overflow = Overflow.Saturate)
    {
        var words = new long[values.Length];
        long outOfRange = 0;
        double scale = format.Resolution;
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            if (double.IsNaN(v) || (double.IsInfinity(v) && overflow == Overflow.Wrap))
                throw new ModelWriteException($"{name}: element {i} is {v}, which {format} cannot represent; remove it first or use --overflow saturate for infinities");
            double r = Round(Math.ScaleB(v, format.FractionBits), rounding);
            words[i] = Fit(r, format.MinInteger, format.MaxInteger, format.TotalBits, overflow, ref outOfRange);
        }
        return QuantizedValues.Create(values, words, format.TotalBits, [scale], [0], axis: null, format, outOfRange);
    }

    /// <summary>Rounds to an integer-valued double.</summary>
    public static double Round(double x, Rounding rounding) =>
        rounding == Rounding.NearestEven ? Math.Round(x, MidpointRounding.ToEven) : Math.Floor(x);

    /// <summary>Puts an integer-valued <paramref name="r"/> into [min, max] by saturation or by wrapping into <paramref name="bits"/> bits.</summary>
    internal static long Fit(double r, long min, long max, int bits, Overflow overflow, ref long outOfRange)
    {
        if (r >= min && r <= max) return (long)r;
        outOfRange++;
        if (overflow == Overflow.Saturate || double.IsInfinity(r) || Math.Abs(r) >= 9.2e18) return r < min ? min : max;
        // Wrap: keep the low bits, then read them back as a signed (min < 0) or unsigned word.
        ulong mask = bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;
        ulong low = unchecked((ulong)(long)r) & mask;
        if (min < 0 && bits < 64 && (low >> (bits - 1)) != 0) return unchecked((long)(low | ~mask));
        return unchecked((long)low);
    }
}
