using Xunit;

namespace WeightScope.Tests.Formats.Gguf;

/// <summary>
/// Quantized blocks built field by field from ggml-common.h's structs, with hand-chosen scales and seeded random
/// quants, and the values each block stands for worked out element by element from the formulas (written here as
/// straightforward per-element arithmetic, not as a port of ggml's loops). All float arithmetic is float32 in the
/// order ggml evaluates it: integer quant converted to float, <c>d·q</c>, <c>d·q + m</c>, <c>(d·sc)·q − dmin·m</c>.
/// </summary>
internal static class GgmlBlockSamples
{
    /// <summary>One type's sample: its ggml_type id, values per block, the encoded blocks and the values they mean.</summary>
    public sealed record Sample(string Name, uint TypeId, int BlockSize, byte[] Bytes, float[] Expected);

    public static readonly string[] Names = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K"];

    // fp16 scales worth covering: ordinary, negative, large, tiny normal and subnormal.
    private static readonly float[] Scales = [0.0123f, -0.5f, 3.75f, 7.1e-5f, 3.0e-6f, 1.0f, -0.0625f];

    public static Sample Make(string name, int blocks, int seed)
    {
        var rng = new Random(seed);
        var bytes = new List<byte>();
        var expected = new List<float>();
        (uint id, int qk) = name switch
        {
            "Q4_0" => (2u, 32),
            "Q4_1" => (3u, 32),
            "Q5_0" => (6u, 32),
            "Q5_1" => (7u, 32),
            "Q8_0" => (8u, 32),
            "Q2_K" => (10u, 256),
            "Q3_K" => (11u, 256),
            "Q4_K" => (12u, 256),
            "Q5_K" => (13u, 256),
            "Q6_K" => (14u, 256),
            "Q8_K" => (15u, 256),
            _ => throw new ArgumentException(name),
        };
        for (int b = 0; b < blocks; b++)
        {
            var (blk, vals) = name switch
            {
                "Q4_0" => Q4_0(rng),
                "Q4_1" => Q4_1(rng),
                "Q5_0" => Q5_0(rng),
                "Q5_1" => Q5_1(rng),
                "Q8_0" => Q8_0(rng),
                "Q2_K" => Q2_K(rng),
                "Q3_K" => Q3_K(rng),
                "Q4_K" => Q4_K(rng),
                "Q5_K" => Q5_K(rng),
                "Q6_K" => Q6_K(rng),
                _ => Q8_K(rng),
            };
            Assert.Equal(qk, vals.Length);
            bytes.AddRange(blk);
            expected.AddRange(vals);
        }
        return new Sample(name, id, qk, [.. bytes], [.. expected]);
    }

    private static Half PickHalf(Random rng) => (Half)Scales[rng.Next(Scales.Length)];
    private static byte[] HalfBytes(Half h) => BitConverter.GetBytes(h);
    private static byte[] RandomBytes(Random rng, int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        return b;
    }

    // Low nibbles hold values 0..15, high nibbles values 16..31 (of a 32-value block).
    private static int Nibble32(byte[] qs, int i) => i < 16 ? qs[i] & 0xF : qs[i - 16] >> 4;

    // block_q4_0 { half d; u8 qs[16] }: x = (q − 8)·d
    private static (byte[], float[]) Q4_0(Random rng)
    {
        var d = PickHalf(rng);
        var qs = RandomBytes(rng, 16);
        var y = new float[32];
        for (int i = 0; i < 32; i++) y[i] = (Nibble32(qs, i) - 8) * (float)d;
        return ([.. HalfBytes(d), .. qs], y);
    }

    // block_q4_1 { half d; half m; u8 qs[16] }: x = q·d + m
    private static (byte[], float[]) Q4_1(Random rng)
    {
        Half d = PickHalf(rng), m = PickHalf(rng);
        var qs = RandomBytes(rng, 16);
        var y = new float[32];
        for (int i = 0; i < 32; i++) y[i] = Nibble32(qs, i) * (float)d + (float)m;
        return ([.. HalfBytes(d), .. HalfBytes(m), .. qs], y);
    }

