using WeightScope.IO;
using WeightScope.Threading;
using System.Buffers;
using WeightScope.Formats.Hdf5.BTrees;
using WeightScope.Formats.Hdf5.Filters;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>
/// Builds a chunked dataset's bytes in row-major order: each chunk is read, its filters undone, and its part that lies
/// inside the dataset copied into place. Chunks never written keep the fill value (zero, h5py's default).
/// </summary>
internal static class ChunkAssembler
{
    /// <summary>Chunks decoded per dataset before decoding goes parallel (thread start-up costs more than a few chunks).</summary>
    private const int ParallelThreshold = 4;

    /// <summary>
    /// Writes the dataset's bytes into <paramref name="output"/> (exactly the dataset's size). <paramref name="at"/> is the
    /// dataset's object header offset, for messages.
    /// </summary>
    public static unsafe void AssembleInto(Span<byte> output, Hdf5File file, DataLayout layout, IReadOnlyList<Filter> filters, long[] dims, long[] maxDims, int itemSize, byte[]? fill, long at, string path)
    {
        long chunkElements = 1;
        foreach (var c in layout.ChunkDims)
        {
            if (c <= 0) throw Hdf5Errors.Invalid($"chunk dimension of {c}", at, path);
            chunkElements = checked(chunkElements * c);
        }
        long chunkBytes = checked(chunkElements * itemSize);
        if (chunkBytes > int.MaxValue) throw Hdf5Errors.Unsupported($"chunks larger than 2 GB ({chunkBytes} bytes)", at, path);
        if (layout.ChunkDims.Length != dims.Length)
            throw Hdf5Errors.Invalid($"chunk rank {layout.ChunkDims.Length} differs from the dataset's rank {dims.Length}", at, path);
        List<ChunkRecord> chunks = layout.Index switch
        {
            ChunkIndex.BTreeV1 => file.IsUndefined(layout.Address) ? [] : BTreeV1.Chunks(file, layout.Address, dims.Length, at, path),
            ChunkIndex.SingleChunk => file.IsUndefined(layout.Address) ? [] :
                [new ChunkRecord(checked((uint)(filters.Count > 0 ? layout.SingleChunkFilteredSize : (ulong)chunkBytes)), layout.SingleChunkFilterMask, new long[dims.Length], layout.Address, at)],
            ChunkIndex.FixedArray => file.IsUndefined(layout.Address) ? [] : FixedArrayIndex.Chunks(file, layout.Address, dims, layout.ChunkDims, chunkBytes, path),
            ChunkIndex.ExtensibleArray => file.IsUndefined(layout.Address) ? [] : ExtensibleArrayIndex.Chunks(file, layout.Address, dims, maxDims, layout.ChunkDims, filters.Count > 0, chunkBytes, path),
            ChunkIndex.BTreeV2 => file.IsUndefined(layout.Address) ? [] : BTreeV2Chunks(file, layout.Address, layout.ChunkDims, filters.Count > 0, at, path),
            ChunkIndex.Implicit => file.IsUndefined(layout.Address) ? [] : Implicit(file, layout.Address, dims, layout.ChunkDims, chunkBytes, at, path),
            _ => throw Hdf5Errors.Unsupported($"chunk index '{layout.Index}' (layout version 4)", at, path),
        };
        // Every record is checked before any data is decoded: addresses inside the file, offsets on the chunk grid.
        var located = new (ChunkRecord Record, long Stored)[chunks.Count];
        for (int i = 0; i < chunks.Count; i++)
        {
            var chunk = chunks[i].Size == uint.MaxValue && filters.Count == 0 ? chunks[i] with { Size = (uint)chunkBytes } : chunks[i];
            long recordAt = chunk.At >= 0 ? chunk.At : at;
            if (file.IsUndefined(chunk.Address) || chunk.Address > (ulong)file.File.Length || !file.File.Contains(checked(file.BaseAddress + (long)chunk.Address), chunk.Size))
                throw Hdf5Errors.Invalid($"chunk {i} at address {(file.IsUndefined(chunk.Address) ? "undefined" : chunk.Address.ToString())} (+{chunk.Size} bytes) lies outside the file of {file.File.Length} bytes; the file is truncated or its chunk index is corrupt", recordAt, path);
            for (int d = 0; d < dims.Length; d++)
                if (chunk.Offsets[d] < 0 || chunk.Offsets[d] % layout.ChunkDims[d] != 0 || chunk.Offsets[d] >= Math.Max(dims[d], 1))
                    throw Hdf5Errors.Invalid($"chunk offset {chunk.Offsets[d]} in dimension {d} does not fit dimension {dims[d]} with chunks of {layout.ChunkDims[d]}", recordAt, path);
            located[i] = (chunk, file.BaseAddress + (long)chunk.Address);
        }
        // Where every chunk of the grid is stored (once), every byte is written by a chunk: no fill pass needed.
        long gridChunks = 1;
        for (int d = 0; d < dims.Length; d++) gridChunks = checked(gridChunks * ((dims[d] + layout.ChunkDims[d] - 1) / layout.ChunkDims[d]));
        if (located.Length < gridChunks || located.Select(c => string.Join(',', c.Record.Offsets)).Distinct().Count() < gridChunks)
            FillValue.Apply(output, fill?.Length == itemSize ? fill : null);
        int outputLength = output.Length;
        HugePages.Advise(output); // the chunks' rows are copied into it: see IO/HugePages.cs
        fixed (byte* outputPointer = output)
        {
            byte* pointer = outputPointer; // chunks run on pool threads: they see the pinned buffer through a pointer
            void DecodeOne(int i) => DecodeChunk(file, located[i].Record, located[i].Stored, filters, dims, layout.ChunkDims, itemSize, chunkBytes, new Span<byte>(pointer, outputLength), path);
            // Chunks fill disjoint parts of the output, so they decode independently; inflating dominates a filtered read.
            if (located.Length < ParallelThreshold || (filters.Count == 0 && located.Length < 64))
                for (int i = 0; i < located.Length; i++) DecodeOne(i);
            else OrderedParallel.For(located.Length, -1, DecodeOne); // a corrupt chunk: the first in order, the same on every run
        }
    }

