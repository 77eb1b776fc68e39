using System.Buffers.Binary;

namespace WeightScope.IO;

/// <summary>
/// Reads little-endian values from a span, tracking its position so every error can say where it happened.
/// Running past the end throws <see cref="EndOfDataException"/>, which readers translate into their format's error.
/// </summary>
internal ref struct SpanReader
{
    private readonly ReadOnlySpan<byte> _data;

    /// <summary>Creates a reader; <paramref name="baseOffset"/> is the file offset of <paramref name="data"/>[0], for messages.</summary>
    public SpanReader(ReadOnlySpan<byte> data, long baseOffset = 0)
    {
        _data = data;
        BaseOffset = baseOffset;
    }

    /// <summary>File offset of the start of the span.</summary>
    public long BaseOffset { get; }

    /// <summary>Position within the span.</summary>
    public int Position { get; set; }

    /// <summary>Position as a file offset.</summary>
    public readonly long Offset => BaseOffset + Position;

    /// <summary>Bytes left.</summary>
    public readonly int Remaining => _data.Length - Position;

    /// <summary>The whole span.</summary>
    public readonly ReadOnlySpan<byte> Data => _data;

    /// <summary>Takes <paramref name="count"/> bytes.</summary>
    public ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0 || count > Remaining) throw new EndOfDataException(Offset, count, Remaining);
        var s = _data.Slice(Position, count);
        Position += count;
        return s;
    }

    /// <summary>Reads one byte.</summary>
    public byte ReadByte() => ReadBytes(1)[0];

    /// <summary>Reads a little-endian UInt16.</summary>
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2));

    /// <summary>Reads a little-endian Int32.</summary>
    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4));

    /// <summary>Reads a little-endian UInt32.</summary>
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4));

    /// <summary>Reads a little-endian Int64.</summary>
    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(ReadBytes(8));

    /// <summary>Reads a little-endian UInt64.</summary>
    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8));

    /// <summary>Reads a little-endian float64.</summary>
    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(ReadBytes(8));
}

/// <summary>A reader ran past the end of its data. Readers translate this into a <see cref="ModelFormatException"/>.</summary>
internal sealed class EndOfDataException(long offset, int wanted, int available)
    : Exception($"unexpected end of data at offset {offset}: needed {wanted} bytes, {available} left")
{
    /// <summary>Where the read was attempted.</summary>
    public long Offset { get; } = offset;
}
