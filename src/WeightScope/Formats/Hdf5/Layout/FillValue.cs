using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>
/// Fill value messages (specification §IV.A.2.e/f): the element value of data never written (unallocated chunks,
/// unallocated contiguous storage). Null when the value is undefined or all zero, which is what a fresh array holds.
/// </summary>
internal static class FillValue
{
    private const int V3Defined = 0x20;

    /// <summary>The fill bytes of a new-style fill value message (type 0x0005), or null.</summary>
    public static byte[]? Read(ref SpanReader r)
    {
        int version = r.ReadByte();
        if (version is 1 or 2)
        {
            r.ReadBytes(2); // allocation time, fill write time
            bool defined = r.ReadByte() != 0;
            if (!defined || (version == 2 && r.Remaining < 4)) return null;
            return Value(ref r);
        }
        if (version == 3)
        {
            int flags = r.ReadByte();
            return (flags & V3Defined) != 0 ? Value(ref r) : null;
        }
        return null;
    }

    /// <summary>The fill bytes of an old fill value message (type 0x0004), or null.</summary>
    public static byte[]? ReadOld(ref SpanReader r) => Value(ref r);

    private static byte[]? Value(ref SpanReader r)
    {
        int size = checked((int)r.ReadUInt32());
        var value = r.ReadBytes(size);
        return value.IndexOfAnyExcept((byte)0) < 0 ? null : value.ToArray();
    }

    /// <summary>Fills <paramref name="output"/> with repeated <paramref name="fill"/> (already sized to one element).</summary>
    public static void Apply(byte[] output, byte[]? fill) => Apply(output.AsSpan(), fill);

    /// <summary>
    /// Fills <paramref name="output"/> with the fill value repeated from its first byte (a last partial element gets the
    /// value's first bytes), or zeros when there is none.
    /// </summary>
    public static void Apply(Span<byte> output, byte[]? fill)
    {
        if (fill is null || fill.Length == 0) { output.Clear(); return; }
        if (output.Length <= fill.Length) { fill.AsSpan(0, output.Length).CopyTo(output); return; }
        // Doubling copies: what is filled so far is a whole number of values, so copying it on keeps the pattern.
        fill.CopyTo(output);
        for (int filled = fill.Length, n; filled < output.Length; filled += n)
        {
            n = Math.Min(filled, output.Length - filled);
            output[..n].CopyTo(output[filled..]);
        }
    }
}
