using System.Buffers.Binary;

namespace WeightScope.Formats.Hdf5.Filters;

/// <summary>
/// Blosc (filter 32001; the PyTables/hdf5-blosc <c>blosc_filter.c</c>): each chunk is one c-blosc 1.x frame, decoded
/// as <c>blosc_decompress</c> (c-blosc <c>blosc.c</c>) does. The 16-byte header: format version (2), codec format
/// version, flags (bit 0 byte shuffle, bit 1 stored uncompressed, bit 2 bit shuffle, bit 4 blocks not split, bits 5–7
/// the codec: 0 BloscLZ, 1 LZ4/LZ4HC, 2 Snappy, 3 zlib, 4 zstd), type size, then decoded size, block size and frame
/// size (4 bytes LE each). Unless stored uncompressed, the offset of every block follows (4 bytes LE each); a block is
/// one stream, or one per byte of the type when split, each its stored size (4 bytes LE) and the codec's output —
/// or the bytes as they are when the stored size equals the stream's size.
/// </summary>
internal static class Blosc
{
    private const string Name = "blosc (filter 32001)";
    private const int HeaderSize = 16;          // BLOSC_MAX_OVERHEAD
    private const int FormatVersion = 2;        // BLOSC_VERSION_FORMAT (c-blosc 1.x)
    private const int FlagShuffle = 0x01;
    private const int FlagMemcpyed = 0x02;
    private const int FlagBitShuffle = 0x04;
    private const int FlagFuture = 0x08;        // unused by c-blosc 1.x: refused as blosc_decompress refuses it
    private const int FlagDontSplit = 0x10;
    private const int MaxSplits = 16;           // MAX_SPLITS
    private const int MinBufferSize = 128;      // MIN_BUFFERSIZE
    private const int MaxTypeSize = 255;        // BLOSC_MAX_TYPESIZE

    private enum Codec { BloscLz = 0, Lz4 = 1, Snappy = 2, Zlib = 3, Zstd = 4 }

