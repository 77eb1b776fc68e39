using System.Buffers.Binary;

namespace WeightScope.Formats.Hdf5.Filters;

/// <summary>
/// Bitshuffle (filter 32008, kiyo-masui/bitshuffle <c>bshuf_h5filter.c</c>) and its bit transpose, which blosc reuses.
/// Client data: [0,1] plugin version, [2] element size, [3] block size in elements (0 = default), [4] compression
/// (0 none, 2 LZ4, 3 zstd). Compressed chunks start with the decoded size (8 bytes, big-endian) and the block size in
/// bytes (4 bytes, big-endian); each block is then its stored size (4 bytes, big-endian) and an LZ4 block or zstd frame.
/// Data goes in blocks of the block size (a multiple of 8 elements); the last block is the remainder rounded down to
/// 8 elements, and the elements after it (fewer than 8) are stored as they are.
/// </summary>
internal static class BitShuffle
{
    private const string Name = "bitshuffle (filter 32008)";
    private const int CompressNone = 0;
    private const int CompressLz4 = 2;
    private const int CompressZstd = 3;
    private const int HeaderSize = 12;
    private const int BlockedMultiple = 8;      // BSHUF_BLOCKED_MULT
    private const int TargetBlockBytes = 8192;  // BSHUF_TARGET_BLOCK_SIZE_B
    private const int MinDefaultBlock = 128;    // BSHUF_MIN_RECOMMEND_BLOCK

    /// <summary>Decodes one chunk into at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] Decode(byte[] input, uint[] cd, int maxBytes, long at, string path)
    {
        if (cd.Length < 3) throw Codecs.Corrupt(Name, $"client data has {cd.Length} values, fewer than 3", at, path);
        long elementSize = cd[2];
        if (elementSize == 0 || elementSize > maxBytes) throw Codecs.Corrupt(Name, $"element size {elementSize}", at, path);
        long blockElements = cd.Length > 3 ? cd[3] : 0;
        if (blockElements == 0) blockElements = DefaultBlockSize(elementSize);
        uint compression = cd.Length > 4 ? cd[4] : CompressNone;
        if (compression is not (CompressNone or CompressLz4 or CompressZstd))
            throw Codecs.Corrupt(Name, $"compression {compression} (0 none, 2 LZ4, 3 zstd)", at, path);
        if (compression == CompressNone)
        {
            if (input.Length % elementSize != 0) throw Codecs.Corrupt(Name, $"chunk of {input.Length} bytes is not whole {elementSize}-byte elements", at, path);
            var plain = new byte[input.Length];
            Blocked(input.Length / elementSize, (int)elementSize, blockElements, at, path, (inPos, outPos, bytes, shuffled) =>
            {
                if (shuffled) Untranspose(input.AsSpan((int)inPos, bytes), plain.AsSpan((int)outPos, bytes), bytes / (int)elementSize, (int)elementSize);
                else input.AsSpan((int)inPos, bytes).CopyTo(plain.AsSpan((int)outPos));
                return bytes;
            });
            return plain;
        }
        if (input.Length < HeaderSize) throw Codecs.Corrupt(Name, "chunk is shorter than its 12-byte header", at, path);
        ulong size = BinaryPrimitives.ReadUInt64BigEndian(input);
        if (size > (ulong)maxBytes) throw Codecs.Corrupt(Name, $"chunk declares {size} decoded bytes, more than the chunk's {maxBytes}", at, path);
        if (size % (ulong)elementSize != 0) throw Codecs.Corrupt(Name, $"{size} decoded bytes are not whole {elementSize}-byte elements", at, path);
        blockElements = BinaryPrimitives.ReadUInt32BigEndian(input.AsSpan(8)) / elementSize;
        var output = new byte[size];
        var scratch = new byte[Math.Min((long)size, checked(blockElements * elementSize))];
        string codec = compression == CompressLz4 ? "LZ4" : "zstd";
        Blocked((long)size / elementSize, (int)elementSize, blockElements, at, path, (inPos, outPos, bytes, shuffled) =>
        {
            long pos = HeaderSize + inPos;
            if (!shuffled)
            {
                if (pos + bytes > input.Length) throw Codecs.Corrupt(Name, "the trailing elements run past the chunk", at, path);
                input.AsSpan((int)pos, bytes).CopyTo(output.AsSpan((int)outPos));
                return bytes;
            }
            if (pos + 4 > input.Length) throw Codecs.Corrupt(Name, $"block header at byte {pos} lies past the chunk's {input.Length} bytes", at, path);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(input.AsSpan((int)pos));
            if (stored > input.Length - pos - 4) throw Codecs.Corrupt(Name, $"a {codec} block of {stored} bytes runs past the chunk", at, path);
            var block = input.AsSpan((int)pos + 4, (int)stored);
            var decoded = scratch.AsSpan(0, bytes);
            if (compression == CompressLz4) Codecs.Lz4Block(block, decoded, Name, at, path);
            else Codecs.ZstdFrame(block, decoded, Name, at, path);
            Untranspose(decoded, output.AsSpan((int)outPos, bytes), bytes / (int)elementSize, (int)elementSize);
            return 4 + (int)stored;
        });
        return output;
    }

