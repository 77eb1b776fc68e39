using System.Buffers.Binary;

namespace WeightScope.Formats.TensorFlow.Table;

/// <summary>
/// The leveldb-style table ("SSTable") layout TensorFlow uses for checkpoint indexes (<c>tensorflow/core/lib/io/format.h</c>):
/// data blocks, a metaindex block, an index block, then a fixed 48-byte footer. Every block is followed by a 5-byte
/// trailer: one compression-type byte and the masked CRC-32C of the block contents plus that byte.
/// </summary>
internal static class TableFormat
{
    /// <summary><c>kTableMagicNumber</c>, stored little-endian in the last 8 bytes of the file.</summary>
    public const ulong Magic = 0xdb4775248b80fb57UL;

    /// <summary><c>Footer::kEncodedLength</c>: two block handles of at most 10 + 10 bytes, zero-padded to 40, then the magic.</summary>
    public const int FooterLength = 2 * BlockHandle.MaxEncodedLength + MagicLength;

    /// <summary>Bytes of the magic number.</summary>
    public const int MagicLength = 8;

    /// <summary><c>kBlockTrailerSize</c>: compression type (1 byte) + masked CRC-32C (4 bytes).</summary>
    public const int BlockTrailerLength = 5;

    /// <summary>Compression type byte <c>kNoCompression</c>.</summary>
    public const byte NoCompression = 0;

    /// <summary>Compression type byte <c>kSnappyCompression</c>.</summary>
    public const byte SnappyCompression = 1;

    /// <summary>True when the last 8 bytes are the table magic (the cheap detection test).</summary>
    public static bool HasMagic(ReadOnlySpan<byte> lastEight) =>
        lastEight.Length == MagicLength && BinaryPrimitives.ReadUInt64LittleEndian(lastEight) == Magic;
}

/// <summary>A pointer to a block (<c>BlockHandle</c>): offset and size of the block contents, without the trailer.</summary>
internal readonly record struct BlockHandle(ulong Offset, ulong Size)
{
    /// <summary>Two varint64s.</summary>
    public const int MaxEncodedLength = 2 * Varint.MaxLength64;

    /// <summary>Decodes a handle at <paramref name="position"/>; false when either varint is malformed.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> data, ref int position, out BlockHandle handle)
    {
        handle = default;
        if (!Varint.TryRead64(data, ref position, out ulong offset) || !Varint.TryRead64(data, ref position, out ulong size)) return false;
        handle = new BlockHandle(offset, size);
        return true;
    }
}

/// <summary>One key/value of a table, with where it was found (the block's file offset, plus the entry's position in
/// the block when the block is stored uncompressed).</summary>
internal sealed record TableEntry(byte[] Key, ReadOnlyMemory<byte> Value, long Offset);
