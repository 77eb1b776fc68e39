using System.Buffers.Binary;
using System.IO.Compression;

namespace WeightScope.Plotting;

/// <summary>
/// Encodes an RGB raster as PNG (ISO/IEC 15948): signature, IHDR, one IDAT (zlib over filtered scanlines), IEND; each
/// chunk with its CRC-32. Each row gets the filter (None, Sub or Up) whose output has the smallest sum of absolute
/// values, the heuristic the PNG specification recommends (section 12.8).
/// </summary>
public static class PngWriter
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    // IHDR fields (PNG 11.2.2).
    private const byte BitDepth = 8;
    private const byte ColorTypeTruecolor = 2;
    private const byte CompressionDeflate = 0, FilterMethodAdaptive = 0, InterlaceNone = 0;
    private const int BytesPerPixel = 3;

    // Filter types (PNG 9.2).
    private const byte FilterNone = 0, FilterSub = 1, FilterUp = 2;

    /// <summary>Writes <paramref name="image"/> as a PNG file at <paramref name="path"/>.</summary>
    public static void Write(Raster image, string path) => Writing.AtomicFile.Write(path, f => Write(image, f));

    /// <summary>Writes <paramref name="image"/> as PNG to <paramref name="output"/>.</summary>
    public static void Write(Raster image, Stream output)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(output);
        output.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], image.Height);
        header[8] = BitDepth;
        header[9] = ColorTypeTruecolor;
        header[10] = CompressionDeflate;
        header[11] = FilterMethodAdaptive;
        header[12] = InterlaceNone;
        WriteChunk(output, "IHDR"u8, header);

        WriteChunk(output, "IDAT"u8, Compress(image));
        WriteChunk(output, "IEND"u8, []);
    }

    private static byte[] Compress(Raster image)
    {
        int stride = image.Width * BytesPerPixel;
        using var buffer = new MemoryStream();
        using (var z = new ZLibStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            var candidates = new[] { new byte[stride + 1], new byte[stride + 1], new byte[stride + 1] };
            ReadOnlySpan<byte> previous = new byte[stride];
            for (int y = 0; y < image.Height; y++)
            {
                var row = image.Pixels.AsSpan(y * stride, stride);
                Filter(FilterNone, row, previous, candidates[0]);
                Filter(FilterSub, row, previous, candidates[1]);
                Filter(FilterUp, row, previous, candidates[2]);
                z.Write(candidates.MinBy(Cost)!);
                previous = row;
            }
        }
        return buffer.ToArray();
    }

    private static void Filter(byte type, ReadOnlySpan<byte> row, ReadOnlySpan<byte> previous, Span<byte> output)
    {
        output[0] = type;
        for (int i = 0; i < row.Length; i++)
        {
            byte left = i >= BytesPerPixel ? row[i - BytesPerPixel] : (byte)0;
            output[i + 1] = type switch
            {
                FilterSub => (byte)(row[i] - left),
                FilterUp => (byte)(row[i] - previous[i]),
                _ => row[i],
            };
        }
    }

    // Minimum sum of absolute differences, filtered bytes read as signed (PNG 12.8).
    private static long Cost(byte[] filtered)
    {
        long sum = 0;
        for (int i = 1; i < filtered.Length; i++) sum += Math.Abs((int)(sbyte)filtered[i]); // widened first: Math.Abs(sbyte.MinValue) overflows
        return sum;
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        output.Write(type);
        output.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Update(Crc32.Update(0xFFFFFFFF, type), data) ^ 0xFFFFFFFF);
        output.Write(word);
    }
}
