using WeightScope.Tensors;
using static WeightScope.Formats.Onnx.Proto.TensorProto.Types;

namespace WeightScope.Formats.Onnx;

/// <summary>
/// ONNX element types with no WeightScope element type of their own, read as the wider view onnx's
/// <c>numpy_helper.to_array</c> gives them without ml_dtypes: the FNUZ float8 variants (onnx 1.14), FLOAT4E2M1 (1.18) and
/// FLOAT8E8M0 (1.19) as float32, INT4/UINT4 (1.16) and INT2/UINT2 (1.20) as int8/uint8. Every stored value has an exact
/// float32 or 8-bit integer value. The tensor carries <see cref="QuantizationInfo"/>
/// <c>{ Scheme = Block, BlockType = "onnx-float8e4m3fnuz" | … }</c> naming what is stored.
/// </summary>
/// <remarks>
/// Encodings (onnx.proto, docs/Operators.md's Cast tables, onnx main's numpy_helper):
/// <list type="bullet">
/// <item>FLOAT8E4M3FNUZ: sign, 4 exponent bits (bias 8), 3 mantissa bits; no infinities; 0x80 (the would-be −0) is the only NaN.</item>
/// <item>FLOAT8E5M2FNUZ: sign, 5 exponent bits (bias 16), 2 mantissa bits; no infinities; 0x80 is the only NaN.</item>
/// <item>FLOAT4E2M1: sign, 2 exponent bits (bias 1), 1 mantissa bit: ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}; no NaN or infinity.</item>
/// <item>FLOAT8E8M0 (ml_dtypes <c>float8_e8m0fnu</c>, the OCP MX scale): 8 exponent bits, bias 127, no sign, no
/// mantissa, no zero: 2^(code − 127); 0xFF is NaN.</item>
/// <item>INT4/UINT4 and FLOAT4E2M1 are packed two per byte, INT2/UINT2 four per byte, the first element in the low bits,
/// in raw_data, external data and int32_data alike (each int32 holding one packed byte); the unused high bits of the
/// last byte are padding.</item>
/// </list>
/// </remarks>
internal static class OnnxNarrowTypes
{
    /// <summary>How a stored code becomes the view's value.</summary>
    internal enum Decoding { Float8E4M3Fnuz, Float8E5M2Fnuz, Float4E2M1, Float8E8M0, Signed, Unsigned }

    /// <summary>One narrow type: its view, how many bits each element takes, and how a code is decoded.</summary>
    internal sealed record Narrow(string BlockType, DType View, int Bits, Decoding Decoding)
    {
        /// <summary>Elements sharing one stored byte.</summary>
        public int PerByte => 8 / Bits;
    }

    public static Narrow? Of(int dataType) => (DataType)dataType switch
    {
        DataType.Float8E4M3Fnuz => new("onnx-float8e4m3fnuz", DType.Float32, 8, Decoding.Float8E4M3Fnuz),
        DataType.Float8E5M2Fnuz => new("onnx-float8e5m2fnuz", DType.Float32, 8, Decoding.Float8E5M2Fnuz),
        DataType.Float4E2M1 => new("onnx-float4e2m1", DType.Float32, 4, Decoding.Float4E2M1),
        DataType.Float8E8M0 => new("onnx-float8e8m0", DType.Float32, 8, Decoding.Float8E8M0),
        DataType.Int4 => new("onnx-int4", DType.Int8, 4, Decoding.Signed),
        DataType.Uint4 => new("onnx-uint4", DType.UInt8, 4, Decoding.Unsigned),
        DataType.Int2 => new("onnx-int2", DType.Int8, 2, Decoding.Signed),
        DataType.Uint2 => new("onnx-uint2", DType.UInt8, 2, Decoding.Unsigned),
        _ => null,
    };

    /// <summary>Stored bytes for <paramref name="elements"/> elements.</summary>
    public static long StoredBytes(Narrow n, long elements) => elements / n.PerByte + (elements % n.PerByte == 0 ? 0 : 1);

    /// <summary>The view's little-endian bytes for the stored codes.</summary>
    public static byte[] Expand(Narrow n, ReadOnlySpan<byte> stored, long elements)
    {
        var result = new byte[checked(elements * n.View.ItemSize())];
        var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(result.AsSpan());
        int per = n.PerByte, mask = (1 << n.Bits) - 1, signBit = 1 << (n.Bits - 1);
        for (long i = 0; i < elements; i++)
        {
            int code = (stored[(int)(i / per)] >> (int)(i % per * n.Bits)) & mask;
            switch (n.Decoding)
            {
                case Decoding.Float8E4M3Fnuz: floats[(int)i] = Float8Fnuz(code, exponentBits: 4, mantissaBits: 3, bias: 8); break;
                case Decoding.Float8E5M2Fnuz: floats[(int)i] = Float8Fnuz(code, exponentBits: 5, mantissaBits: 2, bias: 16); break;
                case Decoding.Float4E2M1: floats[(int)i] = Float4E2M1(code); break;
                case Decoding.Float8E8M0: floats[(int)i] = Float8E8M0(code); break;
                case Decoding.Signed: result[i] = unchecked((byte)(sbyte)((code ^ signBit) - signBit)); break; // sign-extend
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

    // 2^(code − 127): from 2^-127 (a float32 subnormal, exact) to 2^127; 0xFF is the only NaN.
    internal static float Float8E8M0(int code) => code == 0xFF ? float.NaN : MathF.ScaleB(1f, code - 127);
}
