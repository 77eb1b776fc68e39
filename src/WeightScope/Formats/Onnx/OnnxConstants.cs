using WeightScope.Formats.Onnx.Proto;
using static WeightScope.Formats.Onnx.Proto.TensorProto.Types;

namespace WeightScope.Formats.Onnx;

/// <summary>
/// The value of a Constant node, whichever attribute holds it (onnx/defs/generator/defs.cc, Constant-12 and -13):
/// <c>value</c> (a tensor), <c>sparse_value</c>, or a value_* attribute made into the tensor the operator outputs —
/// <c>value_float</c> a float32 scalar, <c>value_floats</c> a 1-D float32 tensor, <c>value_int</c>/<c>value_ints</c>
/// int64, <c>value_string</c>/<c>value_strings</c> strings (onnx's shape inference gives each output that type and shape).
/// </summary>
internal static class OnnxConstants
{
    /// <summary>A dense value as a TensorProto, or a sparse one.</summary>
    internal sealed record Constant(TensorProto? Dense, SparseTensorProto? Sparse);

    /// <summary>The attributes that can hold a Constant's value (exactly one of them, says the operator's definition).</summary>
    public static readonly IReadOnlySet<string> ValueAttributes = new HashSet<string>(StringComparer.Ordinal)
    {
        "value", "sparse_value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings",
    };

    /// <summary>The value <paramref name="a"/> gives a Constant node, or null when it is not a value attribute or holds nothing.</summary>
    public static Constant? Value(AttributeProto a) => a.Name switch
    {
        "value" when a.T is not null => new(a.T, null),
        "sparse_value" when a.SparseTensor is not null => new(null, a.SparseTensor),
        // The singular forms need their field present: an absent one would read as a made-up 0.
        "value_float" when a.HasF => Dense(DataType.Float, null, t => t.FloatData.Add(a.F)),
        "value_floats" => Dense(DataType.Float, a.Floats.Count, t => t.FloatData.Add(a.Floats)),
        "value_int" when a.HasI => Dense(DataType.Int64, null, t => t.Int64Data.Add(a.I)),
        "value_ints" => Dense(DataType.Int64, a.Ints.Count, t => t.Int64Data.Add(a.Ints)),
        "value_string" when a.HasS => Dense(DataType.String, null, t => t.StringData.Add(a.S)),
        "value_strings" => Dense(DataType.String, a.Strings.Count, t => t.StringData.Add(a.Strings)),
        _ => null,
    };

    // length null: a scalar (shape []); otherwise a 1-D tensor of that length.
    private static Constant Dense(DataType type, int? length, Action<TensorProto> fill)
    {
        var t = new TensorProto { DataType = (int)type };
        if (length is { } n) t.Dims.Add(n);
        fill(t);
        return new(t, null);
    }
}
