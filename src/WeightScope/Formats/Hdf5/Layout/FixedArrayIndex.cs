using WeightScope.Formats.Hdf5.BTrees;
using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>
/// The fixed array chunk index (specification §VII.B, <c>FAHD</c>/<c>FADB</c>) that libhdf5 1.10+ uses for chunked
/// datasets whose maximum dimensions are fixed: one entry per chunk, in row-major order of the chunk grid.
/// Paged data blocks (more than 2^page-bits entries) are not read yet.
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
        if (pageBits < 63 && count > (1UL << pageBits)) throw Hdf5Errors.Unsupported("paged fixed array chunk index", h.Offset, path);
        if (entrySize < file.OffsetSize) throw Hdf5Errors.Invalid($"fixed array entry size {entrySize}", h.Offset, path);
        long blockBytes = checked(PrefixSize - 2 + file.OffsetSize + (long)count * entrySize);
        var r = file.ReaderAt(block, blockBytes, "fixed array data block", h.Offset, path);
        if (!r.ReadBytes(4).SequenceEqual(BlockSignature)) throw Hdf5Errors.Invalid("fixed array data block does not start with FADB", r.Offset - 4, path);
        r.ReadBytes(2);
        file.ReadAddress(ref r);
        var grid = new long[dims.Length];
        for (int d = 0; d < dims.Length; d++) grid[d] = Math.Max(1, (dims[d] + chunkDims[d] - 1) / chunkDims[d]);
        var chunks = new List<ChunkRecord>();
        for (ulong i = 0; i < count; i++)
        {
            ulong addr = file.ReadAddress(ref r);
            uint size = (uint)chunkBytes, mask = 0;
            if (client == FilteredClient)
            {
                size = checked((uint)Hdf5File.ReadUnsigned(ref r, entrySize - file.OffsetSize - 4));
                mask = r.ReadUInt32();
            }
            else r.ReadBytes(entrySize - file.OffsetSize);
            if (file.IsUndefined(addr)) continue;
            chunks.Add(new ChunkRecord(size, mask, Offsets((long)i, grid, chunkDims), addr));
        }
        return chunks;
    }

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
