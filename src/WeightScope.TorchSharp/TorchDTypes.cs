using TorchSharp;
using WeightScope.Tensors;

namespace WeightScope.TorchSharp;

/// <summary>WeightScope's element types and TorchSharp's <see cref="torch.ScalarType"/>, and which conversions are exact.</summary>
internal static class TorchDTypes
{
    /// <summary>The TorchSharp type with the same bytes, or null where TorchSharp has none (uint16/32/64, float8, quantized).</summary>
    public static torch.ScalarType? ToScalarType(DType t) => t switch
    {
        DType.Float32 => torch.ScalarType.Float32,
        DType.Float16 => torch.ScalarType.Float16,
        DType.BFloat16 => torch.ScalarType.BFloat16,
        DType.Float64 => torch.ScalarType.Float64,
        DType.Complex64 => torch.ScalarType.ComplexFloat32,
        DType.Complex128 => torch.ScalarType.ComplexFloat64,
        DType.Int8 => torch.ScalarType.Int8,
        DType.UInt8 => torch.ScalarType.Byte,
        DType.Int16 => torch.ScalarType.Int16,
        DType.Int32 => torch.ScalarType.Int32,
        DType.Int64 => torch.ScalarType.Int64,
        DType.Bool => torch.ScalarType.Bool,
        _ => null,
    };

    /// <summary>WeightScope's name for a TorchSharp type.</summary>
    public static DType FromScalarType(torch.ScalarType t) => t switch
    {
        torch.ScalarType.Float32 => DType.Float32,
        torch.ScalarType.Float16 => DType.Float16,
        torch.ScalarType.BFloat16 => DType.BFloat16,
        torch.ScalarType.Float64 => DType.Float64,
        torch.ScalarType.ComplexFloat32 => DType.Complex64,
        torch.ScalarType.ComplexFloat64 => DType.Complex128,
        torch.ScalarType.Int8 => DType.Int8,
        torch.ScalarType.Byte => DType.UInt8,
        torch.ScalarType.Int16 => DType.Int16,
        torch.ScalarType.Int32 => DType.Int32,
        torch.ScalarType.Int64 => DType.Int64,
        torch.ScalarType.Bool => DType.Bool,
        _ => throw new NotSupportedException($"TorchSharp tensors of type {t} (quantized) cannot be viewed as plain values; dequantize them first"),
    };

    /// <summary>torch's name (<c>torch.float32</c>) for messages.</summary>
    public static string Name(torch.ScalarType t) => FromScalarTypeOrNull(t) is { } d ? "torch." + d.Name() : t.ToString();

    private static DType? FromScalarTypeOrNull(torch.ScalarType t)
    {
        try { return FromScalarType(t); }
        catch (NotSupportedException) { return null; }
    }

    // Into an integer or bool: exact when every value of the source's type is one of the target's (int32 into int64,
    // uint8 into int16, bool into any integer).
    private static bool IntegerFits(DType source, torch.ScalarType target)
    {
        var from = Range(source);
        var to = target switch
        {
            torch.ScalarType.Bool => Range(DType.Bool),
            torch.ScalarType.Int8 => Range(DType.Int8),
            torch.ScalarType.Byte => Range(DType.UInt8),
            torch.ScalarType.Int16 => Range(DType.Int16),
            torch.ScalarType.Int32 => Range(DType.Int32),
            torch.ScalarType.Int64 => Range(DType.Int64),
            _ => null,
        };
        return from is { } f && to is { } t && f.Min >= t.Min && f.Max <= t.Max;
    }

    // The values an integer (or bool) type holds; null for floating point, complex and quantized types.
    private static (decimal Min, decimal Max)? Range(DType t) => t switch
    {
        DType.Bool => (0m, 1m),
        DType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        DType.UInt8 => (byte.MinValue, byte.MaxValue),
        DType.Int16 => (short.MinValue, short.MaxValue),
        DType.UInt16 => (ushort.MinValue, ushort.MaxValue),
        DType.Int32 => (int.MinValue, int.MaxValue),
        DType.UInt32 => (uint.MinValue, uint.MaxValue),
        DType.Int64 => (long.MinValue, long.MaxValue),
        DType.UInt64 => (ulong.MinValue, ulong.MaxValue),
        _ => null,
    };

    /// <summary>
    /// True when every value of <paramref name="source"/> is exactly representable in <paramref name="target"/>: a
    /// conversion that is not gets a warning in the load result (float32 into float16, float64 into float32, int64 into
    /// float32…). Quantized and block-quantized values count as their dequantized float32.
    /// </summary>
    public static bool IsExact(DType source, torch.ScalarType target)
    {
        if (ToScalarType(source) == target) return true;
        int targetMantissa = target switch
        {
            torch.ScalarType.Float64 => 53, torch.ScalarType.Float32 => 24, torch.ScalarType.Float16 => 11, torch.ScalarType.BFloat16 => 8,
            torch.ScalarType.ComplexFloat64 => 53, torch.ScalarType.ComplexFloat32 => 24,
            _ => 0,
        };
        if (targetMantissa == 0) return IntegerFits(source, target);
        bool targetComplex = target is torch.ScalarType.ComplexFloat32 or torch.ScalarType.ComplexFloat64;
        if (source.IsComplex() && !targetComplex) return false;
        // Exponent range: float16 holds less than bfloat16/float32; bfloat16 and float32 share float32's.
        int targetExponent = target switch { torch.ScalarType.Float16 => 5, torch.ScalarType.BFloat16 or torch.ScalarType.Float32 or torch.ScalarType.ComplexFloat32 => 8, _ => 11 };
        (int mantissa, int exponent) = source switch
        {
            DType.Float64 or DType.Complex128 => (53, 11),
            DType.Float32 or DType.Complex64 or DType.QInt8 or DType.QUInt8 or DType.QInt32 => (24, 8),
            DType.BFloat16 => (8, 8),
            DType.Float16 => (11, 5),
            DType.Float8E4M3FN => (4, 4),
            DType.Float8E5M2 => (3, 5),
            DType.Bool or DType.Int8 or DType.UInt8 => (8, 0),
            DType.Int16 or DType.UInt16 => (16, 0),
            DType.Int32 or DType.UInt32 => (32, 0),
            _ => (64, 0),
        };
        return mantissa <= targetMantissa && exponent <= targetExponent;
    }
}
