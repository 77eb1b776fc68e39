namespace WeightScope.Formats.TensorFlow.Table;

/// <summary>leveldb's base-128 varints (<c>coding.cc</c>): seven bits a byte, low group first, high bit = more follows.</summary>
internal static class Varint
{
    /// <summary>Longest varint32 encoding.</summary>
    public const int MaxLength32 = 5;

    /// <summary>Longest varint64 encoding.</summary>
    public const int MaxLength64 = 10;

    /// <summary>Reads a varint64 at <paramref name="position"/>; false when it runs past the span or is longer than 10 bytes.</summary>
    public static bool TryRead64(ReadOnlySpan<byte> data, ref int position, out ulong value)
    {
        value = 0;
        for (int shift = 0, i = 0; i < MaxLength64 && position + i < data.Length; i++, shift += 7)
        {
            byte b = data[position + i];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                position += i + 1;
                return true;
            }
        }
        return false;
    }

    /// <summary>Reads a varint32 at <paramref name="position"/>; false when it runs past the span, is longer than 5 bytes
    /// or does not fit 32 bits.</summary>
    public static bool TryRead32(ReadOnlySpan<byte> data, ref int position, out uint value)
    {
        int start = position;
        value = 0;
        if (!TryRead64(data, ref position, out ulong v) || position - start > MaxLength32 || v > uint.MaxValue)
        {
            position = start;
            return false;
        }
        value = (uint)v;
        return true;
    }
}
