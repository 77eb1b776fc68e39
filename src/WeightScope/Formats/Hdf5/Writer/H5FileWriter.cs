using System.Buffers.Binary;
using System.Text;
using WeightScope.Writing;

namespace WeightScope.Formats.Hdf5.Writer;

/// <summary>
/// Writes an <see cref="H5Tree"/> as h5py does with its defaults (<c>libver="earliest"</c>): superblock version 0,
/// version 1 object headers, old-style groups (symbol table message → v1 B-tree → symbol table nodes, names in a local
/// heap), contiguous datasets. The whole layout is computed first, so the metadata (all of it small) is written in one
/// piece at the start and then each dataset's bytes are streamed from its tensor, in the order the datasets were
/// added, with no full-file buffer.
/// </summary>
internal static class H5FileWriter
{
    private const int SuperblockSize = 96;
    private const int SymbolTableEntrySize = 40;
    private const int LocalHeapHeaderSize = 32;
    // Superblock v0 defaults libhdf5 writes: group leaf node K = 4 (a symbol table node holds up to 2K = 8 entries),
    // group internal node K = 16 (a B-tree node has up to 2K = 32 children).
    private const int GroupLeafK = 4;
    private const int GroupInternalK = 16;
    private const int SymbolsPerNode = 2 * GroupLeafK;
    private const int ChildrenPerBTreeNode = 2 * GroupInternalK;
    // libhdf5 reads a node's full allocated size whatever its fill, so every node gets it.
    private const int SymbolNodeSize = 8 + SymbolsPerNode * SymbolTableEntrySize;
    private const int BTreeNodeSize = 24 + ChildrenPerBTreeNode * 8 + (ChildrenPerBTreeNode + 1) * 8;
    // libhdf5's H5HL_FREE_NULL: the on-disk end of a local heap's free list.
    private const ulong HeapFreeListEnd = 1;
    private const int CacheTypeNone = 0;
    private const int CacheTypeGroup = 1;
    private const int DataAlignment = 8;

    private sealed class GroupLayout
    {
        public ulong Heap, HeapData;
        public byte[] HeapBytes = [];
        public Dictionary<string, ulong> NameOffsets = new(StringComparer.Ordinal);
        public List<(ulong Address, List<string> Names)> SymbolNodes = [];
        public List<BTreeNode> BTree = [];
        public BTreeNode Root = null!;
    }

    private sealed class BTreeNode
    {
        public ulong Address;
        public int Level;
        public ulong LeftKey;
        public List<(ulong Child, ulong RightKey)> Children = [];
        public ulong Left = H5Messages.Undefined, Right = H5Messages.Undefined;
    }

    private sealed class Plan
    {
        public ulong Next = SuperblockSize;
        public Dictionary<H5Node, ulong> Headers = [];
        public Dictionary<H5Group, GroupLayout> Groups = [];
        public Dictionary<H5Dataset, (ulong Address, ulong Size)> Data = [];

        public ulong Alloc(long size)
        {
            ulong at = Next;
            Next = checked(Next + (ulong)size);
            return at;
        }
    }

    /// <summary>Writes the file; the datasets' bytes follow the metadata in the order they were added to the tree.</summary>
    public static void Write(H5Tree tree, Stream output, IProgress<long>? progress)
    {
        var dataOrder = tree.Datasets;
        var plan = new Plan();
        Place(tree.Root, plan);
        ulong metadataEnd = plan.Next;
        ulong next = Align(metadataEnd);
        foreach (var d in dataOrder)
        {
            ulong size = (ulong)d.Tensor.ByteSize;
            // An empty dataset has no storage: libhdf5 leaves it unallocated (undefined address, size 0).
            if (size == 0) { plan.Data[d] = (H5Messages.Undefined, 0); continue; }
            plan.Data[d] = (next, size);
            next = checked(next + size);
            if (d != dataOrder[^1]) next = Align(next);
        }
        ulong end = Math.Max(next, metadataEnd);

        var meta = new byte[checked((int)metadataEnd)];
        EncodeSuperblock(meta, plan, tree.Root, end);
        Encode(tree.Root, plan, meta);
        output.Write(meta);
        long position = meta.Length, written = 0;
        foreach (var d in dataOrder)
        {
            var (address, size) = plan.Data[d];
            if (size == 0) continue;
            for (; position < (long)address; position++) output.WriteByte(0);
            TensorBytes.WriteTo(d.Tensor, output, progress, ref written);
            position += (long)size;
        }
    }

