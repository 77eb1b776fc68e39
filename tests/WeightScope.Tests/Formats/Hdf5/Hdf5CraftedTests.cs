using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.Json;
using WeightScope.Formats.Hdf5.BTrees;
using WeightScope.Formats.Hdf5.Heaps;
using WeightScope.Formats.Hdf5.Layout;
using WeightScope.Formats.Hdf5.ObjectHeader;
using WeightScope.Formats.Hdf5.Superblock;
using Xunit;

namespace WeightScope.Tests.Formats.Hdf5;

/// <summary>
/// Damaged and hand-made HDF5 bytes: each gives a ModelFormatException of format "hdf5" with an offset, and (past the
/// superblock) the path of the object it concerns, within a bounded time. Structures are found by parsing the h5py-written
/// fixtures with <see cref="Hdf5Navigator"/> (object header → message → the structure it names), then patched.
/// </summary>
public class Hdf5CraftedTests
{
    private static readonly byte[] Signature = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
    private const int V0RootHeaderAddressOffset = 64; // signature 8, fixed fields 16, four addresses, link name offset
    private const int V0SuperblockSize = 96;          // ... + object header address + 24-byte cache of the root entry

    private static byte[] Fixture(string name) => File.ReadAllBytes(TestPaths.Fixture("hdf5", name));

    private static T Fails<T>(byte[] bytes) where T : ModelFormatException
    {
        var e = Assert.Throws<T>(() =>
        {
            using var m = ModelFile.Open(new MemoryStream(bytes));
            foreach (var t in m.Tensors) t.ReadBytes();
        });
        Assert.Equal("hdf5", e.Format);
        Assert.NotNull(e.Offset);
        return e;
    }

    [Fact]
    public void Truncated_superblock()
    {
        var e = Fails<InvalidModelContentException>(Fixture("mixed_earliest.h5")[..40]);
        Assert.Contains("end", e.Detail);
    }

