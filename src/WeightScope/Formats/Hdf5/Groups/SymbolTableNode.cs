using WeightScope.Formats.Hdf5.Heaps;

namespace WeightScope.Formats.Hdf5.Groups;

/// <summary>Symbol table nodes (specification §III.B, <c>SNOD</c>): the entries of an old-style group.</summary>
internal static class SymbolTableNode
{
    private static ReadOnlySpan<byte> Signature => "SNOD"u8;
    private const int PrefixSize = 8;           // signature, version, reserved, symbol count
    private const int EntryCacheSize = 24;      // cache type, reserved, scratch pad
    private const uint SoftLinkCache = 2;

    /// <summary>The links of the old-style group whose symbol table message names <paramref name="btree"/> and <paramref name="heapAddress"/>.</summary>
    public static List<Link> ReadGroup(Hdf5File file, ulong btree, ulong heapAddress, long at, string path)
    {
        var heap = LocalHeap.Read(file, heapAddress, at, path);
        var links = new List<Link>();
        var visited = new HashSet<ulong>();
        foreach (var node in BTrees.BTreeV1.GroupLeaves(file, btree, at, path, visited))
        {
            var head = file.ReaderAt(node, PrefixSize, "symbol table node", at, path);
            if (!head.ReadBytes(4).SequenceEqual(Signature)) throw Hdf5Errors.Invalid("symbol table node does not start with SNOD", head.Offset - 4, path);
            head.ReadBytes(2);
            int count = head.ReadUInt16();
            int entrySize = 2 * file.OffsetSize + EntryCacheSize;
            var r = file.ReaderAt(node, checked(PrefixSize + (long)count * entrySize), "symbol table node", at, path);
            r.Position = PrefixSize;
            for (int i = 0; i < count; i++)
            {
                long entryAt = r.Offset;
                ulong nameOffset = file.ReadLength(ref r);
                ulong header = file.ReadAddress(ref r);
                uint cacheType = r.ReadUInt32();
                r.ReadBytes(EntryCacheSize - 4);
                string name = heap.String(nameOffset, entryAt, path);
                // A soft link has no object header; its value sits in the scratch pad (cache type 2).
                links.Add(cacheType == SoftLinkCache ? new Link(name, 0, "soft") : new Link(name, header, null));
            }
        }
        return links;
    }
}
