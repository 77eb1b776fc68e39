using System.Buffers.Binary;

namespace WeightScope.Formats.Hdf5.Filters;

/// <summary>
/// The scale-offset filter (id 6), ported from libhdf5's <c>H5Zscaleoffset.c</c> (decompression side). Client data (20
/// values, set by libhdf5 when the dataset is created): [0] scale type (0 float D-scale, 1 float E-scale — refused by
/// libhdf5 too, 2 integer), [1] scale factor (decimal digits, or integer minimum bits; 0 = computed per chunk),
/// [2] elements per chunk, [3] class (0 integer, 1 float), [4] size, [5] sign (0 unsigned), [6] byte order (0 LE, 1 BE),
/// [7] 1 when a fill value is defined, [8…] the fill value, little-endian. A chunk starts with a 21-byte header —
/// minimum bits (4 bytes LE), the size of the minimum (1 byte), the minimum (LE) — then every value's low
/// <c>minbits</c> bits, most significant first. A value of all ones stands for the fill value when one is defined.
/// Values are computed as libhdf5 computes them on a little-endian machine, then stored in the dataset's byte order.
/// </summary>
internal static class ScaleOffset
{
    private const int ParameterCount = 20;
    private const int ScaleTypeFloatD = 0;
    private const int ScaleTypeFloatE = 1;
    private const int ScaleTypeInteger = 2;
    private const int ClassInteger = 0;
    private const int ClassFloat = 1;
    private const int OrderBigEndian = 1;
    private const int FillDefined = 1;
    private const int FillIndex = 8;
    private const int HeaderSize = 21;     // minbits (4), minval size (1), minval (up to 16)

    /// <summary>Decodes one chunk into at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] Decode(byte[] input, uint[] cd, int maxBytes, long at, string path)
    {
        if (cd.Length != ParameterCount) throw Corrupt($"client data has {cd.Length} values, not {ParameterCount}", at, path);
        int scaleType = (int)cd[0], scaleFactor = (int)cd[1];
        uint elements = cd[2], cls = cd[3], size = cd[4];
        bool bigEndian = cd[6] == OrderBigEndian, fillDefined = cd[7] == FillDefined;
        if (cls == ClassFloat && scaleType is not (ScaleTypeFloatD or ScaleTypeFloatE)) throw Corrupt($"scale type {scaleType} for a float", at, path);
        if (cls == ClassInteger)
        {
            if (scaleType != ScaleTypeInteger) throw Corrupt($"scale type {scaleType} for an integer", at, path);
            if (scaleFactor < 0) scaleFactor = 0;
        }
        if (cls is not (ClassInteger or ClassFloat)) throw Corrupt($"datatype class {cls}", at, path);
        if (scaleType == ScaleTypeFloatE)
            throw Hdf5Errors.Unsupported("scaleoffset (filter 6) E-scaling, which libhdf5 does not implement either", at, path);
        if (size is not (1 or 2 or 4 or 8) || (cls == ClassFloat && size is not (4 or 8)))
            throw Corrupt($"{(cls == ClassFloat ? "float" : "integer")} size {size}", at, path);
        double dScale = 0;
        if (scaleType == ScaleTypeFloatD) dScale = scaleFactor;
        else
        {
            if (scaleFactor > size * 8) throw Corrupt($"minimum bits {scaleFactor} exceed the type's {size * 8}", at, path);
            if (scaleFactor == size * 8) return input; // libhdf5 stores full-precision integers untouched
        }
        long bytes = (long)elements * size;
        if (bytes > maxBytes) throw Corrupt($"{elements} elements of {size} bytes exceed the chunk's {maxBytes} bytes", at, path);
        if (input.Length < HeaderSize) throw Corrupt($"chunk of {input.Length} bytes is shorter than its {HeaderSize}-byte header", at, path);

        uint minBits = BinaryPrimitives.ReadUInt32LittleEndian(input);
        int minValSize = Math.Min((int)sizeof(ulong), (int)input[4]);
        ulong minVal = 0;
        for (int i = 0; i < minValSize; i++) minVal |= (ulong)input[5 + i] << (i * 8);
        if (minBits > size * 8) throw Corrupt($"minimum bits {minBits} exceed the type's {size * 8}", at, path);

        var output = new byte[bytes];
        if (minBits == size * 8)
        {
            if (input.Length - HeaderSize < bytes) throw Truncated(at, path);
            input.AsSpan(HeaderSize, (int)bytes).CopyTo(output);
            if (bigEndian) Swap(output, (int)size);
            return output;
        }
        if ((long)elements * minBits > (long)(input.Length - HeaderSize) * 8) throw Truncated(at, path);
        var raw = new PackedValues(input, HeaderSize, (int)minBits); // minBits 0: every value is 0, as libhdf5 zeroes them
        Span<byte> fill = stackalloc byte[8];
        for (int i = 0; i < 8; i++) fill[i] = (byte)(cd[FillIndex + i / 4] >> (i % 4 * 8));
        if (cls == ClassInteger) PostInteger(raw, output, (int)size, minBits, minVal, fillDefined, fill);
        else PostFloat(raw, output, (int)size, minBits, minVal, fillDefined, fill, dScale);
        if (bigEndian) Swap(output, (int)size);
        return output;
    }

