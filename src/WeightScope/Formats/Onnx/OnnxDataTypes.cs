using WeightScope.Formats.Onnx.Proto;
using WeightScope.Tensors;
using static WeightScope.Formats.Onnx.Proto.TensorProto.Types;

namespace WeightScope.Formats.Onnx;

/// <summary>
/// TensorProto.DataType → element type, and which typed field holds the values when raw_data is absent
/// (onnx.proto's comments on each field; onnx/mapping.py's TENSOR_TYPE_TO_STORAGE_TENSOR_TYPE).
/// </summary>
internal static class OnnxDataTypes
{
    /// <summary>The typed field that stores values of a data type, as onnx.proto assigns them.</summary>
    public enum TypedField { FloatData, Int32Data, Int64Data, DoubleData, Uint64Data, StringData }

    /// <summary>The highest data_type this reader knows by name (INT2, onnx 1.20).</summary>
    public const int LastKnown = (int)DataType.Int2;

    /// <summary>onnx.proto's name for a data type (<c>FLOAT8E8M0</c>), or the number for one no onnx release defines.</summary>
    public static string Name(int dataType) =>
        dataType is >= 0 and <= LastKnown ? ((DataType)dataType).ToString().ToUpperInvariant() : $"data type {dataType} (unknown to this reader)";

    /// <summary>
    /// The element type of a data type stored as itself; null for STRING (values go to Metadata), for the types read
    /// through a wider view (<see cref="OnnxNarrowTypes"/>) and for numbers beyond <see cref="LastKnown"/>.
    /// </summary>
    public static DType? ToDType(int dataType) => (DataType)dataType switch
    {
        DataType.Float => DType.Float32,
        DataType.Uint8 => DType.UInt8,
        DataType.Int8 => DType.Int8,
        DataType.Uint16 => DType.UInt16,
        DataType.Int16 => DType.Int16,
        DataType.Int32 => DType.Int32,
        DataType.Int64 => DType.Int64,
        DataType.Bool => DType.Bool,
        DataType.Float16 => DType.Float16,
        DataType.Double => DType.Float64,
        DataType.Uint32 => DType.UInt32,
        DataType.Uint64 => DType.UInt64,
        DataType.Complex64 => DType.Complex64,
        DataType.Complex128 => DType.Complex128,
        DataType.Bfloat16 => DType.BFloat16,
        DataType.Float8E4M3Fn => DType.Float8E4M3FN,
        DataType.Float8E5M2 => DType.Float8E5M2,
        _ => null,
    };

    /// <summary>Where typed values of <paramref name="dataType"/> live.</summary>
    public static TypedField FieldOf(int dataType) => (DataType)dataType switch
    {
        DataType.Float or DataType.Complex64 => TypedField.FloatData,
        DataType.Int64 => TypedField.Int64Data,
        DataType.Double or DataType.Complex128 => TypedField.DoubleData,
        DataType.Uint32 or DataType.Uint64 => TypedField.Uint64Data,
        DataType.String => TypedField.StringData,
        _ => TypedField.Int32Data, // UINT8, INT8, UINT16, INT16, INT32, BOOL, FLOAT16, BFLOAT16, FLOAT8* (bit patterns), packed 4/2-bit
    };

    /// <summary>How many values a typed field holds.</summary>
    public static int Count(TensorProto t, TypedField field) => field switch
    {
        TypedField.FloatData => t.FloatData.Count,
        TypedField.Int32Data => t.Int32Data.Count,
        TypedField.Int64Data => t.Int64Data.Count,
        TypedField.DoubleData => t.DoubleData.Count,
        TypedField.Uint64Data => t.Uint64Data.Count,
        _ => t.StringData.Count,
    };

    public static string FieldName(TypedField f) => f switch
    {
        TypedField.FloatData => "float_data",
        TypedField.Int32Data => "int32_data",
        TypedField.Int64Data => "int64_data",
        TypedField.DoubleData => "double_data",
        TypedField.Uint64Data => "uint64_data",
        _ => "string_data",
    };
}
