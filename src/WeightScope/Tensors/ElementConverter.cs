using System.Buffers.Binary;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace WeightScope.Tensors;

/// <summary>Converts stored elements of any dtype to float32/float64; the one place that knows every element encoding.</summary>
public static class ElementConverter
{
    /// <summary>The .NET type whose layout equals one element, or null when .NET has none (bfloat16, float8, complex64).</summary>
    public static Type? NaturalType(DType t) => t switch
    {
        DType.Float32 => typeof(float),
        DType.Float16 => typeof(Half),
        DType.Float64 => typeof(double),
        DType.Complex128 => typeof(Complex),
        DType.Int8 or DType.QInt8 => typeof(sbyte),
        DType.UInt8 or DType.QUInt8 => typeof(byte),
        DType.Int16 => typeof(short),
        DType.UInt16 => typeof(ushort),
        DType.Int32 or DType.QInt32 => typeof(int),
        DType.UInt32 => typeof(uint),
        DType.Int64 => typeof(long),
        DType.UInt64 => typeof(ulong),
        DType.Bool => typeof(bool),
        _ => null,
    };

    /// <summary>Integer types accepted as raw bits of any same-size element.</summary>
    public static bool IsRawType(Type t) => t == typeof(byte) || t == typeof(sbyte) || t == typeof(ushort) || t == typeof(short)
        || t == typeof(uint) || t == typeof(int) || t == typeof(ulong) || t == typeof(long);

    /// <summary>bfloat16 bits → float32 (exact: bfloat16 is the upper half of a float32).</summary>
    public static float BFloat16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>float8_e4m3fn bits → float32: bias 7, no infinities, S.1111.111 is NaN, subnormals when the exponent is 0.</summary>
    public static float Float8E4M3FNToSingle(byte bits)
    {
        int sign = bits >> 7, exp = (bits >> 3) & 0xF, man = bits & 0x7;
        float v;
        if (exp == 0xF && man == 0x7) v = float.NaN;
        else if (exp == 0) v = man / 8f * MathF.Pow(2, -6);
        else v = (1 + man / 8f) * MathF.Pow(2, exp - 7);
        return sign == 1 ? -v : v;
    }

    /// <summary>float8_e5m2 bits → float32: exactly the upper byte of a float16.</summary>
    public static float Float8E5M2ToSingle(byte bits) => (float)BitConverter.UInt16BitsToHalf((ushort)(bits << 8));

    /// <summary>Writes every element of <paramref name="t"/> as float32 into <paramref name="dest"/> (row-major).</summary>
    public static void ToFloat32(TensorEntry t, Span<float> dest)
    {
        if (dest.Length != t.ElementCount) throw new ArgumentException("destination length differs from the element count");
        if (t.DType.IsComplex())
            throw new InvalidOperationException($"tensor '{t.Name}' is {t.DType.Name()}: read it with ToArray<…>() to keep both parts");
        if (t.DType == DType.Float32)
        {
            if (t.TryGetSpan<float>(out var f)) f.CopyTo(dest);
            else t.CopyBytesTo(MemoryMarshal.AsBytes(dest));
            return;
        }
        byte[] raw = t.ReadBytes();
        // Block-quantized tensors are already their decoded view (float32, or int8 for ONNX INT4): nothing to apply.
        if (t.Quantization is { Scheme: not QuantizationScheme.Block } q) Dequantize(t, q, raw, dest);
        else ConvertRaw(t.DType, raw, dest);
    }

