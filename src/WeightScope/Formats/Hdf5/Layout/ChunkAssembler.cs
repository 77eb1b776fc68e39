using WeightScope.IO;
using System.Buffers;
using WeightScope.Formats.Hdf5.BTrees;
using WeightScope.Formats.Hdf5.Filters;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>A checked chunk record and the absolute file offset of its stored bytes.</summary>
internal readonly record struct LocatedChunk(ChunkRecord Record, long Stored);

/// <summary>
/// The chunk-level steps of reading a chunked dataset: reading its chunk index (every index type of layout versions
/// 1 to 4) and checking each record, decoding one chunk (filters undone in reverse order), and copying the part of a
/// chunk that lies inside the dataset into row-major output. <see cref="ChunkedDataset"/> puts them together.
/// </summary>
internal static class ChunkAssembler
{
    /// <summary>Every chunk record of the dataset, each checked: address inside the file, offsets on the chunk grid.</summary>
    public static LocatedChunk[] ReadIndex(Hdf5File file, DataLayout layout, IReadOnlyList<Filter> filters, long[] dims, long[] maxDims, long chunkBytes, long at, string path)
    {
        List<ChunkRecord> chunks = layout.Index switch
        {
            _ when file.IsUndefined(layout.Address) => [],
            ChunkIndex.BTreeV1 => BTreeV1.Chunks(file, layout.Address, dims.Length, at, path),
            ChunkIndex.SingleChunk =>
                [new ChunkRecord(checked((uint)(filters.Count > 0 ? layout.SingleChunkFilteredSize : (ulong)chunkBytes)), layout.SingleChunkFilterMask, new long[dims.Length], layout.Address, at)],
            ChunkIndex.FixedArray => FixedArrayIndex.Chunks(file, layout.Address, dims, layout.ChunkDims, chunkBytes, path),
            ChunkIndex.ExtensibleArray => ExtensibleArrayIndex.Chunks(file, layout.Address, dims, maxDims, layout.ChunkDims, filters.Count > 0, chunkBytes, path),
            ChunkIndex.BTreeV2 => BTreeV2Chunks(file, layout.Address, layout.ChunkDims, filters.Count > 0, at, path),
            ChunkIndex.Implicit => Implicit(file, layout.Address, dims, layout.ChunkDims, chunkBytes, at, path),
            _ => throw Hdf5Errors.Unsupported($"chunk index '{layout.Index}' (layout version 4)", at, path),
        };
        // Every record is checked before any data is decoded: addresses inside the file, offsets on the chunk grid.
        var located = new LocatedChunk[chunks.Count];
        for (int i = 0; i < chunks.Count; i++)
        {
            var chunk = chunks[i].Size == uint.MaxValue && filters.Count == 0 ? chunks[i] with { Size = (uint)chunkBytes } : chunks[i];
            long recordAt = chunk.At >= 0 ? chunk.At : at;
            if (file.IsUndefined(chunk.Address) || chunk.Address > (ulong)file.File.Length || !file.File.Contains(checked(file.BaseAddress + (long)chunk.Address), chunk.Size))
                throw Hdf5Errors.Invalid($"chunk {i} at address {(file.IsUndefined(chunk.Address) ? "undefined" : chunk.Address.ToString())} (+{chunk.Size} bytes) lies outside the file of {file.File.Length} bytes; the file is truncated or its chunk index is corrupt", recordAt, path);
            for (int d = 0; d < dims.Length; d++)
                if (chunk.Offsets[d] < 0 || chunk.Offsets[d] % layout.ChunkDims[d] != 0 || chunk.Offsets[d] >= Math.Max(dims[d], 1))
                    throw Hdf5Errors.Invalid($"chunk offset {chunk.Offsets[d]} in dimension {d} does not fit dimension {dims[d]} with chunks of {layout.ChunkDims[d]}", recordAt, path);
            located[i] = new LocatedChunk(chunk, file.BaseAddress + (long)chunk.Address);
        }
        return located;
    }

