using WeightScope.Formats.TensorFlow.Proto;
using WeightScope.Tensors;

namespace WeightScope.Formats.TensorFlow.Bundle;

/// <summary>TensorFlow's <c>DataType</c> (<c>types.proto</c>) → <see cref="DType"/>.</summary>
internal static class TfDataType
{
    /// <summary><c>DT_FLOAT_REF</c> etc.: reference types are the value types plus 100 (never saved, but named here).</summary>
    private const int RefOffset = 100;

    /// <summary>The element type of a numeric tensor; null for types with no fixed-size element (string, variant,
    /// resource) or no WeightScope equivalent (qint16, quint16).</summary>
    public static DType? ToDType(DataType t) => t switch
    {
        DataType.DtFloat => DType.Float32,
        DataType.DtDouble => DType.Float64,
        DataType.DtHalf => DType.Float16,
        DataType.DtBfloat16 => DType.BFloat16,
        DataType.DtInt8 => DType.Int8,
        DataType.DtInt16 => DType.Int16,
        DataType.DtInt32 => DType.Int32,
        DataType.DtInt64 => DType.Int64,
        DataType.DtUint8 => DType.UInt8,
        DataType.DtUint16 => DType.UInt16,
        DataType.DtUint32 => DType.UInt32,
        DataType.DtUint64 => DType.UInt64,
        DataType.DtBool => DType.Bool,
        DataType.DtComplex64 => DType.Complex64,
        DataType.DtComplex128 => DType.Complex128,
        DataType.DtFloat8E5M2 => DType.Float8E5M2,
        DataType.DtFloat8E4M3Fn => DType.Float8E4M3FN,
        _ => null,
    };

    /// <summary>True for a value <c>types.proto</c> defines (any defined type, ref types excluded).</summary>
    public static bool IsDefined(DataType t) => Enum.IsDefined(t) && t != DataType.DtInvalid;

    /// <summary>TensorFlow's name (<c>float32</c>, <c>qint16</c>) for messages.</summary>
    public static string Name(DataType t) => (int)t > RefOffset ? $"{Name((DataType)((int)t - RefOffset))}_ref" : t switch
    {
        DataType.DtFloat => "float32",
        DataType.DtDouble => "float64",
        DataType.DtHalf => "float16",
        _ => t.ToString().Replace("Dt", "", StringComparison.Ordinal).ToLowerInvariant(),
    };
}
