using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>Storage classes of the data layout message.</summary>
internal enum LayoutClass { Compact = 0, Contiguous = 1, Chunked = 2, Virtual = 3 }

/// <summary>Chunk index types of layout version 4.</summary>
internal enum ChunkIndex { BTreeV1 = 0, SingleChunk = 1, Implicit = 2, FixedArray = 3, ExtensibleArray = 4, BTreeV2 = 5 }

/// <summary>
/// The data layout message (specification §IV.A.2.i), versions 1 to 4. For chunked data, <see cref="ChunkDims"/> has
/// the dataset's rank: the message's last chunk dimension is the element size in bytes, kept as <see cref="ChunkElementSize"/>.
/// </summary>
internal sealed record DataLayout(LayoutClass Class, ulong Address, ulong Size, long CompactOffset, int CompactSize,
    long[] ChunkDims, ChunkIndex Index, ulong SingleChunkFilteredSize, uint SingleChunkFilterMask)
{
    private const int V4SingleChunkFiltered = 0x02;
    private const int V1Reserved = 5;
    private const int MaxDimensionality = 33; // H5O_LAYOUT_NDIMS: HDF5's maximum rank, plus the element-size dimension

    /// <summary>For chunked data, the element size in bytes the message records (its last chunk dimension).</summary>
    public long ChunkElementSize { get; private init; }

    /// <summary>Parses the message body.</summary>
    public static DataLayout Read(ref SpanReader r, Hdf5File file, string path)
    {
        long at = r.Offset;
        int version = r.ReadByte();
        if (version is 1 or 2) return ReadV1(ref r, file, at, path);
        if (version is not (3 or 4)) throw Hdf5Errors.Unsupported($"data layout message version {version}", at, path);
        var cls = (LayoutClass)r.ReadByte();
        switch (cls)
        {
            case LayoutClass.Compact:
                int size = r.ReadUInt16();
                long off = r.Offset;
                r.ReadBytes(size);
                return new DataLayout(cls, 0, (ulong)size, off, size, [], ChunkIndex.BTreeV1, 0, 0);
            case LayoutClass.Contiguous:
                ulong addr = file.ReadAddress(ref r);
                ulong len = file.ReadLength(ref r);
                return new DataLayout(cls, addr, len, 0, 0, [], ChunkIndex.BTreeV1, 0, 0);
            case LayoutClass.Chunked:
                return version == 3 ? ReadChunkedV3(ref r, file, at, path) : ReadChunkedV4(ref r, file, at, path);
            default:
                throw Hdf5Errors.Unsupported($"{cls.ToString().ToLowerInvariant()} data layout (class {(int)cls})", at, path);
        }
    }

    private static DataLayout ReadChunkedV3(ref SpanReader r, Hdf5File file, long at, string path)
    {
        int dimensionality = CheckChunkDimensionality(r.ReadByte(), at, path);
        ulong addr = file.ReadAddress(ref r);
        var dims = new long[dimensionality];
        for (int i = 0; i < dims.Length; i++) dims[i] = r.ReadUInt32();
        return Chunked(addr, dims, ChunkIndex.BTreeV1, 0, 0);
    }

    private static DataLayout ReadChunkedV4(ref SpanReader r, Hdf5File file, long at, string path)
    {
        int flags = r.ReadByte();
        int dimensionality = CheckChunkDimensionality(r.ReadByte(), at, path);
        int encoded = r.ReadByte();
        if (encoded is < 1 or > 8) throw Hdf5Errors.Invalid($"chunk dimension size of {encoded} bytes", at, path);
        var dims = new long[dimensionality];
        for (int i = 0; i < dims.Length; i++) dims[i] = checked((long)Hdf5File.ReadUnsigned(ref r, encoded));
        var index = (ChunkIndex)r.ReadByte();
        ulong filteredSize = 0;
        uint mask = 0;
        switch (index)
        {
            case ChunkIndex.SingleChunk:
                if ((flags & V4SingleChunkFiltered) != 0) { filteredSize = file.ReadLength(ref r); mask = r.ReadUInt32(); }
                break;
            case ChunkIndex.Implicit: break;
            case ChunkIndex.FixedArray: r.ReadByte(); break;
            case ChunkIndex.ExtensibleArray: r.ReadBytes(5); break;
            case ChunkIndex.BTreeV2: r.ReadBytes(6); break;
            default: throw Hdf5Errors.Unsupported($"chunk index type {(int)index}", at, path);
        }
        ulong addr = file.ReadAddress(ref r);
        return Chunked(addr, dims, index, filteredSize, mask);
    }

    // Versions 1 and 2 (libhdf5 1.4 to 1.6.2; PyTables files of that era): dimensionality, class, 5 reserved bytes, an
    // address (not for compact data), then `dimensionality` 4-byte dimensions, then for compact data its size and bytes.
    // libhdf5 writes one dimension more than the dataset's rank for every class, the last being the element size, and
    // reads nothing after the dimensions of a chunked layout (H5O__layout_decode): the specification's "Dataset Element
    // Size" row is that last dimension, not a further field. Contiguous sizes come from the dataspace, as in libhdf5,
    // since these dimensions are 32-bit and may be truncated.
    private static DataLayout ReadV1(ref SpanReader r, Hdf5File file, long at, string path)
    {
        int dimensionality = r.ReadByte();
        var cls = (LayoutClass)r.ReadByte();
        r.ReadBytes(V1Reserved);
        if (dimensionality is 0 or > MaxDimensionality)
            throw Hdf5Errors.Invalid($"data layout dimensionality {dimensionality} is out of range (1 to {MaxDimensionality})", at + 1, path);
        if (cls is not (LayoutClass.Compact or LayoutClass.Contiguous or LayoutClass.Chunked))
            throw Hdf5Errors.Unsupported($"data layout class {(int)cls} in a version 1/2 layout message", at + 2, path);
        ulong addr = cls == LayoutClass.Compact ? 0 : file.ReadAddress(ref r);
        var dims = new long[dimensionality];
        for (int i = 0; i < dimensionality; i++) dims[i] = r.ReadUInt32();
        switch (cls)
        {
            case LayoutClass.Chunked:
                CheckChunkDimensionality(dimensionality, at, path);
                return Chunked(addr, dims, ChunkIndex.BTreeV1, 0, 0);
            case LayoutClass.Compact:
                int size = checked((int)r.ReadUInt32());
                long off = r.Offset;
                r.ReadBytes(size);
                return new DataLayout(cls, 0, (ulong)size, off, size, [], ChunkIndex.BTreeV1, 0, 0);
            default:
                return new DataLayout(cls, addr, ulong.MaxValue, 0, 0, [], ChunkIndex.BTreeV1, 0, 0); // size comes from the dataspace
        }
    }

    // A chunked layout stores the chunk's dimensions and then the element size: at least two values.
    private static int CheckChunkDimensionality(int dimensionality, long at, string path) =>
        dimensionality is >= 2 and <= MaxDimensionality ? dimensionality
            : throw Hdf5Errors.Invalid($"chunked data layout dimensionality {dimensionality} is out of range (2 to {MaxDimensionality}: the chunk's rank plus the element size)", at, path);

    private static DataLayout Chunked(ulong address, long[] dims, ChunkIndex index, ulong filteredSize, uint mask) =>
        new(LayoutClass.Chunked, address, 0, 0, 0, dims[..^1], index, filteredSize, mask) { ChunkElementSize = dims[^1] };
}