    // block_q5_0 { half d; u8 qh[4]; u8 qs[16] }: bit i of qh is value i's fifth bit; x = (q − 16)·d
    private static (byte[], float[]) Q5_0(Random rng)
    {
        var d = PickHalf(rng);
        var qh = RandomBytes(rng, 4);
        var qs = RandomBytes(rng, 16);
        uint bits = BitConverter.ToUInt32(qh);
        var y = new float[32];
        for (int i = 0; i < 32; i++) y[i] = ((Nibble32(qs, i) | (int)((bits >> i) & 1) << 4) - 16) * (float)d;
        return ([.. HalfBytes(d), .. qh, .. qs], y);
    }

    // block_q5_1 { half d; half m; u8 qh[4]; u8 qs[16] }: x = q·d + m
    private static (byte[], float[]) Q5_1(Random rng)
    {
        Half d = PickHalf(rng), m = PickHalf(rng);
        var qh = RandomBytes(rng, 4);
        var qs = RandomBytes(rng, 16);
        uint bits = BitConverter.ToUInt32(qh);
        var y = new float[32];
        for (int i = 0; i < 32; i++) y[i] = (Nibble32(qs, i) | (int)((bits >> i) & 1) << 4) * (float)d + (float)m;
        return ([.. HalfBytes(d), .. HalfBytes(m), .. qh, .. qs], y);
    }

    // block_q8_0 { half d; i8 qs[32] }: x = q·d
    private static (byte[], float[]) Q8_0(Random rng)
    {
        var d = PickHalf(rng);
        var qs = RandomBytes(rng, 32);
        var y = new float[32];
        for (int i = 0; i < 32; i++) y[i] = (sbyte)qs[i] * (float)d;
        return ([.. HalfBytes(d), .. qs], y);
    }

    // block_q2_K { u8 scales[16]; u8 qs[64]; half d; half dmin }: value i is in group i/16 (scale low nibble, min
    // high nibble); its 2 bits are bits 2·((i%128)/32) of qs[32·(i/128) + i%32]; x = (d·sc)·q − dmin·m
    private static (byte[], float[]) Q2_K(Random rng)
    {
        var scales = RandomBytes(rng, 16);
        var qs = RandomBytes(rng, 64);
        Half d = PickHalf(rng), dmin = PickHalf(rng);
        var y = new float[256];
        for (int i = 0; i < 256; i++)
        {
            int half = i / 128, r = i % 128;
            int q = (qs[32 * half + r % 32] >> (2 * (r / 32))) & 3;
            int sc = scales[i / 16] & 0xF, m = scales[i / 16] >> 4;
            y[i] = (float)d * sc * q - (float)dmin * m;
        }
        return ([.. scales, .. qs, .. HalfBytes(d), .. HalfBytes(dmin)], y);
    }

    // block_q3_K { u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d }: sixteen 6-bit scales (stored +32) packed as
    // quantize_row_q3_K_ref packs them; value i: low 2 bits as in Q2_K, third bit is bit i/32 of hmask[i%32]
    // (clear means −4); x = (d·(s−32))·q
    private static (byte[], float[]) Q3_K(Random rng)
    {
        var chosen = Enumerable.Range(0, 16).Select(_ => rng.Next(-32, 32)).ToArray();
        var packed = new byte[12];
        for (int j = 0; j < 16; j++)
        {
            int l = chosen[j] + 32;
            if (j < 8) packed[j] = (byte)(l & 0xF);
            else packed[j - 8] |= (byte)((l & 0xF) << 4);
            packed[j % 4 + 8] |= (byte)((l >> 4) << (2 * (j / 4)));
        }
        var hmask = RandomBytes(rng, 32);
        var qs = RandomBytes(rng, 64);
        var d = PickHalf(rng);
        var y = new float[256];
        for (int i = 0; i < 256; i++)
        {
            int half = i / 128, r = i % 128;
            int low = (qs[32 * half + r % 32] >> (2 * (r / 32))) & 3;
            bool high = ((hmask[i % 32] >> (i / 32)) & 1) != 0;
            y[i] = (float)d * chosen[i / 16] * (low - (high ? 0 : 4));
        }
        return ([.. hmask, .. qs, .. packed, .. HalfBytes(d)], y);
    }

    // Q4_K/Q5_K's eight 6-bit scales and mins, packed into 12 bytes as quantize_row_q4_K_ref packs them.
    private static byte[] PackScaleMin(int[] ls, int[] lm)
    {
        var s = new byte[12];
        for (int j = 0; j < 8; j++)
        {
            if (j < 4)
            {
                s[j] = (byte)ls[j];
                s[j + 4] = (byte)lm[j];
            }
            else
            {
                s[j + 4] = (byte)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
                s[j - 4] |= (byte)((ls[j] >> 4) << 6);
                s[j] |= (byte)((lm[j] >> 4) << 6);
            }
        }
        return s;
    }

