using WeightScope.Formats.Hdf5.BTrees;
using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>
/// The extensible array chunk index (specification §VII.C, <c>EAHD</c>/<c>EAIB</c>/<c>EASB</c>/<c>EADB</c>), libhdf5's
/// index for chunked datasets with one unlimited dimension. Block geometry follows libhdf5's H5EA__hdr_init; the
/// element number of a chunk is its row-major position in the chunk grid with the unlimited dimension moved first
/// ("swizzled"). Paged data blocks are not read yet.
/// </summary>
internal static class ExtensibleArrayIndex
{
    private const int HeaderFixed = 12; // signature, version, client, element size, five parameters
    private const long MaxChunks = 1L << 24; // the walk visits every grid position; bounds time on hostile dimensions

    /// <summary>The allocated chunks named by the array at <paramref name="address"/>.</summary>
    public static List<ChunkRecord> Chunks(Hdf5File file, ulong address, long[] dims, long[] maxDims, long[] chunkDims, bool filtered, long chunkBytes, string path)
    {
        int unlimitedDim = Math.Max(0, Array.IndexOf(maxDims, -1L));
        long at = file.BaseAddress;
        var h = file.ReaderAt(address, HeaderFixed + 6L * file.LengthSize + file.OffsetSize, "extensible array header", at, path);
        if (!h.ReadBytes(4).SequenceEqual("EAHD"u8)) throw Hdf5Errors.Invalid("extensible array header does not start with EAHD", h.Offset - 4, path);
        h.ReadBytes(2);
        int elementSize = h.ReadByte();
        int maxBits = h.ReadByte();
        int indexElements = h.ReadByte();
        int dataBlockMin = h.ReadByte();
        int superMinPointers = h.ReadByte();
        int pageBits = h.ReadByte();
        for (int i = 0; i < 6; i++) file.ReadLength(ref h);
        ulong indexBlock = file.ReadAddress(ref h);
        if (maxBits is 0 or > 62 || dataBlockMin == 0 || superMinPointers == 0 || (dataBlockMin & (dataBlockMin - 1)) != 0 || (superMinPointers & (superMinPointers - 1)) != 0 || elementSize < file.OffsetSize)
            throw Hdf5Errors.Invalid("extensible array parameters are inconsistent", h.Offset, path);
        int blockOffsetBytes = (maxBits + 7) / 8;
        int superBlocks = 1 + maxBits - Log2(dataBlockMin);
        var ndblks = new long[superBlocks];
        var dblkElements = new long[superBlocks];
        var startIndex = new long[superBlocks];
        var startDblk = new long[superBlocks];
        long idx = 0, dblk = 0;
        for (int u = 0; u < superBlocks; u++)
        {
            ndblks[u] = 1L << (u / 2);
            dblkElements[u] = (1L << ((u + 1) / 2)) * dataBlockMin;
            startIndex[u] = idx;
            startDblk[u] = dblk;
            idx = checked(idx + ndblks[u] * dblkElements[u]);
            dblk += ndblks[u];
        }
        int ibSuperBlocks = 2 * Log2(superMinPointers);
        int ibDataBlocks = 2 * (superMinPointers - 1);
        int ibSuperAddrs = Math.Max(0, superBlocks - ibSuperBlocks);

        // Chunk grid, swizzled: the unlimited dimension first.
        int rank = dims.Length;
        var order = new List<int> { unlimitedDim };
        for (int d = 0; d < rank; d++) if (d != unlimitedDim) order.Add(d);
        // Fixed dimensions count chunks up to their maximum size, as libhdf5's swizzled_max_down_chunks does.
        var grid = order.Select(d => Math.Max(1, ((d == unlimitedDim || maxDims[d] < 0 ? dims[d] : Math.Max(dims[d], maxDims[d])) + chunkDims[d] - 1) / chunkDims[d])).ToArray();
        long total = 1;
        foreach (var g in grid) total = checked(total * g);
        if (total > MaxChunks) throw Hdf5Errors.Unsupported($"extensible array index over {total} chunks (more than {MaxChunks})", h.Offset, path);

        var chunks = new List<ChunkRecord>();
        if (file.IsUndefined(indexBlock)) return chunks;
        long ibSize = checked(4 + 2 + file.OffsetSize + (long)indexElements * elementSize + (long)(ibDataBlocks + ibSuperAddrs) * file.OffsetSize);
        var ib = file.ReaderAt(indexBlock, ibSize, "extensible array index block", h.Offset, path);
        if (!ib.ReadBytes(4).SequenceEqual("EAIB"u8)) throw Hdf5Errors.Invalid("extensible array index block does not start with EAIB", ib.Offset - 4, path);
        ib.Position = 4 + 2 + file.OffsetSize;
        long ibElementsAt = ib.Offset;
        ib.Position += indexElements * elementSize;
        var dataBlockAddrs = new ulong[ibDataBlocks];
        for (int i = 0; i < ibDataBlocks; i++) dataBlockAddrs[i] = file.ReadAddress(ref ib);
        var superAddrs = new ulong[ibSuperAddrs];
        for (int i = 0; i < ibSuperAddrs; i++) superAddrs[i] = file.ReadAddress(ref ib);

        for (long n = 0; n < total; n++)
        {
            long elementAt;
            if (n < indexElements) elementAt = ibElementsAt + n * elementSize;
            else
            {
                long e = n - indexElements;
                int s = Log2((ulong)(e / dataBlockMin + 1));
                if (s >= superBlocks) throw Hdf5Errors.Invalid($"chunk {n} is beyond the extensible array's capacity", h.Offset, path);
                long within = e - startIndex[s];
                long blockNo = within / dblkElements[s];
                ulong blockAddr;
                if (s < ibSuperBlocks) blockAddr = dataBlockAddrs[startDblk[s] + blockNo];
                else
                {
                    ulong sb = superAddrs[s - ibSuperBlocks];
                    if (file.IsUndefined(sb)) continue;
                    if (dblkElements[s] > (1L << pageBits)) throw Hdf5Errors.Unsupported("paged extensible array data blocks", h.Offset, path);
                    var sr = file.ReaderAt(sb, checked(4 + 2 + file.OffsetSize + blockOffsetBytes + (blockNo + 1) * file.OffsetSize), "extensible array secondary block", h.Offset, path);
                    if (!sr.ReadBytes(4).SequenceEqual("EASB"u8)) throw Hdf5Errors.Invalid("extensible array secondary block does not start with EASB", sr.Offset - 4, path);
                    sr.Position = checked((int)(4 + 2 + file.OffsetSize + blockOffsetBytes + blockNo * file.OffsetSize));
                    blockAddr = file.ReadAddress(ref sr);
                }
                if (file.IsUndefined(blockAddr)) continue;
                if (dblkElements[s] > (1L << pageBits)) throw Hdf5Errors.Unsupported("paged extensible array data blocks", h.Offset, path);
                long prefix = 4 + 2 + file.OffsetSize + blockOffsetBytes;
                long inBlock = within % dblkElements[s];
                elementAt = file.Resolve(blockAddr, checked(prefix + (inBlock + 1) * elementSize), "extensible array data block", h.Offset, path) + prefix + inBlock * elementSize;
                if (!file.File.Span(elementAt - prefix - inBlock * elementSize, 4).SequenceEqual("EADB"u8))
                    throw Hdf5Errors.Invalid("extensible array data block does not start with EADB", elementAt, path);
            }
            var r = new SpanReader(file.File.Span(elementAt, elementSize), elementAt);
            ulong addr = file.ReadAddress(ref r);
            uint size = (uint)chunkBytes, mask = 0;
            if (filtered)
            {
                size = checked((uint)Hdf5File.ReadUnsigned(ref r, elementSize - file.OffsetSize - 4));
                mask = r.ReadUInt32();
            }
            if (file.IsUndefined(addr)) continue;
            var swizzled = FixedArrayIndex.Offsets(n, grid, order.Select(d => chunkDims[d]).ToArray());
            var offsets = new long[rank];
            for (int i = 0; i < rank; i++) offsets[order[i]] = swizzled[i];
            bool inside = true;
            for (int d = 0; d < rank; d++) inside &= offsets[d] < Math.Max(dims[d], 1);
            if (!inside) continue; // a chunk of the reserved maximum extent beyond the current one
            chunks.Add(new ChunkRecord(size, mask, offsets, addr, elementAt));
        }
        return chunks;
    }

    private static int Log2(long v) => Log2((ulong)v);

    private static int Log2(ulong v) => v == 0 ? 0 : 63 - System.Numerics.BitOperations.LeadingZeroCount(v);
}
