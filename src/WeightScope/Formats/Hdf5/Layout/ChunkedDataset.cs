using WeightScope.Formats.Hdf5.Filters;
using WeightScope.IO;
using WeightScope.Threading;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>
/// A chunked dataset's bytes as its chunks make them, row-major. The chunk index is read and checked once, on the first
/// read. Then either the whole dataset is assembled into the caller's buffer (<see cref="AssembleInto"/>: every chunk
/// decoded, in parallel), or any byte range of it is served by decoding only the chunks that overlap the range, through
/// a small cache of decoded chunks (<see cref="ReadRange"/>: slices and streamed analyses of datasets too large for one
/// array). Chunks never written hold the fill value. Failures are the one exception family, naming the dataset.
/// </summary>
internal sealed class ChunkedDataset(Hdf5File file, DataLayout layout, IReadOnlyList<Filter> filters, long[] dims, long[] maxDims, int itemSize, byte[]? fill, long at, string path)
{
    /// <summary>Chunks decoded per dataset before decoding goes parallel (thread start-up costs more than a few chunks).</summary>
    private const int ParallelThreshold = 4;

    /// <summary>Decoded chunks kept for range reads; at least one chunk is always kept, whatever its size.</summary>
    private const long CacheBytes = 64L << 20;

    private readonly long _byteLength = ByteCount(dims, itemSize);
    private readonly byte[]? _fill = fill?.Length == itemSize ? fill : null;
    private Index? _index;
    private readonly LinkedList<(long Position, byte[] Data)> _cache = new(); // most recently used first
    private readonly Dictionary<long, LinkedListNode<(long Position, byte[] Data)>> _cached = [];
    private long _cachedBytes;
    private byte[]? _fillChunk;

    /// <summary>Size of the dataset in bytes.</summary>
    public long ByteLength => _byteLength;

    // The chunk grid and where each stored chunk is, by its row-major position on the grid.
    private sealed record Index(LocatedChunk[] Chunks, Dictionary<long, int> ByPosition, long ChunkBytes, long[] Grid, bool Complete);

    /// <summary>Writes the whole dataset into <paramref name="output"/> (exactly <see cref="ByteLength"/> bytes).</summary>
    public void AssembleInto(Span<byte> output)
    {
        try { Assemble(output); }
        catch (ModelFormatException e) { e.FilePath ??= file.File.Path; throw; }
        catch (Exception e) when (e is EndOfDataException or OverflowException or ArgumentException) { throw Translate(e); }
    }

    /// <summary>
    /// Copies bytes [<paramref name="offset"/>, +<paramref name="destination"/>.Length) of the dataset (row-major), decoding
    /// only the chunks that overlap them. Safe to call from several threads at once.
    /// </summary>
    public void ReadRange(long offset, Span<byte> destination)
    {
        try { Read(offset, destination); }
        catch (ModelFormatException e) { e.FilePath ??= file.File.Path; throw; }
        catch (Exception e) when (e is EndOfDataException or OverflowException or ArgumentException) { throw Translate(e); }
    }

    private unsafe void Assemble(Span<byte> output)
    {
        var index = GetIndex();
        // Where every chunk of the grid is stored (once), every byte is written by a chunk: no fill pass needed.
        if (!index.Complete) FillValue.Apply(output, _fill);
        int outputLength = output.Length;
        HugePages.Advise(output); // the chunks' rows are copied into it: see IO/HugePages.cs
        fixed (byte* outputPointer = output)
        {
            byte* pointer = outputPointer; // chunks run on pool threads: they see the pinned buffer through a pointer
            var chunks = index.Chunks;
            void DecodeOne(int i) => ChunkAssembler.DecodeInto(file, chunks[i], filters, dims, layout.ChunkDims, itemSize, index.ChunkBytes, new Span<byte>(pointer, outputLength), path);
            // Chunks fill disjoint parts of the output, so they decode independently; inflating dominates a filtered read.
            if (chunks.Length < ParallelThreshold || (filters.Count == 0 && chunks.Length < 64))
                for (int i = 0; i < chunks.Length; i++) DecodeOne(i);
            else OrderedParallel.For(chunks.Length, -1, DecodeOne); // a corrupt chunk: the first in order, the same on every run
        }
    }

