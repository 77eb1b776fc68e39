using Google.Protobuf;
using WeightScope.Formats.Onnx.Proto;

namespace WeightScope.Tests.Formats.Onnx;

/// <summary>ONNX messages built field by field with the generated onnx.proto types, for crafted-input tests.</summary>
internal static class OnnxProtos
{
    /// <summary>A model (IR 8, opset 13) whose graph holds <paramref name="initializers"/>.</summary>
    public static ModelProto Model(params TensorProto[] initializers)
    {
        var g = new GraphProto { Name = "g" };
        g.Initializer.AddRange(initializers);
        var m = new ModelProto { IrVersion = 8, ProducerName = "crafted", Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return m;
    }

    /// <summary>A 1-D FLOAT tensor in raw_data.</summary>
    public static TensorProto Floats(string name, params float[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.Add(values.Length);
        t.RawData = ByteString.CopyFrom(values.SelectMany(BitConverter.GetBytes).ToArray());
        return t;
    }

    /// <summary>A node; <paramref name="name"/> empty as exporters often leave it.</summary>
    public static NodeProto Node(string opType, string[] inputs, string[] outputs, string name = "")
    {
        var n = new NodeProto { OpType = opType, Name = name };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        return n;
    }

    /// <summary>A Constant node whose <c>value</c> is <paramref name="value"/>.</summary>
    public static NodeProto Constant(string output, TensorProto value)
    {
        var n = Node("Constant", [], [output]);
        n.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = value });
        return n;
    }
}