    [Fact]
    public void Root_object_header_beyond_the_file()
    {
        var b = Fixture("mixed_earliest.h5");
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(V0RootHeaderAddressOffset), (ulong)b.Length + 1000);
        var e = Fails<InvalidModelContentException>(b);
        Assert.Contains("outside the file", e.Detail);
    }

    [Fact]
    public void Superblock_v3_checksum_mismatch()
    {
        var b = Fixture("mixed_latest.h5");
        Assert.Equal(3, b[8]);
        b[12] ^= 0x40; // base address
        var e = Fails<InvalidModelContentException>(b);
        Assert.Contains("checksum", e.Detail);
    }

    [Fact]
    public void Continuation_that_loops_back()
    {
        // A version 0 superblock whose root object header (v1) holds one continuation message naming its own block.
        const int header = V0SuperblockSize, block = header + 16, blockSize = 24;
        var b = new byte[block + blockSize];
        Signature.CopyTo(b, 0);
        b[13] = 8; b[14] = 8; // sizes of offsets and lengths
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(40), (ulong)b.Length); // end of file
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(48), ulong.MaxValue); // no driver block
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(32), ulong.MaxValue); // no free space
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(V0RootHeaderAddressOffset), header);
        b[header] = 1; // object header version
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(header + 2), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(header + 4), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(header + 8), blockSize);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(block), 0x10); // continuation
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(block + 2), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(block + 8), block);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(block + 16), blockSize);
        var e = Fails<InvalidModelContentException>(b);
        Assert.Contains("loops", e.Detail);
    }

    [Fact]
    public void Signature_after_a_user_block_is_found()
    {
        var original = Fixture("mixed_latest.h5");
        var b = new byte[512 + original.Length];
        original.CopyTo(b, 512);
        // Stored addresses are relative to the base address, which libhdf5 records as the superblock's position: a
        // copy shifted by 512 without rewriting it still resolves, since the base is taken as the signature position.
        using var m = ModelFile.Open(new MemoryStream(b));
        Assert.Equal("hdf5", m.Format.Name);
        Assert.Contains(m.Tensors, t => t.Name == "model_weights/dense/dense/kernel:0");
    }

    // ---- Layouts of the structures patched below (specification section in brackets); O = size of offsets, L = lengths.
    private const int V1BTreePrefix = 8;          // [III.A.1] "TREE", node type, node level, entries used (2)
    private const int V1BTreeLevel = 5;           //           node level byte
    private const int SnodPrefix = 8;             // [III.B]   "SNOD", version, reserved, number of symbols (2)
    private const int LocalHeapSizes = 8;         // [III.D]   "HEAP", version, reserved 3; then data size L, free list L, data address O
    private const int GlobalHeapSizeField = 8;    // [III.E]   "GCOL", version, reserved 3; then collection size L
    private const int VlenLengthField = 4;        // [III.E]   a variable-length element: length 4, collection address O, index 4
    private const int BthdRootField = 16;         // [III.A.2] "BTHD", version, type, node size 4, record size 2, depth 2, split, merge; root O
    private const int BthdDepthField = 12;
    private const int V2NodePrefix = 6;           // [III.A.2] "BTIN"/"BTLF", version, type; then records
    private const int V2NodeMetadata = 10;        //           prefix + checksum: what node size leaves for records
    private const int DataspaceV1Dims = 8;        // [IV.A.2.b] version 1: version, rank, flags, reserved 5; then dims L each
    private const int DataspaceV2Dims = 4;        //            version 2: version, rank, flags, type
    private const int FrhpFixedPrefix = 14;       // [III.G]   "FRHP", version, ID length 2, filter length 2, flags, max managed 4

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    // Opens the bytes and reads every tensor on a worker, so a hang fails the test instead of stalling the run.
    private static T FailsWithin<T>(byte[] bytes) where T : ModelFormatException
    {
        var watch = Stopwatch.StartNew();
        long allocated = 0; // on the worker thread only: other tests run in parallel in this process
        var task = Task.Run(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var m = ModelFile.Open(new MemoryStream(bytes));
                foreach (var t in m.Tensors) Read(t);
            }
            finally { allocated = GC.GetAllocatedBytesForCurrentThread() - before; }
        });
        try { Assert.True(task.Wait(Bound), $"did not finish within {Bound}"); }
        catch (AggregateException) { } // the expected failure, examined below
        var e = Assert.IsType<T>(Assert.Single(Assert.IsType<AggregateException>(task.Exception).InnerExceptions), exactMatch: false);
        Assert.Equal("hdf5", e.Format);
        Assert.NotNull(e.Offset);
        Assert.True(allocated < 256L << 20, $"a bad size must not drive a large allocation ({allocated} bytes)");
        Assert.True(watch.Elapsed < Bound);
        return e;
    }

    // Every value of a tensor that fits one array; the first element of one that does not (reading it all would take
    // longer than any test should, and its values are reached the same way).
    private static void Read(WeightScope.Tensors.TensorEntry t)
    {
        if (t.ByteSize <= 1 << 30) t.ReadBytes();
        else t.Reshape(-1).Slice("[0:1]").ReadBytes();
    }

    private static void WriteOffset(byte[] b, long at, int size, ulong value)
    {
        if (size == 8) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan((int)at), value);
        else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)at), (uint)value);
    }

    private static ulong ReadOffset(byte[] b, long at, int size) =>
        size == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan((int)at)) : BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)at));

    [Theory]
    [InlineData("cycle_earliest.h5")]
    [InlineData("cycle_latest.h5")]
    public async Task Hard_links_to_ancestors_list_each_object_once(string file)
    {
        // h5py wrote f['a/back'] = f['/'] and f['a/b/up'] = f['a']: visititems terminates and visits each object once.
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("hdf5", "expected.json")));
        var names = doc.RootElement.GetProperty(file).GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList();
        var listed = await Task.Run(() =>
        {
            using var m = ModelFile.Open(TestPaths.Fixture("hdf5", file));
            return m.Tensors.Select(t => t.Name).ToList();
        }).WaitAsync(Bound); // a walk that follows the cycle would not come back
        Assert.Equal(names, listed);
        Assert.NotEmpty(names);
    }

    [Fact]
    public void V1_btree_child_pointer_that_loops_to_its_own_node()
    {
        // wide_earliest.h5: group "wide" has 200 links, so its symbol-table B-tree has an internal node (level 1).
        var b = Fixture("wide_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        int o = nav.File.OffsetSize, l = nav.File.LengthSize;
        ulong node = nav.Object("wide").SymbolTable!.Value.BTree;
        long at = nav.Abs(node);
        Assert.Equal("TREE"u8.ToArray(), b[(int)at..(int)(at + 4)]);
        Assert.True(b[at + V1BTreeLevel] >= 1, "the fixture's group B-tree should have an internal root");
        long child0 = at + V1BTreePrefix + 2L * o + l; // siblings, then key 0 (a heap offset, L bytes), then child 0
        WriteOffset(b, child0, o, node);
        var e = FailsWithin<InvalidModelContentException>(b);
        Assert.Contains("loops", e.Detail);
        Assert.Equal("wide", e.Entry);
        Assert.Equal(child0, e.Offset);
    }

    [Fact]
    public void V2_btree_child_pointer_that_loops_to_its_own_node()
    {
        // wide_latest.h5: group "wide" keeps 200 links densely; the name index is a v2 B-tree of depth 1 (a BTIN root).
        var b = Fixture("wide_latest.h5");
        using var nav = new Hdf5Navigator(b);
        int o = nav.File.OffsetSize;
        long header = nav.Abs(nav.Object("wide").DenseLinks!.Value.NameIndex);
        Assert.Equal("BTHD"u8.ToArray(), b[(int)header..(int)(header + 4)]);
        uint nodeSize = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)header + 6));
        int recordSize = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)header + 10));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)header + BthdDepthField)));
        ulong root = ReadOffset(b, header + BthdRootField, o);
        int rootRecords = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)header + BthdRootField + o));
        long node = nav.Abs(root);
        Assert.Equal("BTIN"u8.ToArray(), b[(int)node..(int)(node + 4)]);
        // Child pointers follow the records: address O, record count (as few bytes as the most a leaf holds).
        int nrecSize = FractalHeap.LimitEncSize((nodeSize - V2NodeMetadata) / (ulong)recordSize);
        long child0 = node + V2NodePrefix + (long)rootRecords * recordSize;
        WriteOffset(b, child0, o, root);
        // Re-seal the node so the loop, not the checksum, is what the reader meets (libhdf5 would accept the node).
        int used = V2NodePrefix + rootRecords * recordSize + (rootRecords + 1) * (o + nrecSize);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)node + used), Lookup3.Hash(b.AsSpan((int)node, used)));
        var e = FailsWithin<InvalidModelContentException>(b);
        Assert.Contains("loops", e.Detail);
        Assert.Equal("wide", e.Entry);
        Assert.Equal(child0, e.Offset);
    }

    [Fact]
    public void Chunk_address_beyond_the_end_of_the_file_fails_when_that_tensor_is_read()
    {
        // mixed_earliest.h5: "chunked/partial_fill" indexes its one written chunk with a v1 B-tree (node type 1); point
        // that chunk past the end of the file.
        const string path = "chunked/partial_fill";
        var b = Fixture("mixed_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        int o = nav.File.OffsetSize;
        var plain = nav.Object(path);
        long node = nav.Abs(plain.Layout!.Address);
        Assert.Equal("TREE"u8.ToArray(), b[(int)node..(int)(node + 4)]);
        Assert.Equal(0, b[node + V1BTreeLevel]);
        int rank = plain.Space!.Dims.Length;
        long record0 = node + V1BTreePrefix + 2L * o;              // key 0: chunk size 4, filter mask 4, offsets 8 × (rank + 1)
        long child0 = record0 + 8 + 8L * (rank + 1);
        WriteOffset(b, child0, o, (ulong)b.Length + 4096);
        using (var m = ModelFile.Open(new MemoryStream(b)))     // listing reads no chunk
            Assert.Contains(m.Tensors, t => t.Name == path);
        var e = FailsWithin<InvalidModelContentException>(b);
        Assert.Contains("outside the file", e.Detail);
        Assert.Equal(path, e.Entry);
        Assert.Equal(record0, e.Offset);
    }

    [Fact]
    public void Local_heap_data_segment_outside_the_file()
    {
        // mixed_earliest.h5: group "model_weights" is an old-style group; its local heap holds the link names.
        var b = Fixture("mixed_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        int o = nav.File.OffsetSize, l = nav.File.LengthSize;
        long heap = nav.Abs(nav.Object("model_weights").SymbolTable!.Value.Heap);
        Assert.Equal("HEAP"u8.ToArray(), b[(int)heap..(int)(heap + 4)]);
        WriteOffset(b, heap + LocalHeapSizes + 2L * l, o, (ulong)b.Length * 2);
        var e = FailsWithin<InvalidModelContentException>(b);
        Assert.Contains("local heap data segment", e.Detail);
        Assert.Contains("outside the file", e.Detail);
        Assert.Equal("model_weights", e.Entry);
        Assert.InRange(e.Offset!.Value, heap, heap + LocalHeapSizes + 2L * l + o);
    }

    [Fact]
    public void Fractal_heap_root_block_outside_the_file()
    {
        // mixed_latest.h5: group "many" has 20 links in dense storage, a fractal heap named by its link info message.
        var b = Fixture("mixed_latest.h5");
        using var nav = new Hdf5Navigator(b);
        int o = nav.File.OffsetSize, l = nav.File.LengthSize;
        long heap = nav.Abs(nav.Object("many").DenseLinks!.Value.Heap);
        Assert.Equal("FRHP"u8.ToArray(), b[(int)heap..(int)(heap + 4)]);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)heap + 7))); // unfiltered: no filter info
        // After the fixed prefix: next huge ID L, huge B-tree O, free space L, free-space manager O, eight statistics L,
        // table width 2, starting block size L, maximum direct block size L, maximum heap size 2, starting rows 2, root O.
        long rootField = heap + FrhpFixedPrefix + l + o + l + o + 8L * l + 2 + l + l + 2 + 2;
        WriteOffset(b, rootField, o, (ulong)b.Length + 8192);
        int checksumAt = (int)(rootField - heap) + o + 2; // current rows 2, then the header checksum
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)heap + checksumAt), Lookup3.Hash(b.AsSpan((int)heap, checksumAt)));
        var e = FailsWithin<InvalidModelContentException>(b);
        Assert.Contains("fractal heap", e.Detail);
        Assert.Contains("outside the file", e.Detail);
        Assert.Equal("many", e.Entry);
    }

    [Fact]
    public void Global_heap_collection_outside_the_file()
    {
        // mixed_earliest.h5: the root attribute "title" is a variable-length string, stored in a global heap collection.
        var b = Fixture("mixed_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        int o = nav.File.OffsetSize;
        var title = nav.Object("").Attributes.Single(a => a.Name == "title");
        long collectionField = title.DataOffset + VlenLengthField;
        long collection = nav.Abs(ReadOffset(b, collectionField, o));
        Assert.Equal("GCOL"u8.ToArray(), b[(int)collection..(int)(collection + 4)]);
        WriteOffset(b, collectionField, o, (ulong)b.Length + 64);
        var e = FailsWithin<InvalidModelContentException>(b);
        Assert.Contains("global heap collection", e.Detail);
        Assert.Contains("outside the file", e.Detail);
        Assert.Equal("title", e.Entry); // a root attribute's metadata key
    }

    [Fact]
    public void Global_heap_collection_size_beyond_the_file()
    {
        var b = Fixture("mixed_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        int o = nav.File.OffsetSize, l = nav.File.LengthSize;
        var title = nav.Object("").Attributes.Single(a => a.Name == "title");
        long collection = nav.Abs(ReadOffset(b, title.DataOffset + VlenLengthField, o));
        WriteOffset(b, collection + GlobalHeapSizeField, l, (ulong)b.Length * 4);
        var e = FailsWithin<InvalidModelContentException>(b);
        Assert.Contains("outside the file", e.Detail);
        Assert.Equal("title", e.Entry);
    }

    public static TheoryData<string, long, long, string, bool> AbsurdDimensions() => new()
    {
        // dims whose product overflows 64 bits: no shape a tensor could have, so the file is refused
        { "model_weights/dense/dense/kernel:0", 1L << 40, 1L << 40, "multiply past", false },
        // fits 64 bits as elements, not as bytes (× 4 bytes per float32): refused likewise
        { "model_weights/dense/dense/kernel:0", 1L << 31, 1L << 31, "bytes", false },
        // contiguous data of 48 bytes for a dataset of 2^40 elements: listed, its values fail
        { "model_weights/dense/dense/kernel:0", 1L << 20, 1L << 20, "contiguous data has", true },
        // a chunked dataset of 2^42 bytes: listed; over the decoding limit, refused when read, before anything is allocated
        { "chunked/partial_fill", 1L << 20, 1L << 20, "MaxDecompressedBytes", true },
    };

    [Theory]
    [MemberData(nameof(AbsurdDimensions))]
    public void Absurd_dimensions_fail_without_allocating(string path, long d0, long d1, string expected, bool listed)
    {
        var b = Fixture("mixed_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        var space = nav.Message(path, MessageType.Dataspace);
        int version = b[space.Offset];
        Assert.Equal(2, b[space.Offset + 1]); // rank 2
        long dims = space.Offset + (version == 1 ? DataspaceV1Dims : DataspaceV2Dims);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan((int)dims), d0);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan((int)dims + 8), d1);
        if (listed)
        {
            using var m = ModelFile.Open(new MemoryStream(b));
            Assert.Equal([d0, d1], m.Tensors[path].Shape.ToArray());
        }
        var e = FailsWithin<ModelFormatException>(b);
        Assert.Contains(expected, e.Message);
        Assert.Equal(path, e.Entry);
    }

    [Fact]
    public void V2_object_header_checksum_mismatch()
    {
        var b = Fixture("mixed_latest.h5");
        using var nav = new Hdf5Navigator(b);
        const string path = "model_weights/dense/dense/kernel:0";
        long header = nav.Abs(nav.Address(path));
        Assert.Equal("OHDR"u8.ToArray(), b[(int)header..(int)(header + 4)]);
        var space = nav.Message(path, MessageType.Dataspace);
        b[space.Offset + DataspaceV2Dims] ^= 0x01; // first dimension: 3 → 2, which only the checksum can tell
        var e = FailsWithin<InvalidModelContentException>(b);
        Assert.Contains("object header checksum", e.Detail);
        Assert.Equal(path, e.Entry);
        Assert.True(e.Offset > header);
    }

    [Fact]
    public void V2_btree_node_checksum_mismatch()
    {
        var b = Fixture("mixed_latest.h5");
        using var nav = new Hdf5Navigator(b);
        int o = nav.File.OffsetSize;
        long header = nav.Abs(nav.Object("many").DenseLinks!.Value.NameIndex);
        Assert.Equal("BTHD"u8.ToArray(), b[(int)header..(int)(header + 4)]);
        long leaf = nav.Abs(ReadOffset(b, header + BthdRootField, o));
        Assert.Equal("BTLF"u8.ToArray(), b[(int)leaf..(int)(leaf + 4)]);
        b[leaf + V2NodePrefix] ^= 0x10; // first record's name hash
        var e = FailsWithin<InvalidModelContentException>(b);
        Assert.Contains("v2 B-tree node checksum", e.Detail);
        Assert.Equal("many", e.Entry);
        Assert.True(e.Offset > leaf);
    }

    [Fact]
    public void Fletcher32_chunk_checksum_mismatch_fails_when_that_tensor_is_read()
    {
        // mixed_latest.h5: "chunked/fletcher" (chunks of 8 float64, fletcher32) indexed by a fixed array.
        var b = Fixture("mixed_latest.h5");
        using var nav = new Hdf5Navigator(b);
        const string path = "chunked/fletcher";
        var obj = nav.Object(path);
        Assert.Equal(ChunkIndex.FixedArray, obj.Layout!.Index);
        var chunks = FixedArrayIndex.Chunks(nav.File, obj.Layout.Address, obj.Space!.Dims, obj.Layout.ChunkDims, obj.Layout.ChunkDims[0] * sizeof(double), path);
        long chunk0 = nav.Abs(chunks[0].Address);
        b[chunk0 + 3] ^= 0x20; // a byte of the first value
        using (var m = ModelFile.Open(new MemoryStream(b)))
            Assert.Contains(m.Tensors, t => t.Name == path);
        var e = FailsWithin<InvalidModelContentException>(b);
        Assert.Contains("fletcher32 checksum", e.Detail);
        Assert.Equal(path, e.Entry);
        Assert.Equal(chunk0, e.Offset);
    }

    [Fact]
    public void Symbol_table_name_offset_beyond_the_local_heap()
    {
        var b = Fixture("mixed_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        int o = nav.File.OffsetSize, l = nav.File.LengthSize;
        var st = nav.Object("model_weights").SymbolTable!.Value;
        var snod = nav.Abs(BTreeV1.GroupLeaves(nav.File, st.BTree, st.At, "model_weights", []).First());
        Assert.Equal("SNOD"u8.ToArray(), b[(int)snod..(int)(snod + 4)]);
        long entry0 = snod + SnodPrefix; // link name offset L, object header address O, cache type, scratch pad
        WriteOffset(b, entry0, l, 0x7fff_fff0);
        var e = FailsWithin<InvalidModelContentException>(b);
        Assert.Contains("beyond the local heap", e.Detail);
        Assert.Equal("model_weights", e.Entry);
        Assert.Equal(entry0, e.Offset);
    }
}
