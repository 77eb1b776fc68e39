using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>Storage classes of the data layout message.</summary>
internal enum LayoutClass { Compact = 0, Contiguous = 1, Chunked = 2, Virtual = 3 }

/// <summary>Chunk index types of layout version 4.</summary>
internal enum ChunkIndex { BTreeV1 = 0, SingleChunk = 1, Implicit = 2, FixedArray = 3, ExtensibleArray = 4, BTreeV2 = 5 }

/// <summary>
/// The data layout message (specification §IV.A.2.i), versions 1 to 4. For chunked data, <see cref="ChunkDims"/> has
/// the dataset's rank (the trailing element-size dimension of the message is dropped).
/// </summary>
internal sealed record DataLayout(LayoutClass Class, ulong Address, ulong Size, long CompactOffset, int CompactSize,
    long[] ChunkDims, ChunkIndex Index, ulong SingleChunkFilteredSize, uint SingleChunkFilterMask)
{
    private const int V4SingleChunkFiltered = 0x02;

    /// <summary>Parses the message body.</summary>
    public static DataLayout Read(ref SpanReader r, Hdf5File file, string path)
    {
        long at = r.Offset;
        int version = r.ReadByte();
        if (version is 1 or 2) return ReadV1(ref r, file);
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
                return version == 3 ? ReadChunkedV3(ref r, file) : ReadChunkedV4(ref r, file, at, path);
            default:
                throw Hdf5Errors.Unsupported($"{cls.ToString().ToLowerInvariant()} data layout (class {(int)cls})", at, path);
        }
    }

    private static DataLayout ReadChunkedV3(ref SpanReader r, Hdf5File file)
    {
        int dimensionality = r.ReadByte();
        ulong addr = file.ReadAddress(ref r);
        var dims = new long[Math.Max(dimensionality - 1, 0)];
        for (int i = 0; i < dims.Length; i++) dims[i] = r.ReadUInt32();
        r.ReadUInt32(); // element size
        return new DataLayout(LayoutClass.Chunked, addr, 0, 0, 0, dims, ChunkIndex.BTreeV1, 0, 0);
    }

    private static DataLayout ReadChunkedV4(ref SpanReader r, Hdf5File file, long at, string path)
    {
        int flags = r.ReadByte();
        int dimensionality = r.ReadByte();
        int encoded = r.ReadByte();
        if (encoded is < 1 or > 8) throw Hdf5Errors.Invalid($"chunk dimension size of {encoded} bytes", at, path);
        var dims = new long[Math.Max(dimensionality - 1, 0)];
        for (int i = 0; i < dims.Length; i++) dims[i] = checked((long)Hdf5File.ReadUnsigned(ref r, encoded));
        Hdf5File.ReadUnsigned(ref r, encoded); // element size
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
        return new DataLayout(LayoutClass.Chunked, addr, 0, 0, 0, dims, index, filteredSize, mask);
    }

    private static DataLayout ReadV1(ref SpanReader r, Hdf5File file)
    {
        int dimensionality = r.ReadByte();
        var cls = (LayoutClass)r.ReadByte();
        r.ReadBytes(5);
        ulong addr = cls == LayoutClass.Compact ? 0 : file.ReadAddress(ref r);
        var dims = new long[dimensionality];
        for (int i = 0; i < dimensionality; i++) dims[i] = r.ReadUInt32();
        if (cls == LayoutClass.Chunked)
        {
            r.ReadUInt32(); // element size
            return new DataLayout(cls, addr, 0, 0, 0, dims[..^1], ChunkIndex.BTreeV1, 0, 0);
        }
        if (cls == LayoutClass.Compact)
        {
            int size = checked((int)r.ReadUInt32());
            long off = r.Offset;
            r.ReadBytes(size);
            return new DataLayout(cls, 0, (ulong)size, off, size, [], ChunkIndex.BTreeV1, 0, 0);
        }
        return new DataLayout(cls, addr, ulong.MaxValue, 0, 0, [], ChunkIndex.BTreeV1, 0, 0); // size comes from the dataspace
    }
}
