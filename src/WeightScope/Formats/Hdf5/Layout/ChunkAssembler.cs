using WeightScope.Formats.Hdf5.BTrees;
using WeightScope.Formats.Hdf5.Filters;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>
/// Builds a chunked dataset's bytes in row-major order: each chunk is read, its filters undone, and its part that lies
/// inside the dataset copied into place. Chunks never written keep the fill value (zero, h5py's default).
/// </summary>
internal static class ChunkAssembler
{
    /// <summary>The dataset's bytes.</summary>
    public static byte[] Assemble(Hdf5File file, DataLayout layout, IReadOnlyList<Filter> filters, long[] dims, long[] maxDims, int itemSize, long totalBytes, byte[]? fill, string path)
    {
        long at = file.BaseAddress;
        long chunkElements = 1;
        foreach (var c in layout.ChunkDims)
        {
            if (c <= 0) throw Hdf5Errors.Invalid($"chunk dimension of {c}", at, path);
            chunkElements = checked(chunkElements * c);
        }
        long chunkBytes = checked(chunkElements * itemSize);
        if (chunkBytes > int.MaxValue) throw Hdf5Errors.Unsupported($"chunks larger than 2 GB ({chunkBytes} bytes)", at, path);
        var output = new byte[totalBytes];
        FillValue.Apply(output, fill?.Length == itemSize ? fill : null);
        if (layout.ChunkDims.Length != dims.Length)
            throw Hdf5Errors.Invalid($"chunk rank {layout.ChunkDims.Length} differs from the dataset's rank {dims.Length}", at, path);
        List<ChunkRecord> chunks = layout.Index switch
        {
            ChunkIndex.BTreeV1 => file.IsUndefined(layout.Address) ? [] : BTreeV1.Chunks(file, layout.Address, dims.Length, path),
            ChunkIndex.SingleChunk => file.IsUndefined(layout.Address) ? [] :
                [new ChunkRecord(checked((uint)(filters.Count > 0 ? layout.SingleChunkFilteredSize : (ulong)chunkBytes)), layout.SingleChunkFilterMask, new long[dims.Length], layout.Address)],
            ChunkIndex.FixedArray => file.IsUndefined(layout.Address) ? [] : FixedArrayIndex.Chunks(file, layout.Address, dims, layout.ChunkDims, chunkBytes, path),
            ChunkIndex.ExtensibleArray => file.IsUndefined(layout.Address) ? [] : ExtensibleArrayIndex.Chunks(file, layout.Address, dims, maxDims, layout.ChunkDims, filters.Count > 0, chunkBytes, path),
            ChunkIndex.BTreeV2 => file.IsUndefined(layout.Address) ? [] : BTreeV2Chunks(file, layout.Address, layout.ChunkDims, filters.Count > 0, path),
            ChunkIndex.Implicit => file.IsUndefined(layout.Address) ? [] : Implicit(file, layout.Address, dims, layout.ChunkDims, chunkBytes, path),
            _ => throw Hdf5Errors.Unsupported($"chunk index '{layout.Index}' (layout version 4)", at, path),
        };
        foreach (var record in chunks)
        {
            var chunk = record.Size == uint.MaxValue && filters.Count == 0 ? record with { Size = (uint)chunkBytes } : record;
            long stored = file.Resolve(chunk.Address, chunk.Size, "chunk", at, path);
            var raw = file.File.Span(stored, (int)chunk.Size).ToArray();
            var data = filters.Count == 0 ? raw : FilterDecoder.Decode(raw, filters, chunk.FilterMask, (int)chunkBytes, stored, path);
            if (data.Length < chunkBytes) throw Hdf5Errors.Invalid($"chunk decodes to {data.Length} bytes, expected {chunkBytes}", stored, path);
            for (int d = 0; d < dims.Length; d++)
                if (chunk.Offsets[d] < 0 || chunk.Offsets[d] % layout.ChunkDims[d] != 0 || chunk.Offsets[d] >= Math.Max(dims[d], 1))
                    throw Hdf5Errors.Invalid($"chunk offset {chunk.Offsets[d]} in dimension {d} does not fit dimension {dims[d]} with chunks of {layout.ChunkDims[d]}", stored, path);
            Copy(data, output, dims, layout.ChunkDims, chunk.Offsets, itemSize, 0, 0, 0);
        }
        return output;
    }

    // v2 B-tree index (record types 10 and 11): address, [stored size, filter mask,] scaled chunk coordinates.
    private static List<ChunkRecord> BTreeV2Chunks(Hdf5File file, ulong address, long[] chunkDims, bool filtered, string path)
    {
        var chunks = new List<ChunkRecord>();
        foreach (var record in BTreeV2.Records(file, address, file.BaseAddress, path))
        {
            var r = new IO.SpanReader(record, file.BaseAddress);
            ulong addr = file.ReadAddress(ref r);
            uint size = 0, mask = 0;
            if (filtered)
            {
                int sizeLength = record.Length - file.OffsetSize - 4 - 8 * chunkDims.Length;
                if (sizeLength is < 1 or > 8) throw Hdf5Errors.Invalid($"chunk B-tree record of {record.Length} bytes", file.BaseAddress, path);
                size = checked((uint)Hdf5File.ReadUnsigned(ref r, sizeLength));
                mask = r.ReadUInt32();
            }
            var offsets = new long[chunkDims.Length];
            for (int d = 0; d < offsets.Length; d++) offsets[d] = checked((long)r.ReadUInt64() * chunkDims[d]);
            if (!filtered) size = uint.MaxValue; // unfiltered records carry no size: the chunk size, filled in by Assemble
            chunks.Add(new ChunkRecord(size, mask, offsets, addr));
        }
        return chunks;
    }

    // Implicit index: every chunk allocated, one after another in row-major order of the chunk grid, unfiltered.
    private static List<ChunkRecord> Implicit(Hdf5File file, ulong address, long[] dims, long[] chunkDims, long chunkBytes, string path)
    {
        var grid = new long[dims.Length];
        long n = 1;
        for (int d = 0; d < dims.Length; d++) n = checked(n * (grid[d] = Math.Max(1, (dims[d] + chunkDims[d] - 1) / chunkDims[d])));
        // Every implicit chunk is allocated, so together they must fit in the file.
        if (n > file.File.Length / Math.Max(chunkBytes, 1)) throw Hdf5Errors.Invalid($"{n} implicit chunks of {chunkBytes} bytes do not fit in the file", file.BaseAddress, path);
        var chunks = new List<ChunkRecord>();
        for (long i = 0; i < n; i++)
            chunks.Add(new ChunkRecord((uint)chunkBytes, 0, FixedArrayIndex.Offsets(i, grid, chunkDims), checked(address + (ulong)(i * chunkBytes))));
        return chunks;
    }

    // Copies the part of one chunk inside the dataset, one innermost row at a time.
    private static void Copy(byte[] chunk, byte[] output, long[] dims, long[] chunkDims, long[] offsets, int itemSize, int dim, long chunkIndex, long outIndex)
    {
        long count = Math.Min(chunkDims[dim], dims[dim] - offsets[dim]);
        if (dim == dims.Length - 1)
        {
            long src = (chunkIndex * chunkDims[dim]) * itemSize;
            long dst = (outIndex * dims[dim] + offsets[dim]) * itemSize;
            Array.Copy(chunk, src, output, dst, count * itemSize);
            return;
        }
        for (long i = 0; i < count; i++)
            Copy(chunk, output, dims, chunkDims, offsets, itemSize, dim + 1, chunkIndex * chunkDims[dim] + i, outIndex * dims[dim] + offsets[dim] + i);
    }
}
