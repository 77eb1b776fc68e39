using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace WeightScope.Formats.TfJs;

/// <summary>
/// tfjs's <c>decodeWeight</c> for quantized weights, value for value. The affine kinds compute <c>q * scale + min</c> in
/// JavaScript numbers (float64) and store the result into a Float32Array (round to nearest float32) or, for int32
/// weights, <c>Math.round</c> it into an Int32Array; float16 is widened to float32 exactly.
/// </summary>
internal static class TfJsDecode
{
    /// <summary>Bytes per stored element of a quantization dtype (tfjs <c>DTYPE_VALUE_SIZE_MAP</c>).</summary>
    public static int StoredSize(string quantizationDType) => quantizationDType == "uint8" ? 1 : 2;

    /// <summary>Dequantizes stored little-endian integers (or halves) into the little-endian bytes of the weight's dtype.</summary>
    public static byte[] Dequantize(ReadOnlySpan<byte> stored, TfJsQuantization q, bool toInt32)
    {
        int n = stored.Length / StoredSize(q.DType);
        var result = new byte[checked(n * 4)];
        if (toInt32)
        {
            var ints = MemoryMarshal.Cast<byte, int>(result.AsSpan());
            for (int i = 0; i < n; i++) ints[i] = ToInt32(JsRound(Quantized(stored, q.DType, i) * q.Scale!.Value + q.Min!.Value));
        }
        else
        {
            var floats = MemoryMarshal.Cast<byte, float>(result.AsSpan());
            for (int i = 0; i < n; i++)
                floats[i] = q.DType == "float16"
                    ? (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(stored[(i * 2)..]))
                    : (float)(Quantized(stored, q.DType, i) * q.Scale!.Value + q.Min!.Value);
        }
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("tfjs weights are decoded on little-endian hosts only");
        return result;
    }

    private static double Quantized(ReadOnlySpan<byte> stored, string dtype, int i) =>
        dtype == "uint8" ? stored[i] : BinaryPrimitives.ReadUInt16LittleEndian(stored[(i * 2)..]);

    /// <summary>JavaScript <c>Math.round</c>: the nearest integer, halves toward +∞.</summary>
    internal static double JsRound(double x)
    {
        if (!double.IsFinite(x)) return x;
        double floor = Math.Floor(x);
        return x - floor >= 0.5 ? floor + 1 : floor;
    }

    /// <summary>ECMAScript ToInt32, what storing into an Int32Array does: NaN and ±∞ become 0, others wrap modulo 2³².</summary>
    internal static int ToInt32(double x)
    {
        if (!double.IsFinite(x)) return 0;
        const double TwoTo32 = 4294967296.0;
        double m = Math.Truncate(x) % TwoTo32;
        if (m < 0) m += TwoTo32;
        return unchecked((int)(uint)m);
    }
}
