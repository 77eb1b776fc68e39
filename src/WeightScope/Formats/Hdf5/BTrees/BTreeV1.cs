using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.BTrees;

/// <summary>A chunk record from a chunk B-tree leaf: stored size, filter mask, element offsets, address.</summary>
/// <remarks><see cref="At"/> is the file offset of the record (or of the index field that implies it), for messages.</remarks>
internal readonly record struct ChunkRecord(uint Size, uint FilterMask, long[] Offsets, ulong Address, long At = -1);

/// <summary>
/// Version 1 B-trees (specification §III.A.1, <c>TREE</c>): node type 0 indexes a group's symbol table nodes, node
/// type 1 a dataset's chunks. Walked left to right; every node is visited once, so a tree that loops is an error.
/// </summary>
internal static class BTreeV1
{
    private static ReadOnlySpan<byte> Signature => "TREE"u8;
    private const int GroupNodes = 0;
    private const int ChunkNodes = 1;
    private const int MaxDepth = 64;

    /// <summary>Addresses of the symbol table nodes of a group, in name order.</summary>
    public static List<ulong> GroupLeaves(Hdf5File file, ulong root, long at, string path, HashSet<ulong> visited)
    {
        var result = new List<ulong>();
        Walk(file, root, GroupNodes, 0, path, visited, 0, at, (ref SpanReader r, int entries, int level) =>
        {
            for (int i = 0; i < entries; i++)
            {
                file.ReadLength(ref r); // key: heap offset of the largest name on the left
                result.Add(file.ReadAddress(ref r));
            }
        });
        return result;
    }

    /// <summary>All chunks of a dataset of rank <paramref name="rank"/>.</summary>
    public static List<ChunkRecord> Chunks(Hdf5File file, ulong root, int rank, long at, string path)
    {
        var result = new List<ChunkRecord>();
        var visited = new HashSet<ulong>();
        Walk(file, root, ChunkNodes, rank, path, visited, 0, at, (ref SpanReader r, int entries, int level) =>
        {
            for (int i = 0; i < entries; i++)
            {
                long recordAt = r.Offset;
                uint size = r.ReadUInt32();
                uint mask = r.ReadUInt32();
                var offsets = new long[rank];
                for (int d = 0; d < rank; d++) offsets[d] = checked((long)r.ReadUInt64());
                r.ReadUInt64(); // element-size dimension, always 0
                result.Add(new ChunkRecord(size, mask, offsets, file.ReadAddress(ref r), recordAt));
            }
        });
        return result;
    }

    private delegate void LeafReader(ref SpanReader r, int entries, int level);

    // `from` is the file offset of the pointer that led here (the parent's child pointer, or the message naming the
    // root), so a loop or a bad address is reported where the bad pointer is stored.
    private static void Walk(Hdf5File file, ulong address, int type, int rank, string path, HashSet<ulong> visited, int depth, long from, LeafReader leaf)
    {
        if (depth > MaxDepth) throw Hdf5Errors.Invalid($"v1 B-tree is deeper than {MaxDepth} levels", from, path);
        if (!visited.Add(address)) throw Hdf5Errors.Invalid($"v1 B-tree child pointer leads back to node address {address}, already visited (the tree loops)", from, path);
        var head = file.ReaderAt(address, 8 + 2L * file.OffsetSize, "v1 B-tree node", from, path);
        if (!head.ReadBytes(4).SequenceEqual(Signature)) throw Hdf5Errors.Invalid("B-tree node does not start with TREE", head.Offset - 4, path);
        int nodeType = head.ReadByte();
        int level = head.ReadByte();
        int entries = head.ReadUInt16();
        if (nodeType != type) throw Hdf5Errors.Invalid($"B-tree node type is {nodeType}, expected {type}", head.Offset - 4, path);
        int keySize = type == GroupNodes ? file.LengthSize : checked(8 + 8 * (rank + 1));
        long bodySize = checked(8 + 2L * file.OffsetSize + (long)entries * (keySize + file.OffsetSize) + keySize);
        var r = file.ReaderAt(address, bodySize, "B-tree node", head.Offset, path);
        r.Position = 8 + 2 * file.OffsetSize;
        if (level == 0)
        {
            leaf(ref r, entries, level);
            return;
        }
        var children = new List<(ulong Address, long At)>(entries);
        for (int i = 0; i < entries; i++)
        {
            r.ReadBytes(keySize);
            long childAt = r.Offset;
            children.Add((file.ReadAddress(ref r), childAt));
        }
        foreach (var (child, childAt) in children) Walk(file, child, type, rank, path, visited, depth + 1, childAt, leaf);
    }
}
