using System.Text.Json;
using WeightScope.Formats.Onnx.Proto;
using WeightScope.Tensors;
using WeightScope.Tests.Writing;
using Xunit;
using static WeightScope.Tests.Formats.Onnx.OnnxProtos;

namespace WeightScope.Tests.Formats.Onnx;

/// <summary>
/// Constant nodes whose value is in value_float(s), value_int(s), value_string(s) or sparse_value
/// (tests/fixtures/onnx/constant_values.onnx). onnx 1.12 has no evaluator, so its answer is shape inference's element
/// type and shape for each output and the attribute's values as <c>helper.get_attribute_value</c> returns them.
/// </summary>
public sealed class OnnxConstantValueTests
{
    private static readonly JsonElement Answer = OnnxAnswers.Fixtures.GetProperty("constant_values.onnx").GetProperty("constants");

    public static TheoryData<string> Outputs()
    {
        var d = new TheoryData<string>();
        foreach (var c in Answer.EnumerateObject()) d.Add(c.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(Outputs))]
    public void Each_constant_is_listed_with_the_type_shape_and_values_onnx_gives_its_output(string output)
    {
        using var m = ModelFile.Open(TestPaths.Fixture("onnx", "constant_values.onnx"));
        var a = Answer.GetProperty(output);
        var node = m.Modules.Children[a.GetProperty("node").GetInt32()];
        if (a.TryGetProperty("onnx_refuses", out _))
        {
            // An empty value_floats: onnx's checker and shape inference refuse it; WeightScope lists what it says, no values.
            var empty = m.Tensors[output];
            Assert.Equal(DType.Float32, empty.DType);
            Assert.Equal([0L], empty.Shape.ToArray());
            Assert.Same(empty, node.Parameters["value_floats"]);
            return;
        }
        var shape = a.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        switch (a.GetProperty("dtype").GetString())
        {
            case "STRING":
                var strings = Assert.IsType<List<object?>>(m.Metadata[output]);
                var expected = a.GetProperty("python_value");
                Assert.Equal(expected.ValueKind == JsonValueKind.Array ? expected.EnumerateArray().Select(e => (object?)e.GetString()) : [expected.GetString()], strings);
                Assert.Equal(shape.Length == 0 ? 1 : shape[0], strings.Count);
                break;
            case var _ when a.GetProperty("attribute").GetString() == "sparse_value":
                OnnxAnswers.AssertTensor(a.GetProperty("values"), m.Tensors[output + ".values"], output);
                OnnxAnswers.AssertTensor(a.GetProperty("indices"), m.Tensors[output + ".indices"], output);
                Assert.Equal(a.GetProperty("dense_shape").EnumerateArray().Select(e => (object?)e.GetInt64()), Assert.IsType<List<object?>>(m.Metadata[output + ".dense_shape"]));
                Assert.Equal(shape, a.GetProperty("dense_shape").EnumerateArray().Select(e => e.GetInt64()));
                Assert.Same(m.Tensors[output + ".values"], node.Parameters["sparse_value.values"]);
                break;
            case var dtype:
                var t = m.Tensors[output];
                Assert.Equal(OnnxAnswers.DTypeOf[dtype!], t.DType);
                Assert.Equal(shape, t.Shape.ToArray());
                var v = a.GetProperty("python_value");
                var values = v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().ToList() : [v];
                if (t.DType == DType.Int64) Assert.Equal(values.Select(e => e.GetInt64()), t.ToArray<long>());
                else Assert.Equal(values.Select(e => (float)e.GetDouble()), t.ToArray<float>());
                Assert.Same(t, node.Parameters[a.GetProperty("attribute").GetString()!]);
                break;
        }
    }

    [Fact]
    public void A_value_attribute_without_its_field_is_noted_not_made_up()
    {
        using var dir = new TempDir();
        var m = Model();
        var node = Node("Constant", [], ["f"]);
        node.Attribute.Add(new AttributeProto { Name = "value_float", Type = AttributeProto.Types.AttributeType.Float }); // no field f
        m.Graph.Node.Add(node);
        File.WriteAllBytes(dir.File("m.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(m));
        using var f = ModelFile.Open(dir.File("m.onnx"));
        Assert.Empty(f.Tensors);
        Assert.Contains("node 0 'Constant_0' (Constant): attribute 'value_float' holds no value", Assert.IsType<string>(f.Metadata["unsupported:f"]));
    }
}
