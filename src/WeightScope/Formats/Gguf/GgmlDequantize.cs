using System.Buffers.Binary;
using static WeightScope.Formats.Gguf.GgmlBlocks;

namespace WeightScope.Formats.Gguf;

/// <summary>
/// ggml's reference dequantization (<c>ggml-quants.c</c>, <c>dequantize_row_*</c>), one block per call, ported
/// statement by statement: the same float32 operations in the same order, fp16 scales widened exactly
/// (<c>GGML_FP16_TO_FP32</c> = <c>(float)Half</c>), integers converted to float where C converts them.
/// </summary>
/// <remarks>
/// C evaluates <c>x0*d + m</c> as a float multiply then a float add; .NET never fuses them either. A ggml built with
/// FP contraction on an FMA machine may fuse them, differing from this in the last bit.
/// </remarks>
internal static class GgmlDequantize
{
    private static float Fp16(ReadOnlySpan<byte> b, int offset) => (float)BinaryPrimitives.ReadHalfLittleEndian(b[offset..]);

    // --- 32-value blocks -------------------------------------------------------------------------------

    /// <summary><c>dequantize_row_q4_0</c>: y = (nibble − 8)·d; low nibbles are values 0..15, high nibbles 16..31.</summary>
    public static void Q4_0(ReadOnlySpan<byte> x, Span<float> y)
    {
        const int qk = QK4_0;
        float d = Fp16(x, Q4_0_D);
        var qs = x.Slice(Q4_0_Qs, qk / 2);
        for (int j = 0; j < qk / 2; ++j)
        {
            int x0 = (qs[j] & 0x0F) - 8;
            int x1 = (qs[j] >> 4) - 8;
            y[j + 0] = x0 * d;
            y[j + qk / 2] = x1 * d;
        }
    }

    /// <summary><c>dequantize_row_q4_1</c>: y = nibble·d + m.</summary>
    public static void Q4_1(ReadOnlySpan<byte> x, Span<float> y)
    {
        const int qk = QK4_1;
        float d = Fp16(x, Q4_1_D);
        float m = Fp16(x, Q4_1_M);
        var qs = x.Slice(Q4_1_Qs, qk / 2);
        for (int j = 0; j < qk / 2; ++j)
        {
            int x0 = qs[j] & 0x0F;
            int x1 = qs[j] >> 4;
            y[j + 0] = x0 * d + m;
            y[j + qk / 2] = x1 * d + m;
        }
    }

    /// <summary><c>dequantize_row_q5_0</c>: the fifth bit of value j is bit j of the 32-bit <c>qh</c>; y = (q − 16)·d.</summary>
    public static void Q5_0(ReadOnlySpan<byte> x, Span<float> y)
    {
        const int qk = QK5_0;
        float d = Fp16(x, Q5_0_D);
        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(x[Q5_0_Qh..]);
        var qs = x.Slice(Q5_0_Qs, qk / 2);
        for (int j = 0; j < qk / 2; ++j)
        {
            byte xh_0 = (byte)(((qh >> (j + 0)) << 4) & 0x10);
            byte xh_1 = (byte)((qh >> (j + 12)) & 0x10);
            int x0 = ((qs[j] & 0x0F) | xh_0) - 16;
            int x1 = ((qs[j] >> 4) | xh_1) - 16;
            y[j + 0] = x0 * d;
            y[j + qk / 2] = x1 * d;
        }
    }

    /// <summary><c>dequantize_row_q5_1</c>: y = q·d + m with the same fifth-bit layout as Q5_0.</summary>
    public static void Q5_1(ReadOnlySpan<byte> x, Span<float> y)
    {
        const int qk = QK5_1;
        float d = Fp16(x, Q5_1_D);
        float m = Fp16(x, Q5_1_M);
        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(x[Q5_1_Qh..]);
        var qs = x.Slice(Q5_1_Qs, qk / 2);
        for (int j = 0; j < qk / 2; ++j)
        {
            byte xh_0 = (byte)(((qh >> (j + 0)) << 4) & 0x10);
            byte xh_1 = (byte)((qh >> (j + 12)) & 0x10);
            int x0 = (qs[j] & 0x0F) | xh_0;
            int x1 = (qs[j] >> 4) | xh_1;
            y[j + 0] = x0 * d + m;
            y[j + qk / 2] = x1 * d + m;
        }
    }