    private static ulong Align(ulong n) => (n + DataAlignment - 1) & ~(ulong)(DataAlignment - 1);

    private static H5ObjectHeader Header(H5Node node, Plan plan)
    {
        var h = new H5ObjectHeader();
        if (node is H5Group g)
        {
            var layout = plan.Groups.GetValueOrDefault(g);
            h.Add(H5Messages.TypeSymbolTable, H5Messages.SymbolTable(layout?.Root.Address ?? 0, layout?.Heap ?? 0));
        }
        else
        {
            var d = (H5Dataset)node;
            var (address, size) = plan.Data.GetValueOrDefault(d);
            h.Add(H5Messages.TypeDataspace, H5Messages.Dataspace([.. d.Tensor.Shape]))
             .Add(H5Messages.TypeDatatype, H5Datatypes.For(d.Tensor.DType), H5Messages.FlagConstant)
             .Add(H5Messages.TypeFillValue, H5Messages.FillValue(), H5Messages.FlagConstant)
             .Add(H5Messages.TypeDataLayout, H5Messages.ContiguousLayout(address, size));
        }
        foreach (var a in node.Attributes) h.Add(H5Messages.TypeAttribute, H5Messages.Attribute(a));
        return h;
    }

    // Addresses of every metadata structure, depth first: object header, then (for a group) its heap, symbol table
    // nodes and B-tree, then its members. Header sizes do not depend on addresses, so one pass places everything.
    private static void Place(H5Node node, Plan plan)
    {
        plan.Headers[node] = plan.Alloc(Header(node, plan).Size);
        if (node is not H5Group g) return;
        var layout = new GroupLayout();
        plan.Groups[g] = layout;
        var names = g.Children.Keys.ToList();

        // Local heap data: offset 0 is the empty string (the B-tree's first key), then each name, NUL-terminated and
        // padded to 8 bytes, as libhdf5 stores them.
        var heap = new MemoryStream();
        heap.Write(new byte[8]);
        foreach (var name in names)
        {
            layout.NameOffsets[name] = (ulong)heap.Length;
            var bytes = Encoding.UTF8.GetBytes(name);
            heap.Write(bytes);
            heap.Write(new byte[H5Messages.Pad8(bytes.Length + 1) - bytes.Length]);
        }
        layout.HeapBytes = heap.ToArray();
        layout.Heap = plan.Alloc(LocalHeapHeaderSize);
        layout.HeapData = plan.Alloc(layout.HeapBytes.Length);

        for (int i = 0; i < names.Count; i += SymbolsPerNode)
            layout.SymbolNodes.Add((plan.Alloc(SymbolNodeSize), names.GetRange(i, Math.Min(SymbolsPerNode, names.Count - i))));

        // Leaf level: children are the symbol table nodes; key i+1 is the last (largest) name in child i, key 0 the
        // empty string. Upper levels until one node is left: that is the root the symbol table message points to.
        var level = new List<(ulong Child, ulong LeftKey, ulong RightKey)>();
        foreach (var (address, nodeNames) in layout.SymbolNodes)
            level.Add((address, level.Count == 0 ? 0 : level[^1].RightKey, layout.NameOffsets[nodeNames[^1]]));
        int depth = 0;
        while (true)
        {
            var nodes = new List<BTreeNode>();
            for (int i = 0; i < Math.Max(1, level.Count); i += ChildrenPerBTreeNode)
            {
                var n = new BTreeNode { Address = plan.Alloc(BTreeNodeSize), Level = depth, LeftKey = level.Count == 0 ? 0 : level[i].LeftKey };
                foreach (var c in level.Skip(i).Take(ChildrenPerBTreeNode)) n.Children.Add((c.Child, c.RightKey));
                if (nodes.Count > 0) (nodes[^1].Right, n.Left) = (n.Address, nodes[^1].Address);
                nodes.Add(n);
            }
            layout.BTree.AddRange(nodes);
            if (nodes.Count == 1) { layout.Root = nodes[0]; break; }
            level = [.. nodes.Select(n => (n.Address, n.LeftKey, n.Children[^1].RightKey))];
            depth++;
        }

        foreach (var child in g.Children.Values) Place(child, plan);
    }

