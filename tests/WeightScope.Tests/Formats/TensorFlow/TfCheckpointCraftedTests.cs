using Google.Protobuf;
using System.Text;
using WeightScope.Formats.TensorFlow.Proto;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.TensorFlow;

/// <summary>V2 checkpoints written by <see cref="TfBundleBuilder"/> (BundleWriter's layout): naming, roles, metadata,
/// ways of opening, and one crafted corruption per error kind.</summary>
public sealed class TfCheckpointCraftedTests
{
    private static TfBundleBuilder Sample()
    {
        var b = new TfBundleBuilder();
        b.AddFloats("dense/kernel", [2, 3], 1, 2, 3, 4, 5, 6);
        b.AddFloats("dense/bias", [3], 0.5f, -1, 2);
        b.Add("global_step", DataType.DtInt64, [], BitConverter.GetBytes(42L));
        b.AddFloats("dense/kernel/Adam", [2, 3], 0, 0, 0, 0, 0, 0);
        return b;
    }

    [Fact]
    public void Keys_in_sorted_order_with_values_dtypes_and_roles()
    {
        using var dir = new TempDir();
        using var m = ModelFile.Open(Sample().WriteTo(dir.Path));
        Assert.Equal("tf-checkpoint", m.Format.Name);
        Assert.Equal("V2", m.Format.Version);
        Assert.Equal(["dense/bias", "dense/kernel", "dense/kernel/Adam", "global_step"], m.Tensors.Select(t => t.Name));
        Assert.Equal([2L, 3L], m.Tensors["dense/kernel"].Shape.ToArray());
        Assert.Equal([1f, 2, 3, 4, 5, 6], m.Tensors["dense/kernel"].ToArray<float>());
        Assert.Equal([0.5f, -1, 2], m.Tensors["dense/bias"].ToArray<float>());
        Assert.Equal(DType.Int64, m.Tensors["global_step"].DType);
        Assert.Equal([42L], m.Tensors["global_step"].ToArray<long>());
        Assert.Equal(TensorRole.OptimizerState, m.Tensors["dense/kernel/Adam"].Role);
        Assert.Equal(TensorRole.Other, m.Tensors["dense/kernel"].Role);
        Assert.Contains(Path.Combine(dir.Path, "model.ckpt.data-00000-of-00001"), m.SourceFiles);
    }

    [Fact]
    public void Opens_from_the_prefix_and_from_the_folder_following_the_state_file()
    {
        using var dir = new TempDir();
        var b = Sample();
        b.WriteTo(dir.Path, "ckpt-1");
        var other = new TfBundleBuilder();
        other.AddFloats("w", [1], 7);
        other.WriteTo(dir.Path, "ckpt-2");
        using (var byPrefix = ModelFile.Open(Path.Combine(dir.Path, "ckpt-1")))
            Assert.Equal(4, byPrefix.Tensors.Count);

        // two checkpoints and no state file: ambiguous
        Assert.Contains("several checkpoints", Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(dir.Path)).Message);

        File.WriteAllText(Path.Combine(dir.Path, "checkpoint"), "model_checkpoint_path: \"ckpt-2\"\nall_model_checkpoint_paths: \"ckpt-1\"\nall_model_checkpoint_paths: \"ckpt-2\"\n");
        using (var byFolder = ModelFile.Open(dir.Path))
            Assert.Equal([7f], byFolder.Tensors["w"].ToArray<float>());

        // an absolute path elsewhere (as tf-serving's test data has) falls back to the same name inside the folder
        File.WriteAllText(Path.Combine(dir.Path, "checkpoint"), "model_checkpoint_path: \"/tmp/elsewhere/ckpt-1\"\n");
        using (var fallback = ModelFile.Open(dir.Path))
            Assert.Equal(4, fallback.Tensors.Count);

