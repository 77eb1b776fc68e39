using System.Buffers.Binary;
using System.Text.Json;
using WeightScope.Formats.Hdf5;
using WeightScope.Formats.Hdf5.Layout;
using WeightScope.Formats.Hdf5.ObjectHeader;
using WeightScope.Tests.Cli;
using Xunit;

namespace WeightScope.Tests.Formats.Hdf5;

/// <summary>
/// One dataset that cannot be read never makes the file unreadable: h5py-written fixtures are patched (the structure
/// found by parsing, <see cref="Hdf5Navigator"/>) so that one dataset's storage, layout, filters, fill value, external
/// files, shared datatype or dataspace cannot be read; the file still opens and lists every dataset, every other dataset
/// reads as before, and that dataset's values fail with the one exception family naming the format, the dataset, an
/// offset and what is wrong. Where the dataset's element type or shape itself cannot be read, it is listed in metadata
/// with the reason. The layout messages of versions 1 and 2 have a crafted regression test here too.
/// </summary>
public sealed class Hdf5DatasetFailureTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-h5-failure-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Kernel = "model_weights/dense/dense/kernel:0";
    private const string Fletcher = "chunked/fletcher";

    private static byte[] Fixture(params string[] parts) => File.ReadAllBytes(TestPaths.Fixture(["hdf5", .. parts]));

    // Opens the patched bytes: the file lists what the unpatched one lists, every other tensor reads exactly as before,
    // and `name`'s values fail. Returns that failure.
    private static ModelFormatException FailsOnlyThere(byte[] original, byte[] patched, string name)
    {
        using var before = ModelFile.Open(new MemoryStream(original));
        using var after = ModelFile.Open(new MemoryStream(patched));
        Assert.Equal(before.Tensors.Select(t => t.Name), after.Tensors.Select(t => t.Name));
        Assert.Equal(before.Tensors[name].Shape, after.Tensors[name].Shape);
        foreach (var t in after.Tensors.Where(t => t.Name != name))
            Assert.Equal(before.Tensors[t.Name].ReadBytes(), t.ReadBytes());
        var e = Assert.ThrowsAny<ModelFormatException>(() => after.Tensors[name].ReadBytes());
        Assert.Equal("hdf5", e.Format);
        Assert.Equal(name, e.Entry);
        Assert.NotNull(e.Offset);
        Assert.Throws(e.GetType(), () => after.Tensors[name].Slice("[0]").ReadBytes()); // every read, not only the whole
        return e;
    }

    [Fact]
    public void Layout_message_of_an_unknown_version()
    {
        var b = Fixture("mixed_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        var layout = nav.Message(Kernel, MessageType.DataLayout);
        var patched = (byte[])b.Clone();
        patched[layout.Offset] = 9; // data layout message version: 1 to 4 exist
        var e = FailsOnlyThere(b, patched, Kernel);
        Assert.IsType<UnsupportedModelFeatureException>(e);
        Assert.Contains("data layout message version 9", e.Message);
        Assert.Equal(layout.Offset, e.Offset);
    }

    [Fact]
    public void Virtual_layout()
    {
        var b = Fixture("mixed_latest.h5");
        using var nav = new Hdf5Navigator(b);
        var layout = nav.Message(Kernel, MessageType.DataLayout);
        var patched = (byte[])b.Clone();
        patched[layout.Offset + 1] = 3; // layout class 3: virtual (a mapping onto other datasets, not read here)
        Reseal(patched, nav, Kernel);
        Assert.Contains("virtual data layout", FailsOnlyThere(b, patched, Kernel).Message);
    }

    [Fact]
    public void Chunk_index_of_an_unknown_type()
    {
        // mixed_latest.h5 "chunked/fletcher": layout version 4, fixed-array index (type 3). Version 4 chunked layout:
        // version, class, flags, dimensionality, encoded dimension size (1), dimensions (that many bytes each), index type.
        var b = Fixture("mixed_latest.h5");
        using var nav = new Hdf5Navigator(b);
        var layout = nav.Message(Fletcher, MessageType.DataLayout);
        Assert.Equal(4, b[layout.Offset]);
        int dimensionality = b[layout.Offset + 3], encoded = b[layout.Offset + 4];
        long indexType = layout.Offset + 5 + dimensionality * encoded;
        Assert.Equal((byte)ChunkIndex.FixedArray, b[indexType]);
        var patched = (byte[])b.Clone();
        patched[indexType] = 9;
        Reseal(patched, nav, Fletcher);
        Assert.Contains("chunk index type 9", FailsOnlyThere(b, patched, Fletcher).Message);
    }

    [Fact]
    public void Filter_pipeline_of_an_unknown_version()
    {
        var b = Fixture("mixed_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        var pipeline = nav.Message(Fletcher, MessageType.FilterPipeline);
        var patched = (byte[])b.Clone();
        patched[pipeline.Offset] = 7; // filter pipeline message version: 1 and 2 exist
        Assert.Contains("filter pipeline message version 7", FailsOnlyThere(b, patched, Fletcher).Message);
    }

    [Fact]
    public void Fill_value_message_that_runs_past_its_end()
    {
        // mixed_earliest.h5 "chunked/partial_fill" (fill value 7.5): fill value message version 2 is version, allocation
        // time, write time, defined, then the value's size (4 bytes) and value. A size of 2^31 runs past the message.
        const string name = "chunked/partial_fill";
        var b = Fixture("mixed_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        var fill = nav.Message(name, MessageType.FillValue);
        Assert.Equal(2, b[fill.Offset]);
        var patched = (byte[])b.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(patched.AsSpan((int)fill.Offset + 4), int.MaxValue);
        var e = FailsOnlyThere(b, patched, name);
        Assert.Contains("fill value message runs past its end", e.Message);
    }

    [Fact]
    public void Corrupt_chunk_index()
    {
        var b = Fixture("mixed_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        long node = nav.Abs(nav.Object(Fletcher).Layout!.Address);
        var patched = (byte[])b.Clone();
        Assert.Equal("TREE"u8.ToArray(), patched[(int)node..(int)(node + 4)]);
        patched[node] = (byte)'X'; // the v1 B-tree node's signature
        Assert.Contains("does not start with TREE", FailsOnlyThere(b, patched, Fletcher).Message);
    }

    [Fact]
    public void External_data_files_message_of_an_unknown_version()
    {
        var b = Fixture("features", "external.h5");
        using var nav = new Hdf5Navigator(b);
        var efl = nav.Message("segments", MessageType.ExternalFileList);
        var patched = (byte[])b.Clone();
        patched[efl.Offset] = 2; // external data files message version: only 1 exists
        // From a stream the other external datasets fail too (no folder); the message is what differs.
        using var m = ModelFile.Open(new MemoryStream(patched));
        Assert.Equal(["segments", "shared_file", "single"], m.Tensors.Select(t => t.Name));
        var e = Assert.ThrowsAny<ModelFormatException>(() => m.Tensors["segments"].ReadBytes());
        Assert.Contains("external data files message version 2", e.Message);
        Assert.Equal(efl.Offset, e.Offset);
        Assert.Contains("opened from a stream", Assert.ThrowsAny<ModelFormatException>(() => m.Tensors["single"].ReadBytes()).Message);
    }

    [Fact]
    public void Shared_datatype_naming_an_address_outside_the_file()
    {
        // committed_earliest.h5 "w": its datatype message is shared, encoding version 2: version, sharing type (2, in
        // another object header), the header's address. Without its element type the dataset cannot be a tensor: it is
        // listed in metadata with the reason, and every other dataset reads as before.
        var b = Fixture("features", "committed_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        var type = nav.Message("w", MessageType.Datatype);
        Assert.NotEqual(0, type.Flags & MessageType.FlagShared);
        Assert.Equal([2, 2], b[(int)type.Offset..(int)(type.Offset + 2)]);
        var patched = (byte[])b.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(patched.AsSpan((int)type.Offset + 2), (ulong)b.Length + 4096);
        using var before = ModelFile.Open(new MemoryStream(b));
        using var after = ModelFile.Open(new MemoryStream(patched));
        Assert.Equal(before.Tensors.Select(t => t.Name).Where(n => n != "w"), after.Tensors.Select(t => t.Name));
        foreach (var t in after.Tensors) Assert.Equal(before.Tensors[t.Name].ReadBytes(), t.ReadBytes());
        var unreadable = Assert.IsType<WeightScope.Modules.OpaqueObject>(after.Metadata["w"]);
        Assert.Equal(Hdf5Reader.UnreadableDataset, unreadable.TypeName);
        Assert.Contains("lies outside the file", Assert.IsType<string>(unreadable.State));
        Assert.Contains("entry 'w'", (string)unreadable.State!);
    }

    [Fact]
    public void Dataspace_message_of_an_unknown_version()
    {
        var b = Fixture("mixed_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        var space = nav.Message(Kernel, MessageType.Dataspace);
        var patched = (byte[])b.Clone();
        patched[space.Offset] = 5; // dataspace message version: 1 and 2 exist
        using var m = ModelFile.Open(new MemoryStream(patched));
        Assert.DoesNotContain(m.Tensors, t => t.Name == Kernel);
        Assert.Contains("dataspace message version 5", (string)Assert.IsType<WeightScope.Modules.OpaqueObject>(m.Metadata[Kernel]).State!);
        Assert.NotEmpty(m.Tensors["model_weights/dense/dense/bias:0"].ReadBytes());
    }

    [Fact]
    public void Version_1_layout_of_a_one_dimensional_chunked_dataset()
    {
        // Regression: PyTables-era files (libhdf5 1.4-1.6.2) whose 1-D chunked datasets have a version 1 or 2 layout
        // message were refused ("needed 4 bytes, 0 left"): the reader looked for an element-size field after the
        // dimensions, which libhdf5 never writes there. mixed_earliest.h5 "chunked/fletcher" (20 float64 in chunks of 8)
        // has a version 3 layout in a 24-byte slot; the same layout as version 1 fills the slot exactly (IV.A.2.i).
        var b = Fixture("mixed_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        var layout = nav.Message(Fletcher, MessageType.DataLayout);
        Assert.Equal(24, layout.Length);
        ulong btree = nav.Object(Fletcher).Layout!.Address;
        var patched = (byte[])b.Clone();
        var v1 = new byte[24];
        v1[0] = 1;                                                       // version 1
        v1[1] = 2;                                                       // dimensionality: rank 1, plus the element size
        v1[2] = 2;                                                       // layout class: chunked
        /* v1[3..8]: reserved, zero */
        BinaryPrimitives.WriteUInt64LittleEndian(v1.AsSpan(8), btree);   // address of the v1 B-tree of chunks
        BinaryPrimitives.WriteUInt32LittleEndian(v1.AsSpan(16), 8);      // chunk dimension 0: 8 elements
        BinaryPrimitives.WriteUInt32LittleEndian(v1.AsSpan(20), 8);      // last dimension: the element size, 8 bytes
        v1.CopyTo(patched, layout.Offset);                               // and nothing after it: the message ends here
        using var original = ModelFile.Open(new MemoryStream(b));
        using var m = ModelFile.Open(new MemoryStream(patched));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (double)i), m.Tensors[Fletcher].ToArray<double>());
        using var patchedNav = new Hdf5Navigator(patched);
        Assert.Equal([8L], patchedNav.Object(Fletcher).Layout!.ChunkDims);
        Assert.Equal(original.Tensors.Select(t => t.Name), m.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void Cli_lists_and_shows_a_file_with_an_unreadable_dataset()
    {
        var b = Fixture("mixed_earliest.h5");
        using var nav = new Hdf5Navigator(b);
        var layout = nav.Message(Kernel, MessageType.DataLayout);
        b[layout.Offset] = 9;
        string path = Path.Combine(_dir, "one-bad-dataset.h5");
        File.WriteAllBytes(path, b);
        var list = CliRunner.Run("list", "--json", path);
        Assert.True(list.ExitCode == 0, list.Stderr);
        var names = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.Contains(Kernel, names);
        var show = CliRunner.Run("show", path, Kernel);
        Assert.Equal(3, show.ExitCode);
        Assert.Equal($"weightscope: {path}, hdf5, entry '{Kernel}', offset {layout.Offset}: not supported: data layout message version 9", show.Stderr.Trim());
        var other = CliRunner.Run("show", path, "model_weights/dense/dense/bias:0");
        Assert.True(other.ExitCode == 0, other.Stderr);
    }

    // A version 2 object header (libver='latest') is checksummed: after a patch the checksum is recomputed, so the
    // patched message, not the checksum, is what the reader meets.
    private static void Reseal(byte[] b, Hdf5Navigator nav, string path)
    {
        long header = nav.Abs(nav.Address(path));
        Assert.Equal("OHDR"u8.ToArray(), b[(int)header..(int)(header + 4)]);
        int flags = b[header + 5];
        int prefix = 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
        int sizeBytes = 1 << (flags & 0x03);
        long chunk = 0;
        for (int i = sizeBytes - 1; i >= 0; i--) chunk = (chunk << 8) | b[header + prefix + i];
        int covered = prefix + sizeBytes + (int)chunk; // signature to the end of the first chunk; the checksum follows
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)header + covered), WeightScope.Formats.Hdf5.Superblock.Lookup3.Hash(b.AsSpan((int)header, covered)));
    }
}