    // bshuf_default_block_size: about 8 KiB of elements, a multiple of 8, at least 128.
    private static long DefaultBlockSize(long elementSize) =>
        Math.Max(TargetBlockBytes / elementSize / BlockedMultiple * BlockedMultiple, MinDefaultBlock);

    /// <summary>One block: where its stored bytes start, where its decoded bytes go, how many, and whether it was bit-shuffled; returns the stored bytes used.</summary>
    private delegate int BlockDecoder(long inPos, long outPos, int bytes, bool shuffled);

    // bshuf_blocked_wrap_fun: whole blocks, then the remainder rounded down to 8 elements, then the leftover elements.
    private static void Blocked(long elements, int elementSize, long blockElements, long at, string path, BlockDecoder decode)
    {
        if (blockElements <= 0 || blockElements % BlockedMultiple != 0)
            throw Codecs.Corrupt(Name, $"block size of {blockElements} elements is not a positive multiple of {BlockedMultiple}", at, path);
        long inPos = 0, outPos = 0;
        long whole = elements / blockElements;
        for (long b = 0; b < whole; b++)
        {
            int bytes = checked((int)(blockElements * elementSize));
            inPos += decode(inPos, outPos, bytes, true);
            outPos += bytes;
        }
        long last = elements % blockElements;
        last -= last % BlockedMultiple;
        if (last > 0)
        {
            int bytes = checked((int)(last * elementSize));
            inPos += decode(inPos, outPos, bytes, true);
            outPos += bytes;
        }
        int leftover = (int)(elements % BlockedMultiple * elementSize);
        if (leftover > 0) decode(inPos, outPos, leftover, false);
    }

    /// <summary>
    /// Undoes <c>bshuf_trans_bit_elem</c> on <paramref name="count"/> elements (a multiple of 8): the input holds, for
    /// byte j of the element and bit b of that byte, a row of count/8 bytes whose bit e%8 of byte e/8 is that bit of
    /// element e (rows in order j·8+b). Eight rows at a time are transposed back as an 8×8 bit matrix.
    /// </summary>
    public static void Untranspose(ReadOnlySpan<byte> input, Span<byte> output, int count, int elementSize)
    {
        int rowBytes = count / 8;
        for (int j = 0; j < elementSize; j++)
        {
            var rows = input.Slice(j * 8 * rowBytes, 8 * rowBytes);
            for (int b = 0; b < rowBytes; b++)
            {
                // x: byte kk of the 64-bit word = row kk's byte b, i.e. bit kk of byte j of elements b·8 … b·8+7.
                ulong x = 0;
                for (int kk = 0; kk < 8; kk++) x |= (ulong)rows[kk * rowBytes + b] << (8 * kk);
                x = Transpose8x8(x);
                // After the transpose, byte t holds bits 0…7 (from rows 0…7) of element b·8+t.
                for (int t = 0; t < 8; t++) output[(b * 8 + t) * elementSize + j] = (byte)(x >> (8 * t));
            }
        }
    }

    // Transposes an 8×8 bit matrix held as 8 bytes (byte r, bit c) → (byte c, bit r).
    private static ulong Transpose8x8(ulong x)
    {
        ulong t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAUL;
        x ^= t ^ (t << 7);
        t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCUL;
        x ^= t ^ (t << 14);
        t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0UL;
        x ^= t ^ (t << 28);
        return x;
    }
}
