using WeightScope.Formats.Hdf5.Heaps;
using WeightScope.Formats.Hdf5.Superblock;
using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.ObjectHeader;

/// <summary>
/// The shared object header message table (specification §III.F, <c>SMTB</c>; named by the Shared Message Table
/// message, §IV.A.2.p, in the superblock extension): one index per group of message types, each with the fractal heap
/// that holds the shared messages of those types. Only the heaps are needed to read a shared message, since the
/// message in the object header carries its heap ID; the list or B-tree of each index is not read.
/// </summary>
internal sealed class SharedMessageTable
{
    private static ReadOnlySpan<byte> Signature => "SMTB"u8;
    private const int SignatureSize = 4;
    private const int ChecksumSize = 4;
    private const int TableMessageVersion = 0;
    private const int IndexVersion = 0;
    // Per index: version 1, index type 1, message type flags 2, minimum message size 4, list cutoff 2, B-tree cutoff 2,
    // number of messages 2, then the index address and the heap address (O each).
    private const int IndexFixedBytes = 14;

    private readonly Hdf5File _file;
    private readonly List<(int TypeFlags, ulong Heap)> _indexes;
    private readonly Dictionary<int, FractalHeap> _heaps = [];

    private SharedMessageTable(Hdf5File file, List<(int, ulong)> indexes)
    {
        _file = file;
        _indexes = indexes;
    }

    /// <summary>The file's table, read once; <paramref name="at"/> is the shared message that needs it, for errors.</summary>
    public static SharedMessageTable Get(Hdf5File file, long at, string path) => file.SharedMessages ??= Read(file, at, path);

    /// <summary>The fractal heap of the index that holds messages of <paramref name="type"/>.</summary>
    public FractalHeap HeapFor(int type, long at, string path)
    {
        if (_heaps.TryGetValue(type, out var heap)) return heap;
        // Message type flags: bit n set means the index shares messages of type n (H5O_SHMESG_*_FLAG = 1 << type id);
        // the old fill value message shares the new one's index (libhdf5's H5SM__type_to_flag).
        int bit = type == MessageType.FillValueOld ? MessageType.FillValue : type;
        foreach (var (flags, address) in _indexes)
            if (bit < 16 && (flags & (1 << bit)) != 0)
                return _heaps[type] = FractalHeap.Read(_file, address, at, path);
        throw Hdf5Errors.Invalid($"a shared {MessageType.Name(type)} message names the shared message heap, but no index of the file's shared message table holds {MessageType.Name(type)} messages", at, path);
    }

    private static SharedMessageTable Read(Hdf5File file, long at, string path)
    {
        if (file.SuperblockExtension is not { } extension || file.IsUndefined(extension))
            throw Hdf5Errors.Invalid("a shared message names the shared message heap, but the superblock has no extension (where the shared message table is named)", at, path);
        foreach (var m in ObjectHeaderReader.Read(file, extension, "superblock extension"))
        {
            if (m.Type != MessageType.SharedMessageTable) continue;
            var r = new SpanReader(file.File.Span(m.Offset, m.Length), m.Offset);
            int version = r.ReadByte();
            if (version != TableMessageVersion) throw Hdf5Errors.Unsupported($"shared message table message version {version}", m.Offset, path);
            ulong table = file.ReadAddress(ref r);
            int count = r.ReadByte();
            return new SharedMessageTable(file, ReadIndexes(file, table, count, r.Offset, path));
        }
        throw Hdf5Errors.Invalid("a shared message names the shared message heap, but the superblock extension has no shared message table message", at, path);
    }

    private static List<(int, ulong)> ReadIndexes(Hdf5File file, ulong table, int count, long at, string path)
    {
        long size = SignatureSize + (long)count * (IndexFixedBytes + 2 * file.OffsetSize) + ChecksumSize;
        var r = file.ReaderAt(table, size, "shared message table", at, path);
        if (!r.ReadBytes(SignatureSize).SequenceEqual(Signature)) throw Hdf5Errors.Invalid("shared message table does not start with SMTB", r.Offset - SignatureSize, path);
        uint stored = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(r.Data[^ChecksumSize..]);
        uint actual = Lookup3.Hash(r.Data[..^ChecksumSize]);
        if (stored != actual)
            throw Hdf5Errors.Invalid($"shared message table checksum is 0x{stored:x8}, the table hashes to 0x{actual:x8}", r.BaseOffset + size - ChecksumSize, path);
        var indexes = new List<(int, ulong)>(count);
        for (int i = 0; i < count; i++)
        {
            int version = r.ReadByte();
            if (version != IndexVersion) throw Hdf5Errors.Unsupported($"shared message index version {version}", r.Offset - 1, path);
            r.ReadByte(); // index type: list or v2 B-tree
            int flags = r.ReadUInt16();
            r.ReadBytes(IndexFixedBytes - 4); // minimum message size, list and B-tree cutoffs, message count
            file.ReadAddress(ref r); // the index itself
            indexes.Add((flags, file.ReadAddress(ref r)));
        }
        return indexes;
    }
}