    private void Read(long offset, Span<byte> destination)
    {
        if (destination.Length == 0) return;
        var index = GetIndex();
        long first = offset / itemSize, end = (offset + destination.Length + itemSize - 1) / itemSize;
        if (offset % itemSize == 0 && destination.Length % itemSize == 0)
        {
            ReadElements(index, first, end, destination);
            return;
        }
        // A range that splits elements: read the whole elements around it (at most two more than asked).
        var whole = new byte[(end - first) * itemSize];
        ReadElements(index, first, end, whole);
        whole.AsSpan((int)(offset - first * itemSize), destination.Length).CopyTo(destination);
    }

    // Elements [first, end) into `output`: the range is split into boxes of the index space (at most two per
    // dimension), and each box into the chunks it meets; each chunk's part of the box is copied row by row.
    private void ReadElements(Index index, long first, long end, Span<byte> output)
    {
        foreach (var (lo, hi) in Boxes(first, end)) CopyBox(index, lo, hi, first, output);
    }

    private void CopyBox(Index index, long[] lo, long[] hi, long first, Span<byte> output)
    {
        int rank = dims.Length;
        var chunkDims = layout.ChunkDims;
        var cLo = new long[rank];
        var cHi = new long[rank];
        for (int d = 0; d < rank; d++) (cLo[d], cHi[d]) = (lo[d] / chunkDims[d], (hi[d] - 1) / chunkDims[d]);
        var c = (long[])cLo.Clone();
        var rowLo = new long[rank];
        var rowHi = new long[rank];
        while (true)
        {
            long position = 0;
            for (int d = 0; d < rank; d++) position = position * index.Grid[d] + c[d];
            var chunk = Chunk(index, position);
            for (int d = 0; d < rank; d++)
            {
                rowLo[d] = Math.Max(lo[d], c[d] * chunkDims[d]);
                rowHi[d] = Math.Min(hi[d], (c[d] + 1) * chunkDims[d]);
            }
            CopyRegion(chunk, c, rowLo, rowHi, first, output);
            if (!Next(c, cLo, cHi)) break;
        }
    }

    // Copies region [lo, hi) of chunk `c` (decoded bytes `chunk`) into the output, whose first element is `first`.
    private void CopyRegion(byte[] chunk, long[] c, long[] lo, long[] hi, long first, Span<byte> output)
    {
        int rank = dims.Length;
        var chunkDims = layout.ChunkDims;
        long run = (hi[rank - 1] - lo[rank - 1]) * itemSize;
        var i = (long[])lo.Clone();
        while (true)
        {
            long src = 0, dst = 0;
            for (int d = 0; d < rank; d++)
            {
                src = src * chunkDims[d] + (i[d] - c[d] * chunkDims[d]);
                dst = dst * dims[d] + i[d];
            }
            chunk.AsSpan(checked((int)(src * itemSize)), (int)run).CopyTo(output[checked((int)((dst - first) * itemSize))..]);
            // The next row: the odometer over every dimension but the last.
            int k = rank - 2;
            while (k >= 0 && ++i[k] == hi[k]) { i[k] = lo[k]; k--; }
            if (k < 0) return;
        }
    }

    private static bool Next(long[] c, long[] lo, long[] hi)
    {
        for (int d = c.Length - 1; d >= 0; d--)
        {
            if (++c[d] <= hi[d]) return true;
            c[d] = lo[d];
        }
        return false;
    }

    /// <summary>
    /// The flat element range [first, end) of the dataset as index-space boxes [lo, hi): a
    /// leading partial row, whole rows, a trailing partial row, each partial split again one dimension down.
    /// </summary>
    internal List<(long[] Lo, long[] Hi)> Boxes(long first, long end)
    {
        var boxes = new List<(long[], long[])>();
        Split(0, new long[dims.Length], first, end, boxes);
        return boxes;
    }

    private void Split(int dim, long[] prefix, long first, long end, List<(long[], long[])> boxes)
    {
        if (first >= end) return;
        long span = 1; // elements per index of this dimension
        for (int d = dim + 1; d < dims.Length; d++) span *= dims[d];
        long a = first / span, b = end / span;
        if (a == b)
        {
            prefix[dim] = a;
            Split(dim + 1, prefix, first - a * span, end - a * span, boxes);
            return;
        }
        if (first % span != 0)
        {
            prefix[dim] = a;
            Split(dim + 1, (long[])prefix.Clone(), first % span, span, boxes);
            a++;
        }
        if (b > a)
        {
            var lo = new long[dims.Length];
            var hi = new long[dims.Length];
            for (int d = 0; d < dims.Length; d++)
                (lo[d], hi[d]) = d < dim ? (prefix[d], prefix[d] + 1) : d == dim ? (a, b) : (0, dims[d]);
            boxes.Add((lo, hi));
        }
        if (end % span != 0)
        {
            prefix[dim] = b;
            Split(dim + 1, (long[])prefix.Clone(), 0, end % span, boxes);
        }
    }