    private static void DecodeChunk(Hdf5File file, ChunkRecord chunk, long stored, IReadOnlyList<Filter> filters, long[] dims, long[] chunkDims, int itemSize, long chunkBytes, Span<byte> output, string path)
    {
        if (filters.Count == 0)
        {
            if (chunk.Size < chunkBytes) throw Hdf5Errors.Invalid($"chunk has {chunk.Size} bytes, expected {chunkBytes}", stored, path);
            Copy(file.File.Span(stored, (int)chunkBytes), output, dims, chunkDims, chunk.Offsets, itemSize, 0, 0, 0);
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)chunkBytes);
        // A large stored chunk is read into a pooled buffer first: MappedFile.Read uses a positional read for it, which
        // beats inflating straight out of the mapping (each page faulted in on first touch); small ones decode in place.
        byte[]? storedBytes = chunk.Size >= MappedFile.PositionalReadThreshold ? ArrayPool<byte>.Shared.Rent((int)chunk.Size) : null;
        try
        {
            if (storedBytes is not null) file.File.Read(stored, storedBytes.AsSpan(0, (int)chunk.Size));
            int n = storedBytes is not null
                ? FilterDecoder.DecodeInto(storedBytes, (int)chunk.Size, stored, filters, chunk.FilterMask, buffer, (int)chunkBytes, path)
                : FilterDecoder.DecodeInto(file.File, stored, (int)chunk.Size, filters, chunk.FilterMask, buffer, (int)chunkBytes, path);
            if (n < chunkBytes) throw Hdf5Errors.Invalid($"chunk decodes to {n} bytes, expected {chunkBytes}", stored, path);
            Copy(buffer.AsSpan(0, (int)chunkBytes), output, dims, chunkDims, chunk.Offsets, itemSize, 0, 0, 0);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (storedBytes is not null) ArrayPool<byte>.Shared.Return(storedBytes);
        }
    }

    // v2 B-tree index (record types 10 and 11): address, [stored size, filter mask,] scaled chunk coordinates.
    private static List<ChunkRecord> BTreeV2Chunks(Hdf5File file, ulong address, long[] chunkDims, bool filtered, long at, string path)
    {
        var chunks = new List<ChunkRecord>();
        foreach (var record in BTreeV2.Records(file, address, at, path))
        {
            var r = new IO.SpanReader(record, at);
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
            if (!filtered) size = uint.MaxValue; // unfiltered records carry no size: the chunk size, filled in by Assemble
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
