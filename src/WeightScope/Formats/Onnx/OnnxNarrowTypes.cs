using WeightScope.Tensors;
using static WeightScope.Formats.Onnx.Proto.TensorProto.Types;

namespace WeightScope.Formats.Onnx;

/// <summary>
/// ONNX element types with no WeightScope element type of their own, read as the wider view onnx's
/// <c>numpy_helper.to_array</c> gave them before ml_dtypes: the FNUZ float8 variants (onnx 1.14) and FLOAT4E2M1
/// (onnx 1.18) as float32, INT4/UINT4 (onnx 1.16) as int8/uint8. The tensor carries
/// <see cref="QuantizationInfo"/> <c>{ Scheme = Block, BlockType = "onnx-float8e4m3fnuz" | … }</c> naming what is stored.
/// </summary>
/// <remarks>
/// Encodings (onnx.proto and docs/Operators.md's Cast tables):
/// <list type="bullet">
/// <item>FLOAT8E4M3FNUZ: sign, 4 exponent bits (bias 8), 3 mantissa bits; no infinities; 0x80 (the would-be −0) is the only NaN.</item>
/// <item>FLOAT8E5M2FNUZ: sign, 5 exponent bits (bias 16), 2 mantissa bits; no infinities; 0x80 is the only NaN.</item>
/// <item>FLOAT4E2M1: sign, 2 exponent bits (bias 1), 1 mantissa bit: ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}; no NaN or infinity.</item>
/// <item>INT4/UINT4 and FLOAT4E2M1 are packed two per byte, the first element in the 4 low bits, in raw_data, external
/// data and int32_data alike (each int32 holding one packed byte); an odd count leaves the last high nibble unused.</item>
/// </list>
/// </remarks>
internal static class OnnxNarrowTypes
{
    /// <summary>One narrow type: its view, whether two elements share a byte, and how a stored code becomes the view's value.</summary>
    internal sealed record Narrow(string BlockType, DType View, bool Packed);

    public static Narrow? Of(int dataType) => (DataType)dataType switch
    {
        DataType.Float8E4M3Fnuz => new("onnx-float8e4m3fnuz", DType.Float32, false),
        DataType.Float8E5M2Fnuz => new("onnx-float8e5m2fnuz", DType.Float32, false),
        DataType.Float4E2M1 => new("onnx-float4e2m1", DType.Float32, true),
        DataType.Int4 => new("onnx-int4", DType.Int8, true),
        DataType.Uint4 => new("onnx-uint4", DType.UInt8, true),
        _ => null,
    };

    /// <summary>Stored bytes for <paramref name="elements"/> elements.</summary>
    public static long StoredBytes(Narrow n, long elements) => n.Packed ? elements / 2 + elements % 2 : elements;

    /// <summary>The view's little-endian bytes for the stored codes.</summary>
    public static byte[] Expand(Narrow n, ReadOnlySpan<byte> stored, long elements)
    {
        var result = new byte[checked(elements * n.View.ItemSize())];
        var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(result.AsSpan());
        for (long i = 0; i < elements; i++)
        {
            int code = n.Packed ? (stored[(int)(i / 2)] >> (i % 2 == 0 ? 0 : 4)) & 0xF : stored[(int)i];
            switch (n.BlockType)
            {
                case "onnx-float8e4m3fnuz": floats[(int)i] = Float8Fnuz(code, exponentBits: 4, mantissaBits: 3, bias: 8); break;
                case "onnx-float8e5m2fnuz": floats[(int)i] = Float8Fnuz(code, exponentBits: 5, mantissaBits: 2, bias: 16); break;
                case "onnx-float4e2m1": floats[(int)i] = Float4E2M1(code); break;
                case "onnx-int4": result[i] = unchecked((byte)(sbyte)((code ^ 8) - 8)); break; // sign-extend the nibble
                default: result[i] = (byte)code; break;
            }
        }
        return result;
    }

    // Finite-only float8 with unsigned zero: 0x80 is NaN; exponent field 0 is subnormal.
    internal static float Float8Fnuz(int code, int exponentBits, int mantissaBits, int bias)
    {
        if (code == 0x80) return float.NaN;
        int sign = code >> 7;
        int exponent = (code >> mantissaBits) & ((1 << exponentBits) - 1);
        int mantissa = code & ((1 << mantissaBits) - 1);
        float magnitude = exponent == 0
            ? MathF.ScaleB(mantissa, 1 - bias - mantissaBits)
            : MathF.ScaleB((1 << mantissaBits) + mantissa, exponent - bias - mantissaBits);
        return sign == 1 ? -magnitude : magnitude;
    }

    internal static float Float4E2M1(int code)
    {
        int exponent = (code >> 1) & 3, mantissa = code & 1;
        float magnitude = exponent == 0 ? mantissa * 0.5f : MathF.ScaleB(2 + mantissa, exponent - 2);
        return (code & 8) != 0 ? -magnitude : magnitude;
    }
}
