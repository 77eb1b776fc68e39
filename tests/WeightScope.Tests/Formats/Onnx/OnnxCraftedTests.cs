using Google.Protobuf;
using WeightScope.Tensors;
using WeightScope.Formats.Onnx.Proto;
using Xunit;
using static WeightScope.Tests.Formats.Onnx.OnnxProtos;

namespace WeightScope.Tests.Formats.Onnx;

/// <summary>
/// Damaged and hostile ONNX input, built message by message with the generated onnx.proto types: each fails with the
/// one exception family and a message that says what is wrong, never another exception or a huge allocation.
/// </summary>
public sealed class OnnxCraftedTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("weightscope-onnx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var p = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    private string Write(ModelProto m, string name = "model.onnx") => Write(name, m.ToByteArray());

    private static T Fails<T>(string path) where T : ModelFormatException
    {
        var e = Assert.ThrowsAny<ModelFormatException>(() => ModelFile.Open(path).Dispose());
        return Assert.IsType<T>(e);
    }

    [Fact]
    public void A_well_formed_crafted_model_opens()
    {
        using var m = ModelFile.Open(Write(Model(Floats("w", 1, 2, 3))));
        Assert.Equal([1f, 2f, 3f], m.Tensors["w"].ToFloat32());
    }

    [Fact]
    public void Truncated_protobuf_is_invalid_content()
    {
        var bytes = Model(Floats("w", 1, 2, 3, 4, 5, 6, 7, 8)).ToByteArray();
        var e = Fails<InvalidModelContentException>(Write("t.onnx", bytes[..(bytes.Length - 7)]));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void A_length_beyond_the_end_of_the_file_is_invalid_content()
    {
        // ir_version 8, then field 7 (graph) claiming 1,000,000 bytes with 3 present
        byte[] bytes = [0x08, 0x08, 0x3A, 0xC0, 0x84, 0x3D, 0x0A, 0x01, 0x00];
        Fails<InvalidModelContentException>(Write("beyond.onnx", bytes));
    }

    [Fact]
    public void Subgraphs_nested_beyond_the_recursion_limit_are_refused()
    {
        var g = new GraphProto { Name = "leaf" };
        for (int i = 0; i < 200; i++)
        {
            var node = new NodeProto { OpType = "If", Name = $"if{i}" };
            node.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = g });
            g = new GraphProto { Name = $"g{i}" };
            g.Node.Add(node);
        }
        var m = Model();
        m.Graph = g;
        var e = Fails<InvalidModelContentException>(Write(m));
        Assert.Contains("nesting", e.Message);
    }

    [Fact]
    public void Raw_data_that_does_not_match_dims_is_invalid_content()
    {
        var t = Floats("w", 1, 2, 3);
        t.Dims[0] = 4;
        var e = Fails<InvalidModelContentException>(Write(Model(t)));
        Assert.Contains("12 bytes of raw_data", e.Message);
        Assert.Equal("w", e.Entry);
    }

    [Fact]
    public void Typed_values_that_do_not_match_dims_are_invalid_content()
    {
        var t = new TensorProto { Name = "i", DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(5);
        t.Int64Data.Add([1, 2]);
        Assert.Contains("int64_data", Fails<InvalidModelContentException>(Write(Model(t))).Message);
    }

    [Fact]
    public void Negative_dims_are_invalid_content()
    {
        var t = Floats("w", 1);
        t.Dims[0] = -1;
        Assert.Contains("dimension -1", Fails<InvalidModelContentException>(Write(Model(t))).Message);
    }

    [Fact]
    public void Dims_whose_product_overflows_are_invalid_content()
    {
        var t = Floats("w", 1);
        t.Dims.Clear();
        t.Dims.Add([long.MaxValue, 4]);
        Assert.Contains("overflows", Fails<InvalidModelContentException>(Write(Model(t))).Message);
    }

    [Fact]
    public void An_undefined_data_type_is_invalid_content()
    {
        var t = Floats("w", 1);
        t.DataType = 0;
        Assert.Contains("UNDEFINED", Fails<InvalidModelContentException>(Write(Model(t))).Message);
    }

    [Theory]
    [InlineData(27)]
    [InlineData(99)]
    [InlineData(-3)]
    public void A_data_type_no_onnx_defines_refuses_that_tensor_only_naming_it(int dataType)
    {
        var t = Floats("w", 1, 2);
        t.DataType = dataType;
        using var m = ModelFile.Open(Write(Model(t, Floats("ok", 3))));
        Assert.Equal([3f], m.Tensors["ok"].ToFloat32());
        Assert.False(m.Tensors.Contains("w"));
        var note = Assert.IsType<string>(m.Metadata["unsupported:w"]);
        Assert.Contains($"tensor 'w' [2] has data type {dataType} (unknown to this reader)", note);
    }

    [Fact]
    public void A_segmented_tensor_is_not_supported()
    {
        var t = Floats("w", 1);
        t.Segment = new TensorProto.Types.Segment { Begin = 0, End = 1 };
        Fails<UnsupportedModelFeatureException>(Write(Model(t)));
    }

    [Fact]
    public void Two_initializers_with_one_name_are_both_listed_and_the_clash_noted()
    {
        // onnx.load keeps both; the first keeps the name, the second is listed as w~2
        using var m = ModelFile.Open(Write(Model(Floats("w", 1), Floats("w", 2))));
        Assert.Equal([1f], m.Tensors["w"].ToFloat32());
        Assert.Equal([2f], m.Tensors["w~2"].ToFloat32());
        var note = Assert.IsType<string>(m.Metadata["name_clash:w"]);
        Assert.Contains("initializer 0 → 'w'; initializer 1 → 'w~2'", note);
        Assert.Contains("onnxruntime loads it and gives every node the value of initializer 1", note);
    }

    private static TensorProto External(string name, string location, long? offset = null, long? length = null, int elements = 2)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        t.Dims.Add(elements);
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        if (offset is { } o) t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = o.ToString() });
        if (length is { } l) t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = l.ToString() });
        return t;
    }

    [Fact]
    public void External_data_at_an_offset_is_read_from_there()
    {
        Write("m/w.bin", [.. new byte[4], .. BitConverter.GetBytes(1.5f), .. BitConverter.GetBytes(-2f)]);
        using var m = ModelFile.Open(Write(Model(External("w", "w.bin", 4, 8)), "m/model.onnx"));
        Assert.Equal([1.5f, -2f], m.Tensors["w"].ToFloat32());
        Assert.Equal(2, m.SourceFiles.Count);
    }

    [Theory]
    [InlineData("../outside.bin", "leads out")]
    [InlineData("sub/../../outside.bin", "leads out")]
    [InlineData("/etc/passwd", "absolute")]
    public void External_data_outside_the_model_folder_is_refused(string location, string why)
    {
        Write("outside.bin", new byte[8]);
        var e = Fails<InvalidModelContentException>(Write(Model(External("w", location)), "m/model.onnx"));
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void External_data_through_a_symbolic_link_out_of_the_folder_is_refused()
    {
        var target = Write("outside.bin", new byte[8]);
        Directory.CreateDirectory(Path.Combine(_dir, "m"));
        File.CreateSymbolicLink(Path.Combine(_dir, "m", "link.bin"), target);
        Assert.Contains("symbolic link", Fails<InvalidModelContentException>(Write(Model(External("w", "link.bin")), "m/model.onnx")).Message);
        Directory.CreateSymbolicLink(Path.Combine(_dir, "m", "dir"), _dir);
        Assert.Contains("symbolic link", Fails<InvalidModelContentException>(Write(Model(External("w", "dir/outside.bin")), "m/model.onnx")).Message);
    }

    [Theory]
    [InlineData(4L, 8L)]
    [InlineData(100L, null)]
    [InlineData(0L, 16L)]
    public void External_ranges_beyond_the_data_file_are_refused(long offset, long? length)
    {
        Write("m/w.bin", new byte[8]);
        var e = Fails<InvalidModelContentException>(Write(Model(External("w", "w.bin", offset, length)), "m/model.onnx"));
        Assert.Contains("runs past the end", e.Message);
    }

    [Fact]
    public void External_data_of_the_wrong_size_and_missing_files_are_refused()
    {
        Write("m/w.bin", new byte[12]);
        Assert.Contains("raw_data", Fails<InvalidModelContentException>(Write(Model(External("w", "w.bin")), "m/model.onnx")).Message);
        Assert.Contains("does not exist", Fails<InvalidModelContentException>(Write(Model(External("w", "nope.bin")), "m/model.onnx")).Message);
        Assert.Contains("non-negative", Fails<InvalidModelContentException>(Write(Model(External("w", "w.bin", -4)), "m/model.onnx")).Message);
    }

    [Fact]
    public void External_data_of_a_model_opened_from_a_stream_is_not_supported()
    {
        using var s = new MemoryStream(Model(External("w", "w.bin")).ToByteArray());
        Assert.IsType<UnsupportedModelFeatureException>(Assert.ThrowsAny<ModelFormatException>(() => ModelFile.Open(s).Dispose()));
    }

    [Fact]
    public void A_bare_tensor_pb_with_bad_sizes_is_refused()
    {
        var t = Floats("x", 1, 2);
        t.Dims[0] = 3;
        Fails<InvalidModelContentException>(Write("input_0.pb", t.ToByteArray()));
        // a .pb that is not a TensorProto is not taken for one
        Assert.ThrowsAny<UnknownModelFormatException>(() => ModelFile.Open(Write("other.pb", [0x12, 0x03, 0x41, 0x42, 0x43])).Dispose());
    }

    [Fact]
    public void A_graph_field_written_twice_is_merged_as_protobuf_merges_it()
    {
        // Protobuf concatenates repeated fields of a message field that appears twice; the raw_data walk follows.
        var first = Model(Floats("a", 1, 2)).ToByteArray();
        var second = new ModelProto { Graph = new GraphProto { Initializer = { Floats("b", 3, 4, 5) } } }.ToByteArray();
        using var m = ModelFile.Open(Write("merged.onnx", [.. first, .. second]));
        Assert.Equal(["a", "b"], m.Tensors.Select(t => t.Name));
        Assert.Equal([1f, 2f], m.Tensors["a"].ToFloat32());
        Assert.Equal([3f, 4f, 5f], m.Tensors["b"].ToFloat32());
        Assert.All(m.Tensors, t => Assert.IsType<MappedStorage>(t.Storage));
    }

    [Fact]
    public void A_model_without_ir_version_first_is_detected_by_its_onnx_name_only()
    {
        var m = Model(Floats("w", 1));
        m.ClearIrVersion();
        var bytes = m.ToByteArray();
        using (var opened = ModelFile.Open(Write("noir.onnx", bytes))) Assert.Equal("onnx", opened.Format.Name);
        Assert.ThrowsAny<UnknownModelFormatException>(() => ModelFile.Open(Write("noir.bin", bytes)).Dispose());
    }

    [Fact]
    public void Tensor_list_attributes_and_graph_list_attributes_are_read()
    {
        var m = Model();
        var node = new NodeProto { OpType = "Custom", Domain = "my.domain", Input = { "x" } };
        node.Attribute.Add(new AttributeProto { Name = "ts", Type = AttributeProto.Types.AttributeType.Tensors, Tensors = { Floats("", 1), Floats("", 2, 3) } });
        var body = new GraphProto { Initializer = { Floats("c", 9) }, Node = { new NodeProto { OpType = "Identity", Input = { "c" } } } };
        node.Attribute.Add(new AttributeProto { Name = "gs", Type = AttributeProto.Types.AttributeType.Graphs, Graphs = { body } });
        node.Attribute.Add(new AttributeProto { Name = "sp", Type = AttributeProto.Types.AttributeType.SparseTensor, SparseTensor = new SparseTensorProto() });
        m.Graph.Node.Add(node);
        using var f = ModelFile.Open(Write(m));
        var module = Assert.Single(f.Modules.Children);
        Assert.Equal("Custom_0", module.Name);
        Assert.Equal("my.domain.Custom", module.QualifiedType);
        Assert.Equal([2f, 3f], f.Tensors["Custom_0/ts/1"].ToFloat32());
        Assert.Same(f.Tensors["Custom_0/ts/0"], module.Parameters["ts.0"]);
        Assert.Equal([9f], f.Tensors["Custom_0/gs/0/c"].ToFloat32());
        Assert.Same(f.Tensors["Custom_0/gs/0/c"], module.Child("gs.0")!.Children[0].Parameters["c"]);
        Assert.IsType<WeightScope.Modules.OpaqueObject>(module.Attributes["sp"]);
    }
}
