using WeightScope.Formats.Hdf5.Heaps;
using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.BTrees;

/// <summary>
/// Version 2 B-trees (specification §III.A.2, <c>BTHD</c>/<c>BTIN</c>/<c>BTLF</c>): returns every record of the tree
/// (callers sort as they need). Field widths follow libhdf5's H5B2__hdr_init. Every node is visited once.
/// </summary>
internal static class BTreeV2
{
    private const int NodePrefix = 6;     // signature, version, type
    private const int MetadataPrefix = 10; // prefix + checksum
    private const int MaxDepth = 32;

    /// <summary>All records (raw bytes, <c>record size</c> each) of the tree at <paramref name="address"/>.</summary>
    public static List<byte[]> Records(Hdf5File file, ulong address, long at, string path)
    {
        var h = file.ReaderFrom(address, 64, "v2 B-tree header", at, path);
        if (!h.ReadBytes(4).SequenceEqual("BTHD"u8)) throw Hdf5Errors.Invalid("v2 B-tree header does not start with BTHD", h.Offset - 4, path);
        h.ReadBytes(2);
        uint nodeSize = h.ReadUInt32();
        int recordSize = h.ReadUInt16();
        int depth = h.ReadUInt16();
        h.ReadBytes(2);
        long rootAt = h.Offset;
        ulong root = file.ReadAddress(ref h);
        int rootRecords = h.ReadUInt16();
        if (depth > MaxDepth || recordSize == 0 || nodeSize <= MetadataPrefix || nodeSize > (1u << 24))
            throw Hdf5Errors.Invalid($"v2 B-tree with node size {nodeSize}, record size {recordSize}, depth {depth}", h.Offset, path);
        var records = new List<byte[]>();
        if (file.IsUndefined(root) || rootRecords == 0) return records;
        // Widths of the child pointers' record counts, per level (libhdf5 H5B2__hdr_init).
        long maxLeaf = (nodeSize - MetadataPrefix) / recordSize;
        int maxNrecSize = FractalHeap.LimitEncSize((ulong)maxLeaf);
        var cumMax = new long[depth + 1];
        var cumSize = new int[depth + 1];
        cumMax[0] = maxLeaf;
        for (int d = 1; d <= depth; d++)
        {
            int pointer = file.OffsetSize + maxNrecSize + (d > 1 ? cumSize[d - 1] : 0);
            long maxInt = (nodeSize - (MetadataPrefix + pointer)) / (recordSize + pointer);
            cumMax[d] = checked((maxInt + 1) * cumMax[d - 1] + maxInt);
            cumSize[d] = FractalHeap.LimitEncSize((ulong)cumMax[d]);
        }
        var visited = new HashSet<ulong>();
        Walk(file, root, rootRecords, depth, (int)nodeSize, recordSize, maxNrecSize, cumSize, records, visited, rootAt, path);
        return records;
    }

    // The node's checksum follows its used part (records and child pointers), not the end of the node.
    private static void VerifyChecksum(ref SpanReader r, string path)
    {
        int used = r.Position;
        uint stored = r.ReadUInt32();
        uint actual = Superblock.Lookup3.Hash(r.Data[..used]);
        if (stored != actual)
            throw Hdf5Errors.Invalid($"v2 B-tree node checksum is 0x{stored:x8}, the node hashes to 0x{actual:x8}", r.Offset - 4, path);
    }

    private static void Walk(Hdf5File file, ulong address, int count, int depth, int nodeSize, int recordSize, int nrecSize,
        int[] cumSize, List<byte[]> records, HashSet<ulong> visited, long from, string path)
    {
        // `from` is the file offset of the pointer that led here (the header's root address or a parent's child pointer).
        if (!visited.Add(address)) throw Hdf5Errors.Invalid($"v2 B-tree child pointer leads back to node address {address}, already visited (the tree loops)", from, path);
        var r = file.ReaderAt(address, nodeSize, "v2 B-tree node", from, path);
        var sig = r.ReadBytes(4);
        if (!sig.SequenceEqual(depth == 0 ? "BTLF"u8 : "BTIN"u8)) throw Hdf5Errors.Invalid("v2 B-tree node has the wrong signature", r.Offset - 4, path);
        r.ReadBytes(NodePrefix - 4);
        for (int i = 0; i < count; i++) records.Add(r.ReadBytes(recordSize).ToArray());
        if (depth == 0)
        {
            VerifyChecksum(ref r, path);
            return;
        }
        var children = new List<(ulong, int, long)>();
        for (int i = 0; i <= count; i++)
        {
            long childAt = r.Offset;
            ulong child = file.ReadAddress(ref r);
            int n = checked((int)Hdf5File.ReadUnsigned(ref r, nrecSize));
            if (depth > 1) Hdf5File.ReadUnsigned(ref r, cumSize[depth - 1]);
            children.Add((child, n, childAt));
        }
        VerifyChecksum(ref r, path);
        foreach (var (child, n, childAt) in children) Walk(file, child, n, depth - 1, nodeSize, recordSize, nrecSize, cumSize, records, visited, childAt, path);
    }
}