    /// <summary>Decodes one chunk and copies its part inside the dataset into <paramref name="output"/> (the whole dataset).</summary>
    public static void DecodeInto(Hdf5File file, LocatedChunk chunk, IReadOnlyList<Filter> filters, long[] dims, long[] chunkDims, int itemSize, long chunkBytes, Span<byte> output, string path)
    {
        if (filters.Count == 0)
        {
            if (chunk.Record.Size < chunkBytes) throw Hdf5Errors.Invalid($"chunk has {chunk.Record.Size} bytes, expected {chunkBytes}", chunk.Stored, path);
            Copy(file.File.Span(chunk.Stored, (int)chunkBytes), output, dims, chunkDims, chunk.Record.Offsets, itemSize, 0, 0, 0);
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)chunkBytes);
        try
        {
            Decode(file, chunk, filters, chunkBytes, buffer, path);
            Copy(buffer.AsSpan(0, (int)chunkBytes), output, dims, chunkDims, chunk.Record.Offsets, itemSize, 0, 0, 0);
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>The chunk's decoded bytes (exactly <paramref name="chunkBytes"/>, the full chunk, edges included) in a new array.</summary>
    public static byte[] DecodeChunk(Hdf5File file, LocatedChunk chunk, IReadOnlyList<Filter> filters, long chunkBytes, string path)
    {
        var data = new byte[chunkBytes];
        if (filters.Count == 0)
        {
            if (chunk.Record.Size < chunkBytes) throw Hdf5Errors.Invalid($"chunk has {chunk.Record.Size} bytes, expected {chunkBytes}", chunk.Stored, path);
            file.File.Read(chunk.Stored, data);
        }
        else Decode(file, chunk, filters, chunkBytes, data, path);
        return data;
    }

    // Undoes the filters into `destination` (at least chunkBytes long).
    private static void Decode(Hdf5File file, LocatedChunk chunk, IReadOnlyList<Filter> filters, long chunkBytes, byte[] destination, string path)
    {
        int size = (int)chunk.Record.Size;
        // A large stored chunk is read into a pooled buffer first: MappedFile.Read uses a positional read for it, which
        // beats inflating straight out of the mapping (each page faulted in on first touch); small ones decode in place.
        byte[]? storedBytes = size >= MappedFile.PositionalReadThreshold ? ArrayPool<byte>.Shared.Rent(size) : null;
        try
        {
            if (storedBytes is not null) file.File.Read(chunk.Stored, storedBytes.AsSpan(0, size));
            int n = storedBytes is not null
                ? FilterDecoder.DecodeInto(storedBytes, size, chunk.Stored, filters, chunk.Record.FilterMask, destination, (int)chunkBytes, path)
                : FilterDecoder.DecodeInto(file.File, chunk.Stored, size, filters, chunk.Record.FilterMask, destination, (int)chunkBytes, path);
            if (n < chunkBytes) throw Hdf5Errors.Invalid($"chunk decodes to {n} bytes, expected {chunkBytes}", chunk.Stored, path);
        }
        finally
        {
            if (storedBytes is not null) ArrayPool<byte>.Shared.Return(storedBytes);
        }
    }

    // v2 B-tree index (record types 10 and 11): address, [stored size, filter mask,] scaled chunk coordinates.
    private static List<ChunkRecord> BTreeV2Chunks(Hdf5File file, ulong address, long[] chunkDims, bool filtered, long at, string path)
    {
        var chunks = new List<ChunkRecord>();
        foreach (var record in BTreeV2.Records(file, address, at, path))
        {
            var r = new SpanReader(record, at);
            ulong addr = file.ReadAddress(ref r);
            uint size = 0, mask = 0;
            if (filtered)
            {
                int sizeLength = record.Length - file.OffsetSize - 4 - 8 * chunkDims.Length;
                if (sizeLength is < 1 or > 8) throw Hdf5Errors.Invalid($"chunk B-tree record of {record.Length} bytes", at, path);
                size = checked((uint)Hdf5File.ReadUnsigned(ref r, sizeLength));
                mask = r.ReadUInt32();
            }
            var offsets = new long[chunkDims.Length];
            for (int d = 0; d < offsets.Length; d++) offsets[d] = checked((long)r.ReadUInt64() * chunkDims[d]);
            if (!filtered) size = uint.MaxValue; // unfiltered records carry no size: the chunk size, filled in by ReadIndex
            chunks.Add(new ChunkRecord(size, mask, offsets, addr));
        }
        return chunks;
    }

    // Implicit index: every chunk allocated, one after another in row-major order of the chunk grid, unfiltered.
    private static List<ChunkRecord> Implicit(Hdf5File file, ulong address, long[] dims, long[] chunkDims, long chunkBytes, long at, string path)
    {
        var grid = new long[dims.Length];
        long n = 1;
        for (int d = 0; d < dims.Length; d++) n = checked(n * (grid[d] = Math.Max(1, (dims[d] + chunkDims[d] - 1) / chunkDims[d])));
        // Every implicit chunk is allocated, so together they must fit in the file.
        if (n > file.File.Length / Math.Max(chunkBytes, 1)) throw Hdf5Errors.Invalid($"{n} implicit chunks of {chunkBytes} bytes do not fit in the file", at, path);
        var chunks = new List<ChunkRecord>();
        for (long i = 0; i < n; i++)
            chunks.Add(new ChunkRecord((uint)chunkBytes, 0, FixedArrayIndex.Offsets(i, grid, chunkDims), checked(address + (ulong)(i * chunkBytes))));
        return chunks;
    }

    // Copies the part of one chunk inside the dataset, one innermost row at a time.
    private static void Copy(ReadOnlySpan<byte> chunk, Span<byte> output, long[] dims, long[] chunkDims, long[] offsets, int itemSize, int dim, long chunkIndex, long outIndex)
    {
        long count = Math.Min(chunkDims[dim], dims[dim] - offsets[dim]);
        if (dim == dims.Length - 1)
        {
            long src = (chunkIndex * chunkDims[dim]) * itemSize;
            long dst = (outIndex * dims[dim] + offsets[dim]) * itemSize;
            chunk.Slice((int)src, (int)(count * itemSize)).CopyTo(output[checked((int)dst)..]);
            return;
        }
        for (long i = 0; i < count; i++)
            Copy(chunk, output, dims, chunkDims, offsets, itemSize, dim + 1, chunkIndex * chunkDims[dim] + i, outIndex * dims[dim] + offsets[dim] + i);
    }
}