    private static void Encode(H5Node node, Plan plan, byte[] meta)
    {
        Header(node, plan).Encode(meta.AsSpan((int)plan.Headers[node]));
        if (node is not H5Group g) return;
        var layout = plan.Groups[g];

        var heap = meta.AsSpan((int)layout.Heap);
        "HEAP"u8.CopyTo(heap);
        heap[4] = 0; // version
        BinaryPrimitives.WriteUInt64LittleEndian(heap[8..], (ulong)layout.HeapBytes.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(heap[16..], HeapFreeListEnd);
        BinaryPrimitives.WriteUInt64LittleEndian(heap[24..], layout.HeapData);
        layout.HeapBytes.CopyTo(meta.AsSpan((int)layout.HeapData));

        foreach (var (address, names) in layout.SymbolNodes)
        {
            var s = meta.AsSpan((int)address);
            "SNOD"u8.CopyTo(s);
            s[4] = 1; // version
            BinaryPrimitives.WriteUInt16LittleEndian(s[6..], (ushort)names.Count);
            for (int i = 0; i < names.Count; i++)
                EncodeEntry(s[(8 + i * SymbolTableEntrySize)..], layout.NameOffsets[names[i]], g.Children[names[i]], plan);
        }

        foreach (var n in layout.BTree)
        {
            var b = meta.AsSpan((int)n.Address);
            "TREE"u8.CopyTo(b);
            b[4] = 0; // node type 0: group
            b[5] = (byte)n.Level;
            BinaryPrimitives.WriteUInt16LittleEndian(b[6..], (ushort)n.Children.Count);
            BinaryPrimitives.WriteUInt64LittleEndian(b[8..], n.Left);
            BinaryPrimitives.WriteUInt64LittleEndian(b[16..], n.Right);
            int p = 24;
            BinaryPrimitives.WriteUInt64LittleEndian(b[p..], n.LeftKey);
            p += 8;
            foreach (var (child, rightKey) in n.Children)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(b[p..], child);
                BinaryPrimitives.WriteUInt64LittleEndian(b[(p + 8)..], rightKey);
                p += 16;
            }
        }

        foreach (var child in g.Children.Values) Encode(child, plan, meta);
    }

    // A symbol table entry (§III.C): name offset, object header, and for a group the cached B-tree and heap
    // addresses (cache type 1), which libhdf5 checks against the group's symbol table message.
    private static void EncodeEntry(Span<byte> e, ulong nameOffset, H5Node node, Plan plan)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(e, nameOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(e[8..], plan.Headers[node]);
        if (node is H5Group g)
        {
            var layout = plan.Groups[g];
            BinaryPrimitives.WriteUInt32LittleEndian(e[16..], CacheTypeGroup);
            BinaryPrimitives.WriteUInt64LittleEndian(e[24..], layout.Root.Address);
            BinaryPrimitives.WriteUInt64LittleEndian(e[32..], layout.Heap);
        }
        else BinaryPrimitives.WriteUInt32LittleEndian(e[16..], CacheTypeNone);
    }

    private static void EncodeSuperblock(Span<byte> s, Plan plan, H5Group root, ulong endOfFile)
    {
        ReadOnlySpan<byte> signature = [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1A, (byte)'\n'];
        signature.CopyTo(s);
        // Versions: superblock 0, free-space 0, root symbol table entry 0, reserved, shared header messages 0.
        s[13] = 8; // size of offsets
        s[14] = 8; // size of lengths
        BinaryPrimitives.WriteUInt16LittleEndian(s[16..], GroupLeafK);
        BinaryPrimitives.WriteUInt16LittleEndian(s[18..], GroupInternalK);
        // 20..24: file consistency flags = 0
        BinaryPrimitives.WriteUInt64LittleEndian(s[24..], 0); // base address
        BinaryPrimitives.WriteUInt64LittleEndian(s[32..], H5Messages.Undefined); // free-space info
        BinaryPrimitives.WriteUInt64LittleEndian(s[40..], endOfFile);
        BinaryPrimitives.WriteUInt64LittleEndian(s[48..], H5Messages.Undefined); // driver information block
        EncodeEntry(s[56..], 0, root, plan);
    }
}