        File.WriteAllText(Path.Combine(dir.Path, "checkpoint"), "model_checkpoint_path: \"../outside/ckpt-9\"\n");
        Assert.Contains("names '../outside/ckpt-9'", Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(dir.Path)).Message);
    }

    // A TF2 object graph as tf.train.Checkpoint(model=…, optimizer=…) writes it (trackable_utils's key rules):
    // root → layer_with_weights-0 → kernel (full_name dense/kernel); root → optimizer, which owns the kernel's slot 'm'
    // and an 'iter' variable; root → save_counter. Two more variables share the full name 'Variable'.
    private static TrackableObjectGraph SampleGraph()
    {
        static TrackableObjectGraph.Types.TrackableObject Node(params (int Id, string Name)[] children)
        {
            var n = new TrackableObjectGraph.Types.TrackableObject();
            foreach (var (id, name) in children) n.Children.Add(new TrackableObjectGraph.Types.TrackableObject.Types.ObjectReference { NodeId = id, LocalName = name });
            return n;
        }
        static TrackableObjectGraph.Types.TrackableObject Value(string key, string fullName)
        {
            var n = Node();
            n.Attributes.Add(new TrackableObjectGraph.Types.TrackableObject.Types.SerializedTensor { Name = "VARIABLE_VALUE", FullName = fullName, CheckpointKey = key });
            return n;
        }
        var g = new TrackableObjectGraph();
        g.Nodes.Add(Node((1, "layer_with_weights-0"), (3, "optimizer"), (6, "save_counter"), (7, "v/x"), (8, "w")));
        g.Nodes.Add(Node((2, "kernel")));
        g.Nodes.Add(Value("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", "dense/kernel"));
        var optimizer = Node((5, "iter"));
        optimizer.SlotVariables.Add(new TrackableObjectGraph.Types.TrackableObject.Types.SlotVariableReference { OriginalVariableNodeId = 2, SlotName = "m", SlotVariableNodeId = 4 });
        g.Nodes.Add(optimizer);
        g.Nodes.Add(Value("layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE", ""));
        g.Nodes.Add(Value("optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE", "Adam/iter"));
        g.Nodes.Add(Value("save_counter/.ATTRIBUTES/VARIABLE_VALUE", "save_counter"));
        g.Nodes.Add(Value("v.Sx/.ATTRIBUTES/VARIABLE_VALUE", "Variable"));
        g.Nodes.Add(Value("w/.ATTRIBUTES/VARIABLE_VALUE", "Variable"));
        return g;
    }

    [Fact]
    public void Object_based_keys_are_named_by_full_name_or_object_path()
    {
        using var dir = new TempDir();
        var b = new TfBundleBuilder();
        b.AddFloats("layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE", [1], 3);
        b.AddFloats("layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE", [1], 0);
        b.Add("optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE", DataType.DtInt64, [], BitConverter.GetBytes(5L));
        b.Add("save_counter/.ATTRIBUTES/VARIABLE_VALUE", DataType.DtInt64, [], BitConverter.GetBytes(3L));
        b.AddFloats("v.Sx/.ATTRIBUTES/VARIABLE_VALUE", [1], 1);
        b.AddFloats("w/.ATTRIBUTES/VARIABLE_VALUE", [1], 2);
        var graph = SampleGraph().ToByteArray();
        b.AddStrings("_CHECKPOINTABLE_OBJECT_GRAPH", [], graph);
        b.AddStrings("vocab/.ATTRIBUTES/VARIABLE_VALUE", [3], "a"u8.ToArray(), "bc"u8.ToArray(), []);
        using var m = ModelFile.Open(b.WriteTo(dir.Path));
        // key order; the slot has no full name and is named under its optimizer; 'Variable' is shared, so paths
        // (v.Sx is the escaped local name 'v/x')
        Assert.Equal(["dense/kernel", "optimizer/m/layer_with_weights-0/kernel", "Adam/iter", "v.Sx", "w"], m.Tensors.Select(t => t.Name));
        Assert.Equal([TensorRole.Other, TensorRole.OptimizerState, TensorRole.OptimizerState, TensorRole.Other, TensorRole.Other], m.Tensors.Select(t => t.Role));
        var keys = Assert.IsType<OrderedDictionary<string, object?>>(m.Metadata["checkpoint_keys"]);
        Assert.Equal("layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE", keys["optimizer/m/layer_with_weights-0/kernel"]);
        Assert.Equal(5, keys.Count);
        Assert.Equal(3L, m.Metadata["save_counter/.ATTRIBUTES/VARIABLE_VALUE"]);
        Assert.Equal(graph, m.Metadata["_CHECKPOINTABLE_OBJECT_GRAPH"]);
        Assert.Equal(new List<object?> { "a", "bc", "" }, m.Metadata["vocab/.ATTRIBUTES/VARIABLE_VALUE"]);
    }

    [Fact]
    public void Object_based_keys_without_an_object_graph_are_named_by_path()
    {
        using var dir = new TempDir();
        var b = new TfBundleBuilder();
        b.AddFloats("model/dense/kernel/.ATTRIBUTES/VARIABLE_VALUE", [1], 3);
        b.AddFloats("model/dense/kernel/.OPTIMIZER_SLOT/optimizer/v/.ATTRIBUTES/VARIABLE_VALUE", [1], 0);
        b.AddFloats("plain", [1], 0);
        using var m = ModelFile.Open(b.WriteTo(dir.Path));
        Assert.Equal(["model/dense/kernel", "optimizer/v/model/dense/kernel", "plain"], m.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void Corrupt_object_graph_is_reported()
    {
        using var dir = new TempDir();
        var b = new TfBundleBuilder();
        b.AddFloats("a/.ATTRIBUTES/VARIABLE_VALUE", [1], 3);
        b.AddStrings("_CHECKPOINTABLE_OBJECT_GRAPH", [], [0x0a, 0x80, 0xff, 0x01]); // a node whose length runs past the end
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(b.WriteTo(dir.Path)));
        Assert.Contains("_CHECKPOINTABLE_OBJECT_GRAPH", e.Message);
    }

    [Fact]
    public void Big_endian_bundle_is_read_as_big_endian()
    {
        using var dir = new TempDir();
        var b = new TfBundleBuilder();
        b.Header.Endianness = BundleHeaderProto.Types.Endianness.Big;
        b.Add("x", DataType.DtFloat, [2], [0x3F, 0x80, 0, 0, 0x40, 0, 0, 0]); // 1.0f, 2.0f big-endian
        using var m = ModelFile.Open(b.WriteTo(dir.Path));
        Assert.Equal([1f, 2f], m.Tensors["x"].ToArray<float>());
    }

    [Fact]
    public void Data_checksum_mismatch_is_reported_on_first_read_naming_tensor_shard_and_offset()
    {
        using var dir = new TempDir();
        var path = Sample().WriteTo(dir.Path);
        var shard = Path.Combine(dir.Path, "model.ckpt.data-00000-of-00001");
        var data = File.ReadAllBytes(shard);
        data[24 + 4] ^= 1; // data is in Add order: dense/kernel at 0 (24 bytes), dense/bias at 24
        File.WriteAllBytes(shard, data);
        using var m = ModelFile.Open(path); // opening reads no tensor data
        Assert.Equal([1f, 2, 3, 4, 5, 6], m.Tensors["dense/kernel"].ToArray<float>());
        var e = Assert.Throws<InvalidModelContentException>(() => m.Tensors["dense/bias"].ToArray<float>());
        Assert.Contains("tensor 'dense/bias' (12 bytes at offset 24 of shard 'model.ckpt.data-00000-of-00001') fails its CRC-32C check", e.Message);
        Assert.Equal("dense/bias", e.Entry);
        Assert.Equal(shard, e.FilePath);
    }

    [Fact]
    public void Missing_shard()
    {
        using var dir = new TempDir();
        var path = Sample().WriteTo(dir.Path);
        File.Delete(Path.Combine(dir.Path, "model.ckpt.data-00000-of-00001"));
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(path));
        Assert.Contains("data shard 'model.ckpt.data-00000-of-00001', which does not exist", e.Message);
    }

    [Fact]
    public void Data_beyond_the_shard()
    {
        using var dir = new TempDir();
        var b = Sample();
        b.Entries["global_step"].Offset = 1000;
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(b.WriteTo(dir.Path)));
        Assert.Contains("tensor 'global_step' needs 8 bytes at offset 1000 of shard", e.Message);
    }

    [Fact]
    public void Size_not_matching_shape_and_dtype()
    {
        using var dir = new TempDir();
        var b = Sample();
        b.Entries["dense/bias"].Size = 8;
        Assert.Contains("records 8 data bytes, but its shape and type need 12",
            Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(b.WriteTo(dir.Path))).Message);
    }

    [Fact]
    public void Unknown_dtype()
    {
        using var dir = new TempDir();
        var b = Sample();
        b.Entries["dense/bias"].Dtype = (DataType)77;
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(b.WriteTo(dir.Path)));
        Assert.Contains("tensor 'dense/bias' has DataType 77", e.Message);
    }

    [Fact]
    public void Unsupported_dtype_is_named()
    {
        using var dir = new TempDir();
        var b = Sample();
        b.Entries["dense/bias"].Dtype = DataType.DtVariant;
        Assert.Contains("'dense/bias' of TensorFlow type variant", Assert.Throws<UnsupportedModelFeatureException>(() => ModelFile.Open(b.WriteTo(dir.Path))).Message);
    }

    [Fact]
    public void Shard_id_beyond_the_header()
    {
        using var dir = new TempDir();
        var b = Sample();
        b.Entries["dense/bias"].ShardId = 3;
        Assert.Contains("in shard 3, but the header declares 1 shards", Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(b.WriteTo(dir.Path))).Message);
    }

    [Fact]
    public void Partitioned_variable_without_its_slice_entries()
    {
        using var dir = new TempDir();
        var b = Sample();
        var slice = new TensorSliceProto();
        slice.Extent.Add(new TensorSliceProto.Types.Extent { Start = 0, Length = 1 });
        slice.Extent.Add(new TensorSliceProto.Types.Extent());
        b.Entries["dense/kernel"].Slices.Add(slice);
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(b.WriteTo(dir.Path)));
        Assert.Contains("partitioned variable 'dense/kernel': slice 0 ([0:1, 0:3]) is not in the index", e.Message);
    }

    [Fact]
    public void String_tensor_with_a_corrupt_length_checksum()
    {
        using var dir = new TempDir();
        var b = new TfBundleBuilder();
        b.AddStrings("names", [2], "ab"u8.ToArray(), "c"u8.ToArray());
        var path = b.WriteTo(dir.Path);
        var shard = Path.Combine(dir.Path, "model.ckpt.data-00000-of-00001");
        var data = File.ReadAllBytes(shard);
        data[2] ^= 0xFF; // first byte of the lengths' checksum (after two 1-byte varints)
        File.WriteAllBytes(shard, data);
        Assert.Contains("tensor 'names (string lengths)'", Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(path)).Message);
    }

    [Fact]
    public void Index_without_the_header_entry()
    {
        var b = Sample();
        var index = b.Table.Build(b.Entries.Select(kv => (Encoding.UTF8.GetBytes(kv.Key), Google.Protobuf.MessageExtensions.ToByteArray(kv.Value))));
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(new MemoryStream(index)));
        Assert.Contains("not the header entry", e.Message);
    }

    [Fact]
    public void Opened_from_a_stream_the_shards_cannot_be_found()
    {
        var index = Sample().BuildIndex();
        Assert.Contains("does not exist", Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(new MemoryStream(index))).Message);
    }
}