    /// <summary><c>dequantize_row_q8_0</c>: y = q·d.</summary>
    public static void Q8_0(ReadOnlySpan<byte> x, Span<float> y)
    {
        const int qk = QK8_0;
        float d = Fp16(x, Q8_0_D);
        var qs = x.Slice(Q8_0_Qs, qk);
        for (int j = 0; j < qk; ++j) y[j] = (sbyte)qs[j] * d;
    }

    // --- 256-value super-blocks ------------------------------------------------------------------------

    /// <summary><c>dequantize_row_q2_K</c>: 16 groups of 16, each with a 4-bit scale and a 4-bit min; 2-bit quants.</summary>
    public static void Q2_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = Fp16(x, Q2_K_D);
        float min = Fp16(x, Q2_K_DMin);
        var scales = x.Slice(Q2_K_Scales, QK_K / 16);
        int q = Q2_K_Qs, o = 0, @is = 0;
        for (int n = 0; n < QK_K; n += 128)
        {
            int shift = 0;
            for (int j = 0; j < 4; ++j)
            {
                byte sc = scales[@is++];
                float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                for (int l = 0; l < 16; ++l) y[o++] = dl * (sbyte)((x[q + l] >> shift) & 3) - ml;

                sc = scales[@is++];
                dl = d * (sc & 0xF); ml = min * (sc >> 4);
                for (int l = 0; l < 16; ++l) y[o++] = dl * (sbyte)((x[q + l + 16] >> shift) & 3) - ml;

                shift += 2;
            }
            q += 32;
        }
    }

    /// <summary>
    /// <c>dequantize_row_q3_K</c>: 16 groups of 16 with 6-bit signed scales (−32 bias) packed in 12 bytes; 2 low bits
    /// in <c>qs</c>, the third in <c>hmask</c> (a clear bit subtracts 4).
    /// </summary>
    public static void Q3_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        const uint kmask1 = 0x03030303;
        const uint kmask2 = 0x0f0f0f0f;
        float d_all = Fp16(x, Q3_K_D);

        // ggml unpacks the twelve scale bytes as three little-endian words into sixteen signed bytes.
        Span<uint> aux = stackalloc uint[4];
        for (int k = 0; k < 3; k++) aux[k] = BinaryPrimitives.ReadUInt32LittleEndian(x[(Q3_K_Scales + 4 * k)..]);
        uint tmp = aux[2];
        aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
        aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
        aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
        aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
        Span<sbyte> scales = stackalloc sbyte[16];
        for (int k = 0; k < 16; k++) scales[k] = (sbyte)(aux[k / 4] >> (8 * (k % 4)));

        int q = Q3_K_Qs, hm = Q3_K_HMask, o = 0, @is = 0;
        byte m = 1;
        for (int n = 0; n < QK_K; n += 128)
        {
            int shift = 0;
            for (int j = 0; j < 4; ++j)
            {
                float dl = d_all * (scales[@is++] - 32);
                for (int l = 0; l < 16; ++l)
                    y[o++] = dl * ((sbyte)((x[q + l + 0] >> shift) & 3) - ((x[hm + l + 0] & m) != 0 ? 0 : 4));

                dl = d_all * (scales[@is++] - 32);
                for (int l = 0; l < 16; ++l)
                    y[o++] = dl * ((sbyte)((x[q + l + 16] >> shift) & 3) - ((x[hm + l + 16] & m) != 0 ? 0 : 4));

                shift += 2;
                m <<= 1;
            }
            q += 32;
        }
    }

    /// <summary><c>get_scale_min_k4</c>: the j-th 6-bit scale and min of Q4_K/Q5_K's packed 12 bytes.</summary>
    private static void GetScaleMinK4(int j, ReadOnlySpan<byte> q, out byte d, out byte m)
    {
        if (j < 4)
        {
            d = (byte)(q[j] & 63);
            m = (byte)(q[j + 4] & 63);
        }
        else
        {
            d = (byte)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
            m = (byte)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
        }
    }

    /// <summary><c>dequantize_row_q4_K</c>: 8 groups of 32 with 6-bit scales and mins; y = d·sc·q − dmin·m.</summary>
    public static void Q4_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = Fp16(x, Q4_K_D);
        float min = Fp16(x, Q4_K_DMin);
        var scales = x.Slice(Q4_K_Scales, K_SCALE_SIZE);
        int q = Q4_K_Qs, o = 0, @is = 0;
        for (int j = 0; j < QK_K; j += 64)
        {
            GetScaleMinK4(@is + 0, scales, out byte sc, out byte m);
            float d1 = d * sc, m1 = min * m;
            GetScaleMinK4(@is + 1, scales, out sc, out m);
            float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; ++l) y[o++] = d1 * (x[q + l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) y[o++] = d2 * (x[q + l] >> 4) - m2;
            q += 32; @is += 2;
        }
    }

    /// <summary><c>dequantize_row_q5_K</c>: Q4_K plus a fifth bit per value from <c>qh</c> (two bits per 64-value chunk).</summary>
    public static void Q5_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = Fp16(x, Q5_K_D);
        float min = Fp16(x, Q5_K_DMin);
        var scales = x.Slice(Q5_K_Scales, K_SCALE_SIZE);
        var qh = x.Slice(Q5_K_Qh, QK_K / 8);
        int ql = Q5_K_Qs, o = 0, @is = 0;
        byte u1 = 1, u2 = 2;
        for (int j = 0; j < QK_K; j += 64)
        {
            GetScaleMinK4(@is + 0, scales, out byte sc, out byte m);
            float d1 = d * sc, m1 = min * m;
            GetScaleMinK4(@is + 1, scales, out sc, out m);
            float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; ++l) y[o++] = d1 * ((x[ql + l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l) y[o++] = d2 * ((x[ql + l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - m2;
            ql += 32; @is += 2;
            u1 <<= 2; u2 <<= 2;
        }
    }

    /// <summary><c>dequantize_row_q6_K</c>: 16 groups of 16 with signed 8-bit scales; 4 low bits in <c>ql</c>, 2 high in <c>qh</c>; −32 bias.</summary>
    public static void Q6_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = Fp16(x, Q6_K_D);
        int ql = Q6_K_Ql, qh = Q6_K_Qh, sc = Q6_K_Scales, o = 0;
        for (int n = 0; n < QK_K; n += 128)
        {
            for (int l = 0; l < 32; ++l)
            {
                int @is = l / 16;
                sbyte q1 = (sbyte)(((x[ql + l + 0] & 0xF) | (((x[qh + l] >> 0) & 3) << 4)) - 32);
                sbyte q2 = (sbyte)(((x[ql + l + 32] & 0xF) | (((x[qh + l] >> 2) & 3) << 4)) - 32);
                sbyte q3 = (sbyte)(((x[ql + l + 0] >> 4) | (((x[qh + l] >> 4) & 3) << 4)) - 32);
                sbyte q4 = (sbyte)(((x[ql + l + 32] >> 4) | (((x[qh + l] >> 6) & 3) << 4)) - 32);
                y[o + l + 0] = d * (sbyte)x[sc + @is + 0] * q1;
                y[o + l + 32] = d * (sbyte)x[sc + @is + 2] * q2;
                y[o + l + 64] = d * (sbyte)x[sc + @is + 4] * q3;
                y[o + l + 96] = d * (sbyte)x[sc + @is + 6] * q4;
            }
            o += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }

    /// <summary><c>dequantize_row_q8_K</c>: y = d·q with a float32 <c>d</c> (the block sums are not needed).</summary>
    public static void Q8_K(ReadOnlySpan<byte> x, Span<float> y)
    {
        float d = BinaryPrimitives.ReadSingleLittleEndian(x[Q8_K_D..]);
        for (int j = 0; j < QK_K; ++j) y[j] = d * (sbyte)x[Q8_K_Qs + j];
    }
}