    // H5Z__scaleoffset_postdecompress_i: value + minimum, modulo the type's width; all ones → the fill value.
    private static void PostInteger(PackedValues raw, byte[] output, int size, uint minBits, ulong minVal, bool fillDefined, ReadOnlySpan<byte> fill)
    {
        ulong fillMarker = (1UL << (int)minBits) - 1; // minBits < 8·size ≤ 64 here
        Span<byte> value = stackalloc byte[8];
        for (int i = 0; i < output.Length / size; i++)
        {
            ulong v = raw.Next();
            if (fillDefined && v == fillMarker) { fill[..size].CopyTo(output.AsSpan(i * size)); continue; }
            // Signed and unsigned alike wrap modulo 2^(8·size): libhdf5's C casts differ only in type.
            BinaryPrimitives.WriteUInt64LittleEndian(value, v + minVal);
            value[..size].CopyTo(output.AsSpan(i * size));
        }
    }

    // H5Z__scaleoffset_postdecompress_fd (D-scale): value / 10^D + minimum, in the type's own arithmetic; the minimum is
    // the float whose bits are minval's low bytes. All ones (as the C int/long libhdf5 casts to) → the fill value.
    private static void PostFloat(PackedValues raw, byte[] output, int size, uint minBits, ulong minVal, bool fillDefined, ReadOnlySpan<byte> fill, double dScale)
    {
        if (size == 4)
        {
            float min = BitConverter.Int32BitsToSingle((int)(uint)minVal);
            float fillValue = BinaryPrimitives.ReadSingleLittleEndian(fill);
            float scale = MathF.Pow(10.0f, (float)dScale);
            int marker = (int)((1u << (int)minBits) - 1);
            for (int i = 0; i < output.Length / 4; i++)
            {
                int v = (int)raw.Next();
                float x = fillDefined && v == marker ? fillValue : (float)v / scale + min;
                BinaryPrimitives.WriteSingleLittleEndian(output.AsSpan(i * 4), x);
            }
        }
        else
        {
            double min = BitConverter.Int64BitsToDouble((long)minVal);
            double fillValue = BinaryPrimitives.ReadDoubleLittleEndian(fill);
            double scale = Math.Pow(10.0, dScale);
            long marker = (long)((1UL << (int)minBits) - 1);
            for (int i = 0; i < output.Length / 8; i++)
            {
                long v = (long)raw.Next();
                double x = fillDefined && v == marker ? fillValue : (double)v / scale + min;
                BinaryPrimitives.WriteDoubleLittleEndian(output.AsSpan(i * 8), x);
            }
        }
    }

    // H5Z__scaleoffset_decompress: each value's minbits bits, most significant first, one value after another (the
    // caller has checked that the input holds them all).
    private struct PackedValues(byte[] input, int start, int bits)
    {
        private long _bit = (long)start * 8;

        public ulong Next()
        {
            ulong v = 0;
            for (int remaining = bits; remaining > 0;)
            {
                int inByte = 8 - (int)(_bit & 7);
                int take = Math.Min(inByte, remaining);
                v = (v << take) | (uint)((input[_bit >> 3] >> (inByte - take)) & ((1 << take) - 1));
                _bit += take;
                remaining -= take;
            }
            return v;
        }
    }

    private static void Swap(byte[] data, int size)
    {
        for (int i = 0; i + size <= data.Length; i += size) data.AsSpan(i, size).Reverse();
    }

    private static InvalidModelContentException Truncated(long at, string path) =>
        Corrupt("packed data ends before the chunk's last value", at, path);

    private static InvalidModelContentException Corrupt(string detail, long at, string path) =>
        Hdf5Errors.Invalid($"scaleoffset (filter 6) chunk cannot be decoded: {detail}", at, path);
}
