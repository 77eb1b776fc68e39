using System.Text.Json;
using WeightScope.Modules;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.Onnx;

/// <summary>
/// Files written by onnx 1.12 (tests/fixtures/generate/onnx_fixtures.py): every tensor matches what
/// <c>numpy_helper.to_array</c> returned for it, in raw_data, typed-field, external, sparse, Constant and subgraph form.
/// </summary>
public sealed class OnnxFixtureTests
{
    public static TheoryData<string> Models() => ["dtypes_raw.onnx", "dtypes_typed.onnx", "external.onnx", "sparse.onnx", "tiny_graph.onnx"];

    private static ModelFile Open(string name) => ModelFile.Open(TestPaths.Fixture("onnx", name));

    [Theory]
    [MemberData(nameof(Models))]
    public void Every_tensor_is_what_onnx_to_array_returns(string file)
    {
        var answer = OnnxAnswers.Fixtures.GetProperty(file);
        using var m = Open(file);
        Assert.Equal("onnx", m.Format.Name);
        Assert.Equal($"ir {answer.GetProperty("ir_version").GetInt64()}", m.Format.Version);
        Assert.Equal($"{answer.GetProperty("producer_name").GetString()} {answer.GetProperty("producer_version").GetString()}", m.Format.Producer);
        var expectedNames = new List<string>();
        foreach (var t in answer.GetProperty("tensors").EnumerateObject())
        {
            if (t.Value.GetProperty("dtype").GetString() == "STRING")
            {
                var strings = Assert.IsType<List<object?>>(m.Metadata[t.Name]);
                Assert.Equal(t.Value.GetProperty("values").EnumerateArray().Select(v => (object?)v.GetString()), strings);
                continue;
            }
            expectedNames.Add(t.Name);
            OnnxAnswers.AssertTensor(t.Value, m.Tensors[t.Name], $"{file}:{t.Name}");
        }
        if (answer.TryGetProperty("subgraph_tensors", out var sub))
            foreach (var t in sub.EnumerateObject())
            {
                expectedNames.Add(t.Name);
                OnnxAnswers.AssertTensor(t.Value, m.Tensors[t.Name], $"{file}:{t.Name}");
            }
        Assert.Equal(expectedNames.Order(StringComparer.Ordinal), m.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Model_fields_and_metadata_props_go_to_metadata()
    {
        using var m = Open("dtypes_raw.onnx");
        var answer = OnnxAnswers.Fixtures.GetProperty("dtypes_raw.onnx");
        Assert.Equal(answer.GetProperty("ir_version").GetInt64(), m.Metadata["ir_version"]);
        var opsets = Assert.IsType<OrderedDictionary<string, object?>>(m.Metadata["opset_import"]);
        foreach (var o in answer.GetProperty("opset_import").EnumerateObject()) Assert.Equal(o.Value.GetInt64(), opsets[o.Name]);
        Assert.Equal(7L, m.Metadata["model_version"]);
        Assert.Equal("every dtype, raw", m.Metadata["doc_string"]);
        Assert.Equal(answer.GetProperty("metadata_props").GetProperty("author").GetString(), m.Metadata["author"]);
        // a metadata_props key that clashes with a model field keeps both
        Assert.Equal("clash", m.Metadata["metadata_props/ir_version"]);
    }

    [Fact]
    public void Raw_data_is_read_from_the_mapped_file_without_a_copy()
    {
        using var m = Open("dtypes_raw.onnx");
        Assert.All(m.Tensors.Where(t => t.ByteSize > 0 && t.Name != "bf16"), t => Assert.IsType<MappedStorage>(t.Storage));
        using var typed = Open("dtypes_typed.onnx");
        Assert.All(typed.Tensors, t => Assert.IsType<ArrayStorage>(t.Storage));
    }

    [Fact]
    public void Bool_in_int32_data_is_true_for_every_non_zero_value_as_numpy_reads_it()
    {
        using var m = Open("dtypes_typed.onnx");
        Assert.Equal([0, 1, 1], m.Tensors["b_odd"].ReadBytes());
    }

    [Fact]
    public void External_data_is_mapped_from_the_data_file_which_is_listed_as_a_source()
    {
        using var m = Open("external.onnx");
        Assert.All(m.Tensors, t => Assert.IsType<MappedStorage>(t.Storage));
        Assert.Contains(Path.GetFullPath(TestPaths.Fixture("onnx", "external.onnx.data")), m.SourceFiles);
    }

    [Fact]
    public void Sparse_initializers_are_values_and_indices_with_the_dense_shape_in_metadata()
    {
        using var m = Open("sparse.onnx");
        Assert.Equal(new List<object?> { 3L, 4L }, m.Metadata["sp.dense_shape"]);
        Assert.Equal([1.5f, -2.0f, 7.25f], m.Tensors["sp.values"].ToFloat32());
        Assert.Equal([1L, 6L, 11L], m.Tensors["sp.indices"].ToArray<long>());
        Assert.Equal([2L, 2L], m.Tensors["sp2.indices"].Shape.ToArray());
    }

    [Fact]
    public void The_module_tree_has_one_node_per_graph_node_with_the_tensors_it_reads()
    {
        using var m = Open("tiny_graph.onnx");
        var answer = OnnxAnswers.Fixtures.GetProperty("tiny_graph.onnx");
        var nodes = answer.GetProperty("nodes").EnumerateArray().ToList();
        Assert.True(m.HasModuleTypes);
        Assert.Equal(nodes.Count, m.Modules.Children.Count);
        for (int i = 0; i < nodes.Count; i++)
        {
            var op = nodes[i].GetProperty("op_type").GetString();
            var name = nodes[i].GetProperty("name").GetString()!;
            Assert.Equal(op, m.Modules.Children[i].Type);
            Assert.Equal(name.Length > 0 ? name : $"{op}_{i}", m.Modules.Children[i].Name);
        }
        var fc1 = m.Modules.Child("fc1")!;
        var fc2 = m.Modules.Child("fc2")!;
        Assert.Equal(["fc1.weight", "shared.bias"], fc1.Parameters.Keys);
        // one initializer read by two nodes is the same entry under each
        Assert.Same(fc1.Parameters["shared.bias"], fc2.Parameters["shared.bias"]);
        Assert.Same(m.Tensors["shared.bias"], fc1.Parameters["shared.bias"]);
        Assert.Same(m.Tensors["fc1.weight"], m.Modules.Child("conv")!.Parameters["fc1.weight"]);
        // the Constant's value is named by its output, and is what Mul reads
        Assert.Same(m.Tensors["scale"], m.Modules.Child("mul")!.Parameters["scale"]);
        Assert.Same(m.Tensors["scale"], m.Modules.Child("Constant_3")!.Parameters["value"]);

        var attrs = answer.GetProperty("attributes");
        Assert.Equal(attrs.GetProperty("fc1").GetProperty("transB").GetInt64(), fc1.Attributes["transB"]);
        Assert.Equal(attrs.GetProperty("fc1").GetProperty("alpha").GetDouble(), fc1.Attributes["alpha"]);
        var conv = m.Modules.Child("conv")!;
        Assert.Equal(attrs.GetProperty("conv").GetProperty("kernel_shape").EnumerateArray().Select(e => (object?)e.GetInt64()), Assert.IsType<List<object?>>(conv.Attributes["kernel_shape"]));
        Assert.Equal(attrs.GetProperty("conv").GetProperty("auto_pad").GetString(), conv.Attributes["auto_pad"]);

        // If's branches are children holding their own nodes and initializers
        var branch = m.Modules.Child("branch")!;
        // (onnx.helper.make_node writes attributes sorted by name)
        Assert.Equal(["else_branch", "then_branch"], branch.Children.Select(c => c.Name));
        var thenNode = Assert.Single(branch.Child("then_branch")!.Children);
        Assert.Equal("Identity", thenNode.Type);
        Assert.Same(m.Tensors["branch/then_branch/then_c"], thenNode.Parameters["then_c"]);
    }

    [Theory]
    [InlineData("input_0.pb", "x")]
    [InlineData("output_0.pb", "output_0")]
    public void A_bare_TensorProto_file_is_one_tensor(string file, string name)
    {
        var answer = OnnxAnswers.Fixtures.GetProperty(file);
        using var m = Open(file);
        Assert.Equal("onnx-tensor", m.Format.Name);
        var t = Assert.Single(m.Tensors);
        Assert.Equal(name, t.Name);
        OnnxAnswers.AssertTensor(answer.GetProperty("tensor"), t, file);
        Assert.IsType<MappedStorage>(t.Storage);
    }

    [Fact]
    public void A_bare_string_TensorProto_goes_to_metadata()
    {
        var answer = OnnxAnswers.Fixtures.GetProperty("strings_0.pb").GetProperty("tensor");
        using var m = Open("strings_0.pb");
        Assert.Empty(m.Tensors);
        Assert.Equal(answer.GetProperty("values").EnumerateArray().Select(v => (object?)v.GetString()), Assert.IsType<List<object?>>(m.Metadata["s"]));
    }

    [Fact]
    public void Float8_types_map_to_the_float8_dtypes_with_their_bytes()
    {
        var answer = OnnxAnswers.Fixtures.GetProperty("float8.onnx").GetProperty("raw_bytes");
        using var m = Open("float8.onnx");
        Assert.Equal(DType.Float8E4M3FN, m.Tensors["f8e4m3"].DType);
        Assert.Equal(DType.Float8E5M2, m.Tensors["f8e5m2"].DType);
        Assert.Equal(answer.GetProperty("f8e4m3").GetString(), Convert.ToHexStringLower(m.Tensors["f8e4m3"].ReadBytes()));
        Assert.Equal(answer.GetProperty("f8e5m2").GetString(), Convert.ToHexStringLower(m.Tensors["f8e5m2"].ReadBytes()));
        Assert.Equal([1f, -1f], m.Tensors["f8e4m3"].ToFloat32()[..2]);
    }
}
