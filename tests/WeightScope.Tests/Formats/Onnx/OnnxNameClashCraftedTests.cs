using System.Diagnostics;
using Google.Protobuf;
using WeightScope.Formats.Onnx.Proto;
using WeightScope.Tests.Writing;
using Xunit;
using static WeightScope.Tests.Formats.Onnx.OnnxProtos;

namespace WeightScope.Tests.Formats.Onnx;

/// <summary>
/// Name clashes onnx 1.12's helper does not make in the fixtures, built field by field: sparse values, string
/// values beside model fields, tensor attributes, a name repeated thousands of times, nested subgraphs. Each is read,
/// listed under a unique name, and noted.
/// </summary>
public sealed class OnnxNameClashCraftedTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private ModelFile Open(ModelProto m)
    {
        var path = _dir.File($"m{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, m.ToByteArray());
        return ModelFile.Open(path);
    }

    private static SparseTensorProto Sparse(string name, float value, long index)
    {
        var indices = new TensorProto { Name = name + "_i", DataType = (int)TensorProto.Types.DataType.Int64 };
        indices.Dims.Add(1);
        indices.Int64Data.Add(index);
        var s = new SparseTensorProto { Values = Floats(name, value), Indices = indices };
        s.Dims.Add(4);
        return s;
    }

    [Fact]
    public void A_sparse_initializer_named_like_a_dense_one_is_listed_under_a_suffix_onnxruntime_s_pick_noted()
    {
        var m = Model(Floats("sp", 1));
        m.Graph.SparseInitializer.Add(Sparse("sp", 2, 3));
        m.Graph.Node.Add(Node("Neg", ["sp"], ["y"], "neg"));
        using var f = Open(m);
        Assert.Equal([1f], f.Tensors["sp"].ToFloat32());
        Assert.Equal([2f], f.Tensors["sp~2.values"].ToFloat32());
        Assert.Equal([3L], f.Tensors["sp~2.indices"].ToArray<long>());
        Assert.Equal(new List<object?> { 4L }, f.Metadata["sp~2.dense_shape"]);
        // the sparse definition is the graph's latest: it is no single tensor, so neg has no parameter for it
        Assert.Empty(f.Modules.Child("neg")!.Parameters);
        var note = Assert.IsType<string>(f.Metadata["name_clash:sp"]);
        Assert.Contains("initializer 0 → 'sp'; sparse initializer 0 → 'sp~2.values' and 'sp~2.indices'", note);
        // onnxruntime densifies sparse initializers after the others, so the sparse one wins there
        Assert.Contains("gives every node the value of sparse initializer 0", note);
    }

    [Fact]
    public void Two_sparse_values_with_one_name_are_both_listed_and_onnxruntime_s_refusal_noted()
    {
        var m = Model();
        m.Graph.SparseInitializer.Add(Sparse("sp", 1, 0));
        var node = Node("Constant", [], ["sp"]);
        node.Attribute.Add(new AttributeProto { Name = "sparse_value", Type = AttributeProto.Types.AttributeType.SparseTensor, SparseTensor = Sparse("v", 5, 2) });
        m.Graph.Node.Add(node);
        using var f = Open(m);
        Assert.Equal([1f], f.Tensors["sp.values"].ToFloat32());
        Assert.Equal([5f], f.Tensors["sp~2.values"].ToFloat32());
        Assert.Same(f.Tensors["sp~2.indices"], f.Modules.Children[0].Parameters["sparse_value.indices"]);
        Assert.Contains("onnxruntime refuses the model (a duplicate sparse initializer)", Assert.IsType<string>(f.Metadata["name_clash:sp"]));
    }

    [Fact]
    public void A_string_value_named_like_a_model_field_keeps_both()
    {
        var m = Model();
        m.MetadataProps.Add(new StringStringEntryProto { Key = "author", Value = "someone" });
        var s = new TensorProto { DataType = (int)TensorProto.Types.DataType.String };
        s.Dims.Add(1);
        s.StringData.Add(ByteString.CopyFromUtf8("text"));
        m.Graph.Node.Add(Constant("author", s));
        using var f = Open(m);
        Assert.Equal("someone", f.Metadata["author"]);
        Assert.Equal(new List<object?> { "text" }, f.Metadata["author~2"]);
        Assert.Equal("'author' already names a model field in Metadata, so node 0 'Constant_0' (Constant) is listed as 'author~2'.",
            f.Metadata["name_clash:author"]);
    }

    [Fact]
    public void A_tensor_attribute_whose_name_an_initializer_has_is_listed_under_a_suffix()
    {
        var m = Model(Floats("fill/value", 1));
        var node = Node("ConstantOfShape", ["shape"], ["y"], "fill");
        node.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = Floats("", 7) });
        m.Graph.Node.Add(node);
        using var f = Open(m);
        Assert.Equal([1f], f.Tensors["fill/value"].ToFloat32());
        Assert.Same(f.Tensors["fill/value~2"], f.Modules.Child("fill")!.Parameters["value"]);
        Assert.Equal([7f], f.Tensors["fill/value~2"].ToFloat32());
        Assert.Equal("'fill/value' already names initializer 0, so attribute 'value' of node 0 'fill' (ConstantOfShape) is listed as 'fill/value~2'.",
            f.Metadata["name_clash:fill/value"]);
    }

    [Fact]
    public void A_name_repeated_thousands_of_times_is_listed_in_order_without_taking_a_name_the_graph_uses()
    {
        const int repeats = 20_000;
        var m = Model();
        for (int i = 0; i < repeats; i++) m.Graph.Node.Add(Constant("c", Floats("", i)));
        m.Graph.Node.Add(Node("Relu", ["c"], ["c~3"], "relu")); // a later node output the suffixes must not take
        var clock = Stopwatch.StartNew();
        using var f = Open(m);
        clock.Stop();
        Assert.Equal(repeats, f.Tensors.Count);
        Assert.Equal([0f], f.Tensors["c"].ToFloat32());
        Assert.Equal([1f], f.Tensors["c~2"].ToFloat32());
        Assert.False(f.Tensors.Contains("c~3"));
        Assert.Equal([2f], f.Tensors["c~4"].ToFloat32());
        Assert.Equal([repeats - 1f], f.Tensors[$"c~{repeats + 1}"].ToFloat32());
        Assert.Contains($"is defined {repeats} times", Assert.IsType<string>(f.Metadata["name_clash:c"]));
        // one counter per name: linear, not a scan from ~2 for every repeat (quadratic: minutes)
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    [Fact]
    public void A_node_in_a_nested_subgraph_reads_the_nearest_enclosing_definition()
    {
        var inner = new GraphProto { Name = "inner" };
        inner.Node.Add(Node("Identity", ["z"], ["o"], "read_z"));
        var outerIf = Node("If", ["cond"], ["r"], "inner_if");
        outerIf.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = inner });
        var middle = new GraphProto { Name = "middle", Initializer = { Floats("z", 2) } };
        middle.Node.Add(outerIf);
        var top = Node("If", ["cond"], ["r0"], "outer_if");
        top.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = middle });
        var m = Model(Floats("z", 1));
        m.Graph.Node.Add(top);
        using var f = Open(m);
        var read = f.Modules.Child("outer_if")!.Child("then_branch")!.Child("inner_if")!.Child("then_branch")!.Child("read_z")!;
        Assert.Same(f.Tensors["outer_if/then_branch/z"], read.Parameters["z"]);
        Assert.Contains("shadows 'z' of the main graph", Assert.IsType<string>(f.Metadata["name_clash:outer_if/then_branch/z"]));
    }
}
