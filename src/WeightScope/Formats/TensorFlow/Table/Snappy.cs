using System.Buffers.Binary;

namespace WeightScope.Formats.TensorFlow.Table;

/// <summary>
/// A raw (unframed) Snappy decoder written from the format description (google/snappy <c>format_description.txt</c>):
/// a varint preamble with the uncompressed length, then elements whose tag byte's low two bits say literal (00), copy
/// with a 1-byte offset (01), 2-byte offset (10) or 4-byte offset (11). Output never exceeds the declared length, and
/// the declared length is checked against what the input could possibly expand to before anything is allocated.
/// </summary>
internal static class Snappy
{
    private const int TagLiteral = 0b00;
    private const int TagCopy1 = 0b01;
    private const int TagCopy2 = 0b10;
    private const int TagCopy4 = 0b11;

    // Literal lengths up to 60 are stored in the tag's upper six bits (as length - 1); 60..63 say that 1..4 bytes of
    // little-endian length - 1 follow the tag.
    private const int LiteralInlineLimit = 60;

    // The largest expansion any element achieves: a 3-byte copy with a 2-byte offset emits up to 64 bytes. Every output
    // byte therefore costs at least 3/64 input bytes, which bounds a truthful preamble by the input length.
    private const int MaxOutputPerInputByte = 22;

    /// <summary>The length the preamble declares, without decoding; false when the preamble is not a valid varint32.</summary>
    public static bool TryGetUncompressedLength(ReadOnlySpan<byte> input, out uint length)
    {
        int pos = 0;
        return Varint.TryRead32(input, ref pos, out length);
    }

    /// <summary>Decodes <paramref name="input"/>; <paramref name="maxOutput"/> caps the declared length.</summary>
    /// <exception cref="InvalidDataException">The input is not valid Snappy (the message says what and where).</exception>
    public static byte[] Decompress(ReadOnlySpan<byte> input, long maxOutput)
    {
        int pos = 0;
        if (!Varint.TryRead32(input, ref pos, out uint declared))
            throw new InvalidDataException("snappy: the preamble (uncompressed length) is not a valid varint32");
        if (declared > maxOutput)
            throw new InvalidDataException($"snappy: declared uncompressed length {declared} exceeds the limit {maxOutput}");
        if (declared > (long)(input.Length - pos) * MaxOutputPerInputByte)
            throw new InvalidDataException(
                $"snappy: declared uncompressed length {declared} is more than {input.Length - pos} compressed bytes can hold");

        var output = new byte[declared];
        int written = 0;
        while (pos < input.Length)
        {
            int tagOffset = pos;
            byte tag = input[pos++];
            long length;
            long offset = 0;
            switch (tag & 0b11)
            {
                case TagLiteral:
                    length = (tag >> 2) + 1;
                    if (length > LiteralInlineLimit)
                    {
                        int extra = (int)length - LiteralInlineLimit; // 1..4 bytes of length - 1
                        if (input.Length - pos < extra) throw Truncated("literal length", tagOffset);
                        length = 0;
                        for (int i = 0; i < extra; i++) length |= (long)input[pos + i] << (8 * i);
                        length += 1;
                        pos += extra;
                    }
                    if (length > input.Length - pos) throw Truncated($"literal of {length} bytes", tagOffset);
                    if (length > output.Length - written) throw TooLong(declared, tagOffset);
                    input.Slice(pos, (int)length).CopyTo(output.AsSpan(written));
                    pos += (int)length;
                    written += (int)length;
                    continue;
                case TagCopy1:
                    if (input.Length - pos < 1) throw Truncated("copy offset", tagOffset);
                    length = ((tag >> 2) & 0b111) + 4;
                    offset = ((tag >> 5) << 8) | input[pos];
                    pos += 1;
                    break;
                case TagCopy2:
                    if (input.Length - pos < 2) throw Truncated("copy offset", tagOffset);
                    length = (tag >> 2) + 1;
                    offset = BinaryPrimitives.ReadUInt16LittleEndian(input[pos..]);
                    pos += 2;
                    break;
                case TagCopy4:
                default:
                    if (input.Length - pos < 4) throw Truncated("copy offset", tagOffset);
                    length = (tag >> 2) + 1;
                    offset = BinaryPrimitives.ReadUInt32LittleEndian(input[pos..]);
                    pos += 4;
                    break;
            }
            if (offset == 0 || offset > written)
                throw new InvalidDataException($"snappy: copy at input offset {tagOffset} reaches back {offset} bytes but only {written} are decoded");
            if (length > output.Length - written) throw TooLong(declared, tagOffset);
            // Copies may overlap their own output (offset < length repeats a pattern), so byte by byte, forwards.
            int from = written - (int)offset;
            for (int i = 0; i < length; i++) output[written + i] = output[from + i];
            written += (int)length;
        }
        if (written != declared)
            throw new InvalidDataException($"snappy: decoded {written} bytes but the preamble declares {declared}");
        return output;
    }

    private static InvalidDataException Truncated(string what, int offset) =>
        new($"snappy: the {what} of the element at input offset {offset} runs past the end of the input");

    private static InvalidDataException TooLong(uint declared, int offset) =>
        new($"snappy: the element at input offset {offset} writes past the declared uncompressed length {declared}");
}
