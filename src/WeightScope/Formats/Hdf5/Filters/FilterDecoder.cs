using System.Buffers;
using System.IO.Compression;
using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Filters;

/// <summary>Undoes a filter pipeline on one chunk: filters are applied in order on write, so they are undone in reverse.</summary>
internal static class FilterDecoder
{
    private const int BufferSize = 64 << 10;

    /// <summary>Decodes <paramref name="stored"/> into at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] Decode(byte[] stored, IReadOnlyList<Filter> filters, uint filterMask, int maxBytes, long at, string path)
    {
        byte[] data = stored;
        for (int i = filters.Count - 1; i >= 0; i--)
        {
            if ((filterMask & (1u << i)) != 0) continue; // this filter was skipped for this chunk
            var f = filters[i];
            data = f.Id switch
            {
                FilterPipeline.Deflate => Inflate(data, maxBytes, at, path),
                FilterPipeline.Shuffle => Unshuffle(data, f.ClientData.Length > 0 ? (int)f.ClientData[0] : 1),
                FilterPipeline.Fletcher32 => VerifyFletcher32(data, at, path),
                FilterPipeline.Lzf => Lzf.Decompress(data, maxBytes, at, path),
                FilterPipeline.Szip => Szip.Decode(data, f.ClientData, maxBytes, at, path),
                FilterPipeline.NBit => NBit.Decode(data, f.ClientData, maxBytes, at, path),
                FilterPipeline.ScaleOffset => ScaleOffset.Decode(data, f.ClientData, maxBytes, at, path),
                FilterPipeline.Bzip2 => PluginFilters.Bzip2(data, maxBytes, at, path),
                FilterPipeline.Blosc => Blosc.Decode(data, maxBytes, at, path),
                FilterPipeline.Lz4 => PluginFilters.Lz4(data, maxBytes, at, path),
                FilterPipeline.BitShuffle => BitShuffle.Decode(data, f.ClientData, maxBytes, at, path),
                FilterPipeline.Zstd => PluginFilters.Zstd(data, maxBytes, at, path),
                _ => throw Hdf5Errors.Unsupported($"{FilterNames.Describe(f)}; {FilterNames.Advice(f)}", at, path),
            };
        }
        return data;
    }

    /// <summary>
    /// Decodes the chunk of <paramref name="storedSize"/> bytes at file offset <paramref name="stored"/> into
    /// <paramref name="destination"/> (at most <paramref name="chunkBytes"/> bytes); returns the decoded length.
    /// h5py's usual pipelines, deflate and shuffle + deflate, inflate straight from the mapped file with no
    /// intermediate arrays; any other pipeline goes through <see cref="Decode"/>.
    /// </summary>
    public static int DecodeInto(MappedFile file, long stored, int storedSize, IReadOnlyList<Filter> filters, uint filterMask, byte[] destination, int chunkBytes, string path) =>
        DecodeInto(() => file.OpenRange(stored, storedSize), () => file.Span(stored, storedSize).ToArray(), stored, filters, filterMask, destination, chunkBytes, path);

    /// <summary>As above, for stored bytes already read into <paramref name="storedBytes"/> (its first <paramref name="storedSize"/> bytes).</summary>
    public static int DecodeInto(byte[] storedBytes, int storedSize, long stored, IReadOnlyList<Filter> filters, uint filterMask, byte[] destination, int chunkBytes, string path) =>
        DecodeInto(() => new MemoryStream(storedBytes, 0, storedSize, writable: false), () => storedBytes[..storedSize], stored, filters, filterMask, destination, chunkBytes, path);

    private static int DecodeInto(Func<Stream> source, Func<byte[]> copy, long stored, IReadOnlyList<Filter> filters, uint filterMask, byte[] destination, int chunkBytes, string path)
    {
        int last = filters.Count - 1;
        bool Active(int i) => (filterMask & (1u << i)) == 0;
        if (filters[last].Id == FilterPipeline.Deflate && Active(last) && (last == 0 || (last == 1 && filters[0].Id == FilterPipeline.Shuffle)))
        {
            int shuffle = last == 1 && Active(0) && filters[0].ClientData.Length > 0 ? (int)filters[0].ClientData[0] : 1;
            if (shuffle <= 1) return InflateInto(source(), destination, chunkBytes, stored, path);
            var shuffled = ArrayPool<byte>.Shared.Rent(chunkBytes);
            try
            {
                int n = InflateInto(source(), shuffled, chunkBytes, stored, path);
                UnshuffleInto(shuffled.AsSpan(0, n), destination.AsSpan(0, n), shuffle);
                return n;
            }
            finally { ArrayPool<byte>.Shared.Return(shuffled); }
        }
        var data = Decode(copy(), filters, filterMask, chunkBytes, stored, path);
        int length = Math.Min(data.Length, chunkBytes);
        data.AsSpan(0, length).CopyTo(destination);
        return length;
    }

