using System.Text.Json;
using WeightScope.Formats.Hdf5;
using WeightScope.Formats.Hdf5.Datatypes;
using WeightScope.Formats.Hdf5.Layout;
using WeightScope.Formats.Hdf5.ObjectHeader;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.Hdf5;

/// <summary>
/// What older and rarer HDF5 files use, in files h5py/libhdf5 wrote (tests/fixtures/generate/hdf5_feature_fixtures.py,
/// tests/fixtures/hdf5/features/), against h5py's answers (features_expected.json: every tensor's values, every attribute,
/// committed datatypes) and h5dump's (features_h5dump.json): layout messages of versions 1 and 2 (every rank, chunked,
/// contiguous, compact), bitfields, committed datatypes used by datasets and attributes, the shared message heap, and
/// external raw storage. Each test also checks that the file really uses the feature, by parsing it.
/// </summary>
public class Hdf5FeatureTests
{
    internal static string FeaturePath(string name) => TestPaths.Fixture("hdf5", "features", name);

    internal static JsonElement Expected(string file = "features_expected.json")
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(FeaturePath(file)));
        return doc.RootElement.Clone();
    }

    // The files whose every dataset h5py reads (the big ones and the refused external names have tests of their own).
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var p in Expected().EnumerateObject()) if (p.Value.TryGetProperty("tensors", out _)) data.Add(p.Name);
        return data;
    }

    public static TheoryData<string> H5dumpFiles()
    {
        var data = new TheoryData<string>();
        foreach (var p in Expected("features_h5dump.json").EnumerateObject()) data.Add(p.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Tensors_match_h5py(string file)
    {
        using var model = ModelFile.Open(FeaturePath(file));
        Hdf5FixtureTests.AssertTensors(Expected().GetProperty(file), model);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Metadata_matches_h5py(string file)
    {
        using var model = ModelFile.Open(FeaturePath(file));
        Hdf5FixtureTests.AssertMetadata(Expected().GetProperty(file).GetProperty("attributes"), model);
    }

    [Theory]
    [MemberData(nameof(H5dumpFiles))]
    public void Matches_h5dump(string file) => Hdf5H5dumpTests.Check(Expected("features_h5dump.json").GetProperty(file), FeaturePath(file));

    [Theory]
    [InlineData("legacy_layout_v1.h5", 1)]
    [InlineData("legacy_layout_v2.h5", 2)]
    public void Legacy_files_hold_layout_messages_of_that_version_for_every_class_and_rank(string file, int version)
    {
        using var nav = new Hdf5Navigator(File.ReadAllBytes(FeaturePath(file)));
        using var model = ModelFile.Open(FeaturePath(file));
        var seen = new HashSet<(LayoutClass, int)>();
        foreach (var t in model.Tensors)
        {
            var layout = nav.Message(t.Name, MessageType.DataLayout);
            Assert.Equal(version, nav.File.File.Span(layout.Offset, 1)[0]);
            var obj = nav.Object(t.Name);
            seen.Add((obj.Layout!.Class, t.Shape.Rank));
            if (obj.Layout.Class == LayoutClass.Chunked) Assert.Equal(t.DType.ItemSize(), obj.Layout.ChunkElementSize);
        }
        foreach (int rank in new[] { 1, 2, 3, 4 })
        {
            Assert.Contains((LayoutClass.Chunked, rank), seen);
            Assert.Contains((LayoutClass.Contiguous, rank), seen);
        }
        Assert.Contains((LayoutClass.Contiguous, 0), seen);
        Assert.Contains((LayoutClass.Compact, 1), seen);
        Assert.Contains((LayoutClass.Compact, 2), seen);
    }

    [Fact]
    public void Bitfields_are_unsigned_integers_of_their_size_and_byte_order()
    {
        using var model = ModelFile.Open(FeaturePath("bitfield.h5"));
        using var nav = new Hdf5Navigator(File.ReadAllBytes(FeaturePath("bitfield.h5")));
        var want = new Dictionary<string, (DType, bool)>
        {
            ["std_b8le"] = (DType.UInt8, false), ["std_b16le"] = (DType.UInt16, false), ["std_b16be"] = (DType.UInt16, true),
            ["std_b32le"] = (DType.UInt32, false), ["std_b32be"] = (DType.UInt32, true), ["std_b64le"] = (DType.UInt64, false),
            ["std_b64be"] = (DType.UInt64, true),
        };
        Assert.Equal(want.Keys.Order(StringComparer.Ordinal), model.Tensors.Select(t => t.Name));
        foreach (var (name, (dtype, bigEndian)) in want)
        {
            Assert.Equal(DatatypeClass.BitField, nav.Object(name).Type!.Class);
            Assert.Equal(dtype, model.Tensors[name].DType);
            Assert.Equal(bigEndian, model.Tensors[name].IsBigEndian);
        }
    }

    [Theory]
    [InlineData("committed_earliest.h5")]
    [InlineData("committed_latest.h5")]
    public void Committed_datatypes_are_resolved_for_datasets_and_attributes(string file)
    {
        var bytes = File.ReadAllBytes(FeaturePath(file));
        using var nav = new Hdf5Navigator(bytes);
        // Each dataset's datatype message is shared: it names the committed datatype's object header.
        foreach (var (dataset, type) in new[] { ("w", "types/f4"), ("chunked", "types/i2be"), ("mask", "types/flag"), ("points", "types/pair") })
        {
            var message = nav.Message(dataset, MessageType.Datatype);
            Assert.NotEqual(0, message.Flags & MessageType.FlagShared);
            Assert.Equal(nav.Object(type).Type!.NumpyCode(), nav.Object(dataset).Type!.NumpyCode());
        }
        using var model = ModelFile.Open(FeaturePath(file));
        Assert.Equal(["chunked", "mask", "w"], model.Tensors.Select(t => t.Name));
        Assert.Equal(DType.Int16, model.Tensors["chunked"].DType);
        Assert.True(model.Tensors["chunked"].IsBigEndian);
        var named = Assert.IsType<WeightScope.Modules.OpaqueObject>(model.Metadata["types/pair"]);
        Assert.Equal(Hdf5Reader.CommittedDatatype, named.TypeName);
        Assert.Equal("volt", model.Metadata["types/f4@unit"]); // an attribute of the committed datatype itself
    }

    [Fact]
    public void Messages_in_the_shared_message_heap_are_resolved()
    {
        var bytes = File.ReadAllBytes(FeaturePath("shared_messages.h5"));
        using var nav = new Hdf5Navigator(bytes);
        Assert.NotNull(nav.File.SuperblockExtension);
        foreach (var type in new[] { MessageType.Dataspace, MessageType.Datatype, MessageType.FillValue, MessageType.FilterPipeline, MessageType.Attribute })
        {
            var m = nav.Message("layer1/kernel", type);
            Assert.NotEqual(0, m.Flags & MessageType.FlagShared);
            Assert.Equal(3, nav.File.File.Span(m.Offset, 1)[0]); // shared message encoding version 3
            Assert.Equal(1, nav.File.File.Span(m.Offset + 1, 1)[0]); // sharing type 1: in the shared message heap
        }
        var kernel = nav.Object("layer1/kernel");
        Assert.Null(kernel.DatasetFailure);
        Assert.Equal([3L, 4L], kernel.Space!.Dims);
        Assert.Equal([1], kernel.Filters.Select(f => f.Id));
        Assert.Equal(BitConverter.GetBytes(0.25f), kernel.Fill);
    }
}
