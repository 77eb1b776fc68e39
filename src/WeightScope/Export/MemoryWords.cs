using System.Globalization;
using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Export;

/// <summary>Number base of the words in a memory file.</summary>
public enum Radix
{
    /// <summary>Base 16, zero-padded to ⌈width/4⌉ digits.</summary>
    Hex,

    /// <summary>Base 2, zero-padded to width digits.</summary>
    Binary,

    /// <summary>Base 10 (<c>.coe</c> radix 10: the unsigned word; <c>.mif</c> DEC: signed words as signed numbers).</summary>
    Decimal,
}

/// <summary>What the memory-file writers (<see cref="MemFile"/>, <see cref="Coe"/>, <see cref="Mif"/>) share.</summary>
public sealed record MemoryFileOptions
{
    /// <summary>Word width in bits; null uses the tensor's own (<see cref="ExportTensor.WordBits"/>).</summary>
    public int? Width { get; init; }

    /// <summary>Radix of the words.</summary>
    public Radix Radix { get; init; } = Radix.Hex;

    /// <summary>A comment line naming the source (file name), written at the top.</summary>
    public string? Source { get; init; }
}

/// <summary>
/// Integer words as memory contents: two's complement in <c>width</c> bits (a negative value −v is written as 2^width − v,
/// so −1 in 12 bits is <c>fff</c>), zero-padded digits.
/// </summary>
public static class MemoryWords
{
    /// <summary>The words of <paramref name="t"/> and the width to write them in, after checking every word fits.</summary>
    /// <exception cref="ModelWriteException">Float values without words, a width out of 1…64, or a word that does not fit.</exception>
    public static (long[] Words, int Width) Prepare(ExportTensor t, MemoryFileOptions options, string formatName)
    {
        if (t.Words is null)
            throw new ModelWriteException($"{t.Name}: {formatName} files hold integer words and {t.Name} is {t.SourceDType.Name()}; "
                + "quantize it (--fixed Q3.12, --int8, --int16) or write its raw IEEE bits (--float-bits)");
        int width = options.Width ?? t.WordBits;
        if (width is < 1 or > 64) throw new ModelWriteException($"{t.Name}: word width {width} is out of range 1..64");
        for (long i = 0; i < t.Words.LongLength; i++)
            if (!Fits(t.Words[i], width, t.Signed))
                throw new ModelWriteException($"{t.Name}: element {i} = {(t.Signed ? t.Words[i].ToString(CultureInfo.InvariantCulture) : ((ulong)t.Words[i]).ToString(CultureInfo.InvariantCulture))} "
                    + $"does not fit in {width} {(t.Signed ? "signed" : "unsigned")} bits; use a wider --width (at least {NeededBits(t.Words, t.Signed)})");
        return (t.Words, width);
    }

    /// <summary>True when <paramref name="value"/> is representable in <paramref name="width"/> bits.</summary>
    public static bool Fits(long value, int width, bool signed)
    {
        if (width >= 64) return true;
        if (signed) return value >= -(1L << (width - 1)) && value < (1L << (width - 1));
        return unchecked((ulong)value) < (1UL << width);
    }

    /// <summary>The fewest bits holding every word.</summary>
    public static int NeededBits(IEnumerable<long> words, bool signed)
    {
        int bits = 1;
        foreach (var w in words)
            while (bits < 64 && !Fits(w, bits, signed)) bits++;
        return bits;
    }

    /// <summary>The low <paramref name="width"/> bits of <paramref name="value"/> (its two's complement pattern).</summary>
    public static ulong Pattern(long value, int width) => width >= 64 ? unchecked((ulong)value) : unchecked((ulong)value) & ((1UL << width) - 1);

    /// <summary>
    /// One word in <paramref name="radix"/>: hex and binary zero-padded to the width; decimal is the unsigned pattern unless
    /// <paramref name="signedDecimal"/>, which writes the signed value.
    /// </summary>
    public static string Format(long value, int width, Radix radix, bool signedDecimal = false)
    {
        ulong p = Pattern(value, width);
        return radix switch
        {
            Radix.Hex => p.ToString("x", CultureInfo.InvariantCulture).PadLeft((width + 3) / 4, '0'),
            Radix.Binary => Binary(p, width),
            _ => signedDecimal ? value.ToString(CultureInfo.InvariantCulture) : p.ToString(CultureInfo.InvariantCulture),
        };
    }

    private static string Binary(ulong p, int width)
    {
        var chars = new char[width];
        for (int i = 0; i < width; i++) chars[width - 1 - i] = ((p >> i) & 1) != 0 ? '1' : '0';
        return new string(chars);
    }

    /// <summary>One-line description of how the words encode the values, for file comments.</summary>
    public static string Describe(ExportTensor t, int width)
    {
        string how = t.IsStoredQuantization ? $"stored {t.SourceDType.Name()}" + (t.Quantized!.Axis is int sa
                ? $" per channel along axis {sa} (value = (word - zero_point[c]) * scale[c])"
                : $" (value = (word - {t.Quantized.ZeroPoints[0]}) * {t.Quantized.Scales[0].ToString("R", CultureInfo.InvariantCulture)})")
            : t.Quantized is { } q
            ? (q.Format is { } f ? $"fixed point {f} (value = word / 2^{f.FractionBits})"
                : q.Axis is int a ? $"int{q.Bits} per channel along axis {a} (value = (word - zero_point[c]) * scale[c])"
                : $"int{q.Bits} (value = (word - {q.ZeroPoints[0]}) * {q.Scales[0].ToString("R", CultureInfo.InvariantCulture)})")
            : t.IsFloatBits ? $"raw IEEE {t.SourceDType.Name()} bits" : t.SourceDType.Name();
        return $"{t.Name} [{string.Join(", ", t.Shape)}]{(t.Order == ElementOrder.Column ? " column-major" : "")}: {t.Count} words of {width} bits"
            + $" ({(t.Signed ? "two's complement" : "unsigned")}), {how}";
    }
}