    // Inflates into `destination` until it holds `max` bytes or the stream ends: never more than the chunk needs.
    private static int InflateInto(Stream source, byte[] destination, int max, long at, string path)
    {
        try
        {
            using var z = new ZLibStream(source, CompressionMode.Decompress);
            int total = 0;
            while (total < max)
            {
                int n = z.Read(destination, total, max - total);
                if (n == 0) break;
                total += n;
            }
            return total;
        }
        catch (Exception e) when (e is InvalidDataException or IOException) // zlib reports some corruptions as ZLibException (an IOException)
        {
            throw Hdf5Errors.Invalid($"deflate chunk is corrupt: {e.Message}", at, path);
        }
    }

    // Shuffle, undone from one buffer into another (see Unshuffle).
    private static void UnshuffleInto(ReadOnlySpan<byte> data, Span<byte> output, int elementSize)
    {
        int count = data.Length / elementSize;
        if (count == 0) { data.CopyTo(output); return; } // an element larger than the chunk (a corrupt size): as is, as libhdf5 does, without looping over its byte planes
        for (int b = 0; b < elementSize; b++)
        {
            var plane = data.Slice(b * count, count);
            for (int e = 0; e < count; e++) output[e * elementSize + b] = plane[e];
        }
        data[(count * elementSize)..].CopyTo(output[(count * elementSize)..]);
    }

    private static byte[] Inflate(byte[] data, int maxBytes, long at, string path)
    {
        try
        {
            // Grow with the data actually inflated rather than trusting the declared chunk size up front.
            using var z = new ZLibStream(new MemoryStream(data), CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[BufferSize];
            while (output.Length < maxBytes)
            {
                int n = z.Read(buffer, 0, (int)Math.Min(buffer.Length, maxBytes - output.Length));
                if (n == 0) break;
                output.Write(buffer, 0, n);
            }
            return output.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or IOException) // zlib reports some corruptions as ZLibException (an IOException)
        {
            throw Hdf5Errors.Invalid($"deflate chunk is corrupt: {e.Message}", at, path);
        }
    }

    // Shuffle stores byte 0 of every element, then byte 1 of every element, …; a trailing remainder is left as is.
    private static byte[] Unshuffle(byte[] data, int elementSize)
    {
        if (elementSize <= 1 || data.Length < elementSize) return data;
        int count = data.Length / elementSize;
        var output = new byte[data.Length];
        for (int b = 0; b < elementSize; b++)
            for (int e = 0; e < count; e++)
                output[e * elementSize + b] = data[b * count + e];
        Array.Copy(data, count * elementSize, output, count * elementSize, data.Length - count * elementSize);
        return output;
    }

    // Fletcher-32 as libhdf5 computes it (H5_checksum_fletcher32): 16-bit big-endian words, an odd last byte as the high
    // byte; H5Z_filter_fletcher32 appends the sum little-endian (UINT32ENCODE).
    private static byte[] VerifyFletcher32(byte[] data, long at, string path)
    {
        if (data.Length < 4) throw Hdf5Errors.Invalid("fletcher32 chunk is shorter than its checksum", at, path);
        int len = data.Length - 4;
        uint stored = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(len));
        uint actual = Fletcher32(data.AsSpan(0, len));
        if (stored != actual)
            throw Hdf5Errors.Invalid($"fletcher32 checksum is 0x{stored:x8}, the chunk sums to 0x{actual:x8}", at, path);
        return data[..len];
    }

    private static uint Fletcher32(ReadOnlySpan<byte> src)
    {
        uint sum1 = 0, sum2 = 0;
        int words = src.Length / 2, i = 0;
        while (words > 0)
        {
            int tlen = Math.Min(words, 360);
            words -= tlen;
            do
            {
                sum1 += (uint)((src[i] << 8) | src[i + 1]);
                sum2 += sum1;
                i += 2;
            } while (--tlen > 0);
            sum1 = (sum1 & 0xffff) + (sum1 >> 16);
            sum2 = (sum2 & 0xffff) + (sum2 >> 16);
        }
        if (src.Length % 2 == 1)
        {
            sum1 += (uint)(src[i] << 8);
            sum2 += sum1;
            sum1 = (sum1 & 0xffff) + (sum1 >> 16);
            sum2 = (sum2 & 0xffff) + (sum2 >> 16);
        }
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
        return (sum2 << 16) | sum1;
    }
}
