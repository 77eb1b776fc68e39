namespace WeightScope.Tensors;

/// <summary>Element types, named as PyTorch names them (<c>torch.float32</c> → <see cref="Float32"/>).</summary>
public enum DType
{
    /// <summary>IEEE 754 binary32.</summary>
    Float32,
    /// <summary>IEEE 754 binary16.</summary>
    Float16,
    /// <summary>Brain float: the upper 16 bits of a float32.</summary>
    BFloat16,
    /// <summary>IEEE 754 binary64.</summary>
    Float64,
    /// <summary>8-bit float, 4 exponent bits, 3 mantissa bits, finite only (NaN = S.1111.111).</summary>
    Float8E4M3FN,
    /// <summary>8-bit float, 5 exponent bits, 2 mantissa bits, IEEE-like with infinities.</summary>
    Float8E5M2,
    /// <summary>Two float32: real, imaginary.</summary>
    Complex64,
    /// <summary>Two float64: real, imaginary.</summary>
    Complex128,
    /// <summary>Signed 8-bit integer.</summary>
    Int8,
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8,
    /// <summary>Signed 16-bit integer.</summary>
    Int16,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16,
    /// <summary>Signed 32-bit integer.</summary>
    Int32,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32,
    /// <summary>Signed 64-bit integer.</summary>
    Int64,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64,
    /// <summary>One byte, 0 or 1.</summary>
    Bool,
    /// <summary>Quantized signed 8-bit (value = (q − zero_point) × scale).</summary>
    QInt8,
    /// <summary>Quantized unsigned 8-bit.</summary>
    QUInt8,
    /// <summary>Quantized signed 32-bit.</summary>
    QInt32,
}

/// <summary>Facts about each <see cref="DType"/>: size, name, kind.</summary>
public static class DTypes
{
    /// <summary>Bytes per element.</summary>
    public static int ItemSize(this DType t) => t switch
    {
        DType.Float64 or DType.Int64 or DType.UInt64 or DType.Complex64 => 8,
        DType.Complex128 => 16,
        DType.Float32 or DType.Int32 or DType.UInt32 or DType.QInt32 => 4,
        DType.Float16 or DType.BFloat16 or DType.Int16 or DType.UInt16 => 2,
        _ => 1,
    };

    /// <summary>PyTorch's name for the type, without the <c>torch.</c> prefix (<c>float32</c>, <c>float8_e4m3fn</c>…).</summary>
    public static string Name(this DType t) => t switch
    {
        DType.Float32 => "float32",
        DType.Float16 => "float16",
        DType.BFloat16 => "bfloat16",
        DType.Float64 => "float64",
        DType.Float8E4M3FN => "float8_e4m3fn",
        DType.Float8E5M2 => "float8_e5m2",
        DType.Complex64 => "complex64",
        DType.Complex128 => "complex128",
        DType.Int8 => "int8",
        DType.UInt8 => "uint8",
        DType.Int16 => "int16",
        DType.UInt16 => "uint16",
        DType.Int32 => "int32",
        DType.UInt32 => "uint32",
        DType.Int64 => "int64",
        DType.UInt64 => "uint64",
        DType.Bool => "bool",
        DType.QInt8 => "qint8",
        DType.QUInt8 => "quint8",
        DType.QInt32 => "qint32",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>Parses a PyTorch dtype name (with or without <c>torch.</c>; aliases such as <c>float</c>, <c>half</c>, <c>long</c> accepted).</summary>
    public static bool TryParse(string name, out DType type)
    {
        var n = name.StartsWith("torch.", StringComparison.Ordinal) ? name[6..] : name;
        DType? t = n switch
        {
            "float32" or "float" => DType.Float32,
            "float16" or "half" => DType.Float16,
            "bfloat16" => DType.BFloat16,
            "float64" or "double" => DType.Float64,
            "float8_e4m3fn" => DType.Float8E4M3FN,
            "float8_e5m2" => DType.Float8E5M2,
            "complex64" or "cfloat" => DType.Complex64,
            "complex128" or "cdouble" => DType.Complex128,
            "int8" => DType.Int8,
            "uint8" => DType.UInt8,
            "int16" or "short" => DType.Int16,
            "uint16" => DType.UInt16,
            "int32" or "int" => DType.Int32,
            "uint32" => DType.UInt32,
            "int64" or "long" => DType.Int64,
            "uint64" => DType.UInt64,
            "bool" => DType.Bool,
            "qint8" => DType.QInt8,
            "quint8" => DType.QUInt8,
            "qint32" => DType.QInt32,
            _ => null,
        };
        type = t.GetValueOrDefault();
        return t.HasValue;
    }

    /// <summary>True for the real floating-point types.</summary>
    public static bool IsFloatingPoint(this DType t) => t is DType.Float32 or DType.Float16 or DType.BFloat16 or DType.Float64
        or DType.Float8E4M3FN or DType.Float8E5M2;

    /// <summary>True for complex types.</summary>
    public static bool IsComplex(this DType t) => t is DType.Complex64 or DType.Complex128;

    /// <summary>True for quantized integer types (their values mean (q − zero_point) × scale).</summary>
    public static bool IsQuantized(this DType t) => t is DType.QInt8 or DType.QUInt8 or DType.QInt32;

    /// <summary>True for the signed and unsigned plain integer types (not bool, not quantized).</summary>
    public static bool IsInteger(this DType t) => t is DType.Int8 or DType.UInt8 or DType.Int16 or DType.UInt16 or DType.Int32
        or DType.UInt32 or DType.Int64 or DType.UInt64;
}
