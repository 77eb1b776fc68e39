namespace WeightScope.Formats.Onnx;

/// <summary>
/// The protobuf wire format, read field by field without building messages: what the detectors use to look at a header
/// cheaply, and what <see cref="OnnxRawDataIndex"/> uses to find where each <c>raw_data</c> lies in the mapped file
/// (the generated parser copies bytes fields; their position is what lets tensors refer to the file instead).
/// https://protobuf.dev/programming-guides/encoding/
/// </summary>
internal static class OnnxWire
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int Fixed32 = 5;
    private const int MaxVarintBytes = 10;
    private const int TagTypeBits = 3;
    private const int TagTypeMask = 7;

    /// <summary>One field: its number, wire type, the varint value (for varints) or the payload's extent.</summary>
    public readonly record struct Field(int Number, int WireType, ulong Value, int PayloadStart, int PayloadLength);

    /// <summary>Reads a varint at <paramref name="pos"/>; false when it runs past the data or beyond ten bytes.</summary>
    public static bool TryReadVarint(ReadOnlySpan<byte> data, ref int pos, out ulong value)
    {
        value = 0;
        for (int i = 0; i < MaxVarintBytes; i++)
        {
            if (pos >= data.Length) return false;
            byte b = data[pos++];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80) return true;
        }
        return false;
    }

    /// <summary>
    /// Reads the field at <paramref name="pos"/> and moves past it. Returns false for a malformed tag or a varint that
    /// runs out; a length-delimited payload may run past <paramref name="data"/> (a header is a prefix of the file), in
    /// which case <see cref="Field.PayloadLength"/> is its declared length and <paramref name="pos"/> is beyond the data.
    /// </summary>
    public static bool TryReadField(ReadOnlySpan<byte> data, ref int pos, out Field field)
    {
        field = default;
        if (!TryReadVarint(data, ref pos, out ulong tag)) return false;
        int number = (int)Math.Min(tag >> TagTypeBits, int.MaxValue);
        int wire = (int)(tag & TagTypeMask);
        if (number == 0) return false;
        switch (wire)
        {
            case Varint:
                if (!TryReadVarint(data, ref pos, out ulong v)) return false;
                field = new Field(number, wire, v, pos, 0);
                return true;
            case Fixed64:
            case Fixed32:
                int size = wire == Fixed64 ? sizeof(ulong) : sizeof(uint);
                field = new Field(number, wire, 0, pos, size);
                pos = (int)Math.Min((long)pos + size, int.MaxValue);
                return true;
            case LengthDelimited:
                if (!TryReadVarint(data, ref pos, out ulong len) || len > int.MaxValue) return false;
                field = new Field(number, wire, len, pos, (int)len);
                pos = (int)Math.Min((long)pos + (long)len, int.MaxValue);
                return true;
            default: // groups (3, 4) are not used by onnx.proto
                return false;
        }
    }
}