    // A decoded chunk by its grid position: from the cache, else decoded (outside the lock) and cached; a chunk never
    // written is the fill value.
    private byte[] Chunk(Index index, long position)
    {
        lock (_cache)
        {
            if (_cached.TryGetValue(position, out var hit))
            {
                _cache.Remove(hit);
                _cache.AddFirst(hit);
                return hit.Value.Data;
            }
        }
        if (!index.ByPosition.TryGetValue(position, out int i)) return FillChunk(index.ChunkBytes);
        var data = ChunkAssembler.DecodeChunk(file, index.Chunks[i], filters, index.ChunkBytes, path);
        lock (_cache)
        {
            if (_cached.ContainsKey(position)) return data; // decoded meanwhile by another thread
            _cached[position] = _cache.AddFirst((position, data));
            _cachedBytes += data.Length;
            while (_cachedBytes > CacheBytes && _cache.Count > 1)
            {
                var last = _cache.Last!;
                _cache.RemoveLast();
                _cached.Remove(last.Value.Position);
                _cachedBytes -= last.Value.Data.Length;
            }
        }
        return data;
    }

    private byte[] FillChunk(long chunkBytes) => LazyInitializer.EnsureInitialized(ref _fillChunk, () =>
    {
        var chunk = new byte[chunkBytes];
        FillValue.Apply(chunk, _fill);
        return chunk;
    });

    private Index GetIndex() => LazyInitializer.EnsureInitialized(ref _index, BuildIndex);

    private Index BuildIndex()
    {
        if (_byteLength > file.Limits.MaxDecompressedBytes)
            throw new ReaderLimitException(Hdf5Format.FormatName, nameof(ReaderLimits.MaxDecompressedBytes), _byteLength, file.Limits.MaxDecompressedBytes, at, path);
        if (layout.ChunkDims.Length != dims.Length)
            throw Hdf5Errors.Invalid($"chunk rank {layout.ChunkDims.Length} differs from the dataset's rank {dims.Length}", at, path);
        if (layout.ChunkElementSize != itemSize)
            throw Hdf5Errors.Invalid($"the layout's chunk element size is {layout.ChunkElementSize} bytes, the datatype's {itemSize}", at, path);
        long chunkElements = 1;
        foreach (var c in layout.ChunkDims)
        {
            if (c <= 0) throw Hdf5Errors.Invalid($"chunk dimension of {c}", at, path);
            chunkElements = checked(chunkElements * c);
        }
        long chunkBytes = checked(chunkElements * itemSize);
        if (chunkBytes > int.MaxValue) throw Hdf5Errors.Unsupported($"chunks larger than 2 GB ({chunkBytes} bytes)", at, path);
        var grid = new long[dims.Length];
        long gridChunks = 1;
        for (int d = 0; d < dims.Length; d++) gridChunks = checked(gridChunks * (grid[d] = (dims[d] + layout.ChunkDims[d] - 1) / layout.ChunkDims[d]));
        var chunks = ChunkAssembler.ReadIndex(file, layout, filters, dims, maxDims, chunkBytes, at, path);
        var byPosition = new Dictionary<long, int>(chunks.Length);
        for (int i = 0; i < chunks.Length; i++)
        {
            long position = 0;
            for (int d = 0; d < dims.Length; d++) position = position * grid[d] + chunks[i].Record.Offsets[d] / layout.ChunkDims[d];
            byPosition[position] = i; // a position stored twice: the later record wins, as when the whole dataset is assembled
        }
        return new Index(chunks, byPosition, chunkBytes, grid, byPosition.Count >= gridChunks);
    }

    // Decoding runs when a tensor is read, outside the registry's translation: keep to the one exception family.
    private ModelFormatException Translate(Exception e)
    {
        var translated = e switch
        {
            EndOfDataException end => Hdf5Errors.Invalid($"chunk structure runs past the end of its block: {end.Message}", end.Offset, path),
            OverflowException => Hdf5Errors.Invalid("a chunk size, offset or count is out of range", at, path),
            _ => Hdf5Errors.Invalid($"chunk data is inconsistent: {e.Message}", at, path),
        };
        translated.FilePath = file.File.Path;
        return translated;
    }

    private static long ByteCount(long[] dims, int itemSize)
    {
        long n = itemSize;
        foreach (var d in dims) n = checked(n * d);
        return n;
    }
}