    /// <summary>Decodes one chunk into at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] Decode(byte[] input, int maxBytes, long at, string path)
    {
        if (input.Length < HeaderSize) throw Codecs.Corrupt(Name, "chunk is shorter than the 16-byte blosc header", at, path);
        int version = input[0], flags = input[2], typeSize = input[3];
        int nbytes = BinaryPrimitives.ReadInt32LittleEndian(input.AsSpan(4));
        int blockSize = BinaryPrimitives.ReadInt32LittleEndian(input.AsSpan(8));
        int compressedSize = BinaryPrimitives.ReadInt32LittleEndian(input.AsSpan(12));
        if (nbytes == 0) return [];
        if (version != FormatVersion)
            throw Hdf5Errors.Unsupported($"blosc frame format version {version} (c-blosc 1.x writes {FormatVersion}; blosc2 frames are filter 32026)", at, path);
        if (nbytes < 0 || nbytes > maxBytes) throw Codecs.Corrupt(Name, $"frame declares {nbytes} decoded bytes; the chunk holds {maxBytes}", at, path);
        if (blockSize <= 0 || blockSize > nbytes || typeSize is <= 0 or > MaxTypeSize)
            throw Codecs.Corrupt(Name, $"block size {blockSize} or type size {typeSize} does not fit {nbytes} decoded bytes", at, path);
        if ((flags & FlagFuture) != 0) throw Codecs.Corrupt(Name, $"flags 0x{flags:x2} use a bit c-blosc 1.x does not define", at, path);
        if (compressedSize < HeaderSize || compressedSize > input.Length)
            throw Codecs.Corrupt(Name, $"frame size {compressedSize} does not fit the chunk's {input.Length} bytes", at, path);
        var output = new byte[nbytes];
        int blocks = nbytes / blockSize, leftover = nbytes % blockSize;
        if (leftover > 0) blocks++;
        if ((flags & FlagMemcpyed) != 0)
        {
            if (nbytes + HeaderSize != compressedSize) throw Codecs.Corrupt(Name, $"an uncompressed frame of {nbytes} bytes has frame size {compressedSize}", at, path);
            input.AsSpan(HeaderSize, nbytes).CopyTo(output);
            return output;
        }
        var codec = (Codec)(flags >> 5);
        if (codec is not (Codec.BloscLz or Codec.Lz4 or Codec.Zlib or Codec.Zstd))
            throw Hdf5Errors.Unsupported($"blosc codec {(codec == Codec.Snappy ? "snappy" : $"#{(int)codec}")} (blosc frames with BloscLZ, LZ4, LZ4HC, zlib and zstd are read)", at, path);
        if (blocks > (compressedSize - HeaderSize) / 4) throw Codecs.Corrupt(Name, $"{blocks} block offsets do not fit the frame", at, path);
        var scratch = new byte[blockSize];
        for (int b = 0; b < blocks; b++)
        {
            int start = BinaryPrimitives.ReadInt32LittleEndian(input.AsSpan(HeaderSize + 4 * b));
            bool last = b == blocks - 1 && leftover > 0;
            int size = last ? leftover : blockSize;
            DecodeBlock(input, compressedSize, start, flags, typeSize, size, last, codec, scratch, output.AsSpan(b * blockSize, size), at, path);
        }
        return output;
    }

    // blosc_d: the block's streams decoded one after another, then the shuffle undone.
    private static void DecodeBlock(byte[] input, int compressedSize, int offset, int flags, int typeSize, int size, bool leftoverBlock,
        Codec codec, byte[] scratch, Span<byte> dest, long at, string path)
    {
        bool shuffle = (flags & FlagShuffle) != 0 && typeSize > 1;
        bool bitShuffle = (flags & FlagBitShuffle) != 0 && size >= typeSize;
        bool dontSplit = (flags & FlagDontSplit) != 0;
        int streams = !dontSplit && typeSize <= MaxSplits && size / typeSize >= MinBufferSize && !leftoverBlock ? typeSize : 1;
        int streamSize = size / streams;
        Span<byte> target = shuffle || bitShuffle ? scratch.AsSpan(0, size) : dest;
        int written = 0;
        for (int j = 0; j < streams; j++)
        {
            if (offset < 0 || offset > compressedSize - 4) throw Codecs.Corrupt(Name, $"a stream offset of {offset} lies outside the frame", at, path);
            int stored = BinaryPrimitives.ReadInt32LittleEndian(input.AsSpan(offset));
            offset += 4;
            if (stored < 0 || stored > compressedSize - offset) throw Codecs.Corrupt(Name, $"a stream of {stored} bytes runs past the frame", at, path);
            var src = input.AsSpan(offset, stored);
            var into = target.Slice(written, streamSize);
            if (stored == streamSize) src.CopyTo(into);
            else switch (codec)
            {
                case Codec.BloscLz: BloscLz.Decompress(src, into, at, path); break;
                case Codec.Lz4: Codecs.Lz4Block(src, into, Name, at, path); break;
                case Codec.Zlib: Codecs.Zlib(input, offset, stored, into, Name, at, path); break;
                default: Codecs.ZstdFrame(src, into, Name, at, path); break;
            }
            offset += stored;
            written += streamSize;
        }
        if (written != size) throw Codecs.Corrupt(Name, $"a block of {size} bytes is not whole streams", at, path);
        if (shuffle) Unshuffle(target, dest, typeSize);
        else if (bitShuffle)
        {
            int count = size / typeSize;
            if (count % 8 == 0)
            {
                BitShuffle.Untranspose(target, dest, count, typeSize);
                target[(count * typeSize)..].CopyTo(dest[(count * typeSize)..]);
            }
            else target.CopyTo(dest);
        }
    }

    // unshuffle (shuffle-generic.c): byte planes back into elements; a trailing remainder is left as is.
    private static void Unshuffle(ReadOnlySpan<byte> src, Span<byte> dest, int typeSize)
    {
        int count = src.Length / typeSize;
        for (int b = 0; b < typeSize; b++)
        {
            var plane = src.Slice(b * count, count);
            for (int e = 0; e < count; e++) dest[e * typeSize + b] = plane[e];
        }
        src[(count * typeSize)..].CopyTo(dest[(count * typeSize)..]);
    }
}