    /// <summary>Writes every element of <paramref name="t"/> as float64 into <paramref name="dest"/> (row-major).</summary>
    public static void ToFloat64(TensorEntry t, Span<double> dest)
    {
        if (dest.Length != t.ElementCount) throw new ArgumentException("destination length differs from the element count");
        byte[] raw = t.ReadBytes();
        switch (t.DType)
        {
            case DType.Float64: MemoryMarshal.Cast<byte, double>(raw).CopyTo(dest); return;
            case DType.Int64: for (int i = 0; i < dest.Length; i++) dest[i] = BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(i * 8)); return;
            case DType.UInt64: for (int i = 0; i < dest.Length; i++) dest[i] = BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(i * 8)); return;
            case DType.Int32 or DType.QInt32 when t.Quantization is null:
                for (int i = 0; i < dest.Length; i++) dest[i] = BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(i * 4));
                return;
            case DType.UInt32: // beyond 2^24 a float32 step would round (4294967295 → 4294967296)
                for (int i = 0; i < dest.Length; i++) dest[i] = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(i * 4));
                return;
        }
        var f = new float[dest.Length];
        ToFloat32(t, f);
        TensorPrimitives.ConvertTruncating<float, double>(f, dest);
    }

    /// <summary>Converts raw little-endian elements to float32 (quantized types: the raw integers).</summary>
    public static void ConvertRaw(DType type, ReadOnlySpan<byte> raw, Span<float> dest)
    {
        switch (type)
        {
            case DType.Float32: MemoryMarshal.Cast<byte, float>(raw).CopyTo(dest); break;
            case DType.Float16: TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(raw), dest); break;
            case DType.BFloat16:
                {
                    var s = MemoryMarshal.Cast<byte, ushort>(raw);
                    for (int i = 0; i < s.Length; i++) dest[i] = BFloat16ToSingle(s[i]);
                    break;
                }
            case DType.Float64: TensorPrimitives.ConvertTruncating<double, float>(MemoryMarshal.Cast<byte, double>(raw), dest); break;
            case DType.Float8E4M3FN: for (int i = 0; i < raw.Length; i++) dest[i] = Float8E4M3FNToSingle(raw[i]); break;
            case DType.Float8E5M2: for (int i = 0; i < raw.Length; i++) dest[i] = Float8E5M2ToSingle(raw[i]); break;
            case DType.Int8 or DType.QInt8: TensorPrimitives.ConvertTruncating<sbyte, float>(MemoryMarshal.Cast<byte, sbyte>(raw), dest); break;
            case DType.UInt8 or DType.QUInt8: TensorPrimitives.ConvertTruncating<byte, float>(raw, dest); break;
            case DType.Bool: for (int i = 0; i < raw.Length; i++) dest[i] = raw[i] != 0 ? 1f : 0f; break; // see BoolBytes
            case DType.Int16: TensorPrimitives.ConvertTruncating<short, float>(MemoryMarshal.Cast<byte, short>(raw), dest); break;
            case DType.UInt16: TensorPrimitives.ConvertTruncating<ushort, float>(MemoryMarshal.Cast<byte, ushort>(raw), dest); break;
            case DType.Int32 or DType.QInt32: TensorPrimitives.ConvertTruncating<int, float>(MemoryMarshal.Cast<byte, int>(raw), dest); break;
            case DType.UInt32: TensorPrimitives.ConvertTruncating<uint, float>(MemoryMarshal.Cast<byte, uint>(raw), dest); break;
            case DType.Int64: TensorPrimitives.ConvertTruncating<long, float>(MemoryMarshal.Cast<byte, long>(raw), dest); break;
            case DType.UInt64: TensorPrimitives.ConvertTruncating<ulong, float>(MemoryMarshal.Cast<byte, ulong>(raw), dest); break;
            default: throw new InvalidOperationException($"{type.Name()} has no float32 conversion");
        }
    }

    /// <summary>
    /// One element of <c>tensor.dequantize()</c> on CPU, to the bit (checked against torch 1.13 on 10^4 values per case):
    /// per tensor (fbgemm::Dequantize) float(scale) × float(int32(q − zero_point)), the subtraction wrapping in int32;
    /// per channel (dequantize_per_channel_affine_kernel) (float(q) − zero_point) in float, times the double scale, stored as float.
    /// </summary>
    public static float DequantizeValue(QuantizationInfo q, long value, long channel)
    {
        if (q.Scheme == QuantizationScheme.PerTensorAffine)
            return (float)q.Scales[0] * unchecked((int)value - (int)q.ZeroPoints[0]);
        return (float)(((float)value - (float)q.ZeroPoints[channel]) * q.Scales[channel]);
    }

    private static void Dequantize(TensorEntry t, QuantizationInfo q, ReadOnlySpan<byte> raw, Span<float> values)
    {
        long channels = 1, inner = 1;
        if (q.Scheme == QuantizationScheme.PerChannelAffine)
        {
            channels = t.Shape[q.Axis];
            for (int d = q.Axis + 1; d < t.Shape.Rank; d++) inner *= t.Shape[d];
        }
        for (int i = 0; i < values.Length; i++)
        {
            long v = t.DType switch
            {
                DType.QInt8 => (sbyte)raw[i],
                DType.QUInt8 => raw[i],
                _ => BinaryPrimitives.ReadInt32LittleEndian(raw[(i * 4)..]),
            };
            values[i] = DequantizeValue(q, v, q.Scheme == QuantizationScheme.PerChannelAffine ? i / inner % channels : 0);
        }
    }
}
