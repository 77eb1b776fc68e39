using System.IO.Compression;
using K4os.Compression.LZ4;

namespace WeightScope.Formats.Hdf5.Filters;

/// <summary>
/// The general-purpose codecs the plugin filters wrap, each decoding into a bounded buffer: an LZ4 block
/// (K4os.Compression.LZ4, a managed port of liblz4's <c>LZ4_decompress_safe</c>), a zstd frame (ZstdSharp, a port of
/// libzstd), a zlib stream (System.IO.Compression) and a bzip2 stream (SharpZipLib). A failure becomes a
/// <see cref="InvalidModelContentException"/> naming the filter.
/// </summary>
internal static class Codecs
{
    private const int StreamBuffer = 64 << 10;

    /// <summary>Decodes an LZ4 block that must fill <paramref name="output"/> exactly.</summary>
    public static void Lz4Block(ReadOnlySpan<byte> input, Span<byte> output, string filter, long at, string path)
    {
        int n = LZ4Codec.Decode(input, output);
        if (n != output.Length) throw Corrupt(filter, $"an LZ4 block decodes to {(n < 0 ? "an error" : $"{n} bytes")}, expected {output.Length}", at, path);
    }

    /// <summary>Decodes a zstd frame that must fill <paramref name="output"/> exactly.</summary>
    public static void ZstdFrame(ReadOnlySpan<byte> input, Span<byte> output, string filter, long at, string path)
    {
        int n;
        try
        {
            using var zstd = new ZstdSharp.Decompressor();
            n = zstd.Unwrap(input, output);
        }
        catch (ZstdSharp.ZstdException e) { throw Corrupt(filter, $"a zstd frame is corrupt: {e.Message}", at, path); }
        if (n != output.Length) throw Corrupt(filter, $"a zstd frame decodes to {n} bytes, expected {output.Length}", at, path);
    }

    /// <summary>Decodes a zlib stream that must fill <paramref name="output"/> exactly.</summary>
    public static void Zlib(byte[] input, int offset, int length, Span<byte> output, string filter, long at, string path)
    {
        try
        {
            using var z = new ZLibStream(new MemoryStream(input, offset, length, writable: false), CompressionMode.Decompress);
            int total = 0;
            while (total < output.Length)
            {
                int n = z.Read(output[total..]);
                if (n == 0) break;
                total += n;
            }
            if (total != output.Length) throw Corrupt(filter, $"a zlib stream decodes to {total} bytes, expected {output.Length}", at, path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw Corrupt(filter, $"a zlib stream is corrupt: {e.Message}", at, path);
        }
    }

    /// <summary>
    /// Reads a decompressing stream to its end, growing with the data actually produced; more than
    /// <paramref name="maxBytes"/> is refused (a chunk never decodes to more than the chunk's size).
    /// </summary>
    public static byte[] ReadBounded(Func<Stream> open, int maxBytes, string filter, long at, string path)
    {
        try
        {
            using var s = open();
            using var output = new MemoryStream();
            var buffer = new byte[StreamBuffer];
            while (true)
            {
                int n = s.Read(buffer, 0, buffer.Length);
                if (n == 0) break;
                if (output.Length + n > maxBytes)
                    throw Corrupt(filter, $"the chunk decodes to more than its {maxBytes} bytes", at, path);
                output.Write(buffer, 0, n);
            }
            return output.ToArray();
        }
        // The codecs are third-party ports whose failure modes on corrupt input are not all documented (SharpZipLib's bzip2
        // throws NullReferenceException on some, found by FilterMutationTests): any failure but running out of memory is
        // the chunk's corruption.
        catch (Exception e) when (e is not (ModelFormatException or OutOfMemoryException))
        {
            throw Corrupt(filter, $"the compressed stream is corrupt: {e.Message}", at, path);
        }
    }

    /// <summary>A corrupt chunk of the named filter.</summary>
    public static InvalidModelContentException Corrupt(string filter, string detail, long at, string path) =>
        Hdf5Errors.Invalid($"{filter} chunk cannot be decoded: {detail}", at, path);
}
