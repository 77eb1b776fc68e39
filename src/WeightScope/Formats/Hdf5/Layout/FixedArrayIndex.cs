using WeightScope.Formats.Hdf5.BTrees;
using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>
/// The fixed array chunk index (specification §VII.B, <c>FAHD</c>/<c>FADB</c>) that libhdf5 1.10+ uses for chunked
/// datasets whose maximum dimensions are fixed: one entry per chunk, in row-major order of the chunk grid.
/// More than 2^page-bits entries are stored in pages after the data block.
/// </summary>
internal static class FixedArrayIndex
{
    private static ReadOnlySpan<byte> HeaderSignature => "FAHD"u8;
    private static ReadOnlySpan<byte> BlockSignature => "FADB"u8;
    private const int FilteredClient = 1;
    private const int PrefixSize = 8; // signature, version, client id, entry size, page bits

    /// <summary>The allocated chunks named by the fixed array at <paramref name="address"/>.</summary>
    public static List<ChunkRecord> Chunks(Hdf5File file, ulong address, long[] dims, long[] chunkDims, long chunkBytes, string path)
    {
        var h = file.ReaderAt(address, PrefixSize + file.LengthSize + file.OffsetSize, "fixed array header", file.BaseAddress, path);
        if (!h.ReadBytes(4).SequenceEqual(HeaderSignature)) throw Hdf5Errors.Invalid("fixed array header does not start with FAHD", h.Offset - 4, path);
        h.ReadByte();
        int client = h.ReadByte();
        int entrySize = h.ReadByte();
        int pageBits = h.ReadByte();
        ulong count = file.ReadLength(ref h);
        ulong block = file.ReadAddress(ref h);
        if (pageBits >= 32) throw Hdf5Errors.Invalid($"fixed array page bits {pageBits}", h.Offset, path);
        if (entrySize < file.OffsetSize) throw Hdf5Errors.Invalid($"fixed array entry size {entrySize}", h.Offset, path);
        if (count > (ulong)file.File.Length) throw Hdf5Errors.Invalid($"fixed array of {count} entries is larger than the file", h.Offset, path);
        ulong pageEntries = 1UL << pageBits;
        bool paged = count > pageEntries;
        // Paged: the data block holds a bitmap of initialised pages and a checksum; the pages (entries + checksum) follow it.
        int bitmapBytes = paged ? checked((int)((count + pageEntries - 1) / pageEntries + 7) / 8) : 0;
        long prefix = checked(PrefixSize - 2 + file.OffsetSize + bitmapBytes);
        long blockBytes = paged ? checked(prefix + 4 + (long)count * entrySize + (long)((count + pageEntries - 1) / pageEntries) * 4)
                                : checked(prefix + (long)count * entrySize);
        var r = file.ReaderAt(block, blockBytes, "fixed array data block", h.Offset, path);
        if (!r.ReadBytes(4).SequenceEqual(BlockSignature)) throw Hdf5Errors.Invalid("fixed array data block does not start with FADB", r.Offset - 4, path);
        r.ReadBytes(2);
        file.ReadAddress(ref r);
        var bitmap = r.ReadBytes(bitmapBytes);
        if (paged) r.ReadUInt32(); // data block checksum
        var grid = new long[dims.Length];
        for (int d = 0; d < dims.Length; d++) grid[d] = Math.Max(1, (dims[d] + chunkDims[d] - 1) / chunkDims[d]);
        var chunks = new List<ChunkRecord>();
        for (ulong i = 0; i < count; i++)
        {
            if (paged && i > 0 && i % pageEntries == 0) r.ReadUInt32(); // checksum closing the previous page
            long entryAt = r.Offset;
            ulong addr = file.ReadAddress(ref r);
            if (paged && !PageInitialised(bitmap, (int)(i / pageEntries))) addr = file.Undefined;
            uint size = (uint)chunkBytes, mask = 0;
            if (client == FilteredClient)
            {
                size = checked((uint)Hdf5File.ReadUnsigned(ref r, entrySize - file.OffsetSize - 4));
                mask = r.ReadUInt32();
            }
            else r.ReadBytes(entrySize - file.OffsetSize);
            if (file.IsUndefined(addr)) continue;
            chunks.Add(new ChunkRecord(size, mask, Offsets((long)i, grid, chunkDims), addr, entryAt));
        }
        return chunks;
    }

    // libhdf5's H5VM_bit_get: most significant bit first.
    private static bool PageInitialised(ReadOnlySpan<byte> bitmap, int page) => (bitmap[page / 8] & (0x80 >> (page % 8))) != 0;

    /// <summary>Element offsets of chunk number <paramref name="linear"/> in row-major order of the chunk grid.</summary>
    public static long[] Offsets(long linear, long[] grid, long[] chunkDims)
    {
        var offsets = new long[grid.Length];
        for (int d = grid.Length - 1; d >= 0; d--)
        {
            offsets[d] = linear % grid[d] * chunkDims[d];
            linear /= grid[d];
        }
        return offsets;
    }
}