    // block_q4_K { half d; half dmin; u8 scales[12]; u8 qs[128] }: value i is in group i/32; its nibble is the low
    // (i%64 < 32) or high one of qs[32·(i/64) + i%32]; x = (d·sc)·q − dmin·m
    private static (byte[], float[]) Q4_K(Random rng)
    {
        int[] ls = [.. Enumerable.Range(0, 8).Select(_ => rng.Next(64))], lm = [.. Enumerable.Range(0, 8).Select(_ => rng.Next(64))];
        Half d = PickHalf(rng), dmin = PickHalf(rng);
        var qs = RandomBytes(rng, 128);
        var y = new float[256];
        for (int i = 0; i < 256; i++)
        {
            byte b = qs[32 * (i / 64) + i % 32];
            int q = i % 64 < 32 ? b & 0xF : b >> 4;
            y[i] = (float)d * ls[i / 32] * q - (float)dmin * lm[i / 32];
        }
        return ([.. HalfBytes(d), .. HalfBytes(dmin), .. PackScaleMin(ls, lm), .. qs], y);
    }

    // block_q5_K { half d; half dmin; u8 scales[12]; u8 qh[32]; u8 qs[128] }: as Q4_K plus a fifth bit, bit i/32 of qh[i%32]
    private static (byte[], float[]) Q5_K(Random rng)
    {
        int[] ls = [.. Enumerable.Range(0, 8).Select(_ => rng.Next(64))], lm = [.. Enumerable.Range(0, 8).Select(_ => rng.Next(64))];
        Half d = PickHalf(rng), dmin = PickHalf(rng);
        var qh = RandomBytes(rng, 32);
        var qs = RandomBytes(rng, 128);
        var y = new float[256];
        for (int i = 0; i < 256; i++)
        {
            byte b = qs[32 * (i / 64) + i % 32];
            int q = (i % 64 < 32 ? b & 0xF : b >> 4) | ((qh[i % 32] >> (i / 32)) & 1) << 4;
            y[i] = (float)d * ls[i / 32] * q - (float)dmin * lm[i / 32];
        }
        return ([.. HalfBytes(d), .. HalfBytes(dmin), .. PackScaleMin(ls, lm), .. qh, .. qs], y);
    }

    // block_q6_K { u8 ql[128]; u8 qh[64]; i8 scales[16]; half d }: in each 128-value half, quarter k = (i%128)/32
    // and l = i%32 take the low (k < 2) or high nibble of ql[64·half + 32·(k%2) + l] and bits 2k of qh[32·half + l];
    // the scale is scales[8·half + 2k + l/16]; x = (d·sc)·(q − 32)
    private static (byte[], float[]) Q6_K(Random rng)
    {
        var ql = RandomBytes(rng, 128);
        var qh = RandomBytes(rng, 64);
        var scales = RandomBytes(rng, 16);
        var d = PickHalf(rng);
        var y = new float[256];
        for (int i = 0; i < 256; i++)
        {
            int half = i / 128, k = i % 128 / 32, l = i % 32;
            byte lowByte = ql[64 * half + 32 * (k % 2) + l];
            int low = k < 2 ? lowByte & 0xF : lowByte >> 4;
            int high = (qh[32 * half + l] >> (2 * k)) & 3;
            y[i] = (float)d * (sbyte)scales[8 * half + 2 * k + l / 16] * ((low | high << 4) - 32);
        }
        return ([.. ql, .. qh, .. scales, .. HalfBytes(d)], y);
    }

    // block_q8_K { float d; i8 qs[256]; i16 bsums[16] }: x = d·q (bsums hold each group's sum; unused for values)
    private static (byte[], float[]) Q8_K(Random rng)
    {
        float d = Scales[rng.Next(Scales.Length)] * 0.37f;
        var qs = RandomBytes(rng, 256);
        var bsums = new List<byte>();
        for (int g = 0; g < 16; g++) bsums.AddRange(BitConverter.GetBytes((short)Enumerable.Range(16 * g, 16).Sum(i => (sbyte)qs[i])));
        var y = new float[256];
        for (int i = 0; i < 256; i++) y[i] = d * (sbyte)qs[i];
        return ([.. BitConverter.GetBytes(d), .. qs, .. bsums], y);
    }
}
