using System.IO.Compression;
using WeightScope.IO;

namespace WeightScope.Security;

/// <summary>
/// joblib's compressed dumps (<c>joblib/compressor.py</c>): the whole pickle stream, array bytes included, goes through one
/// compressor, recognised as joblib's <c>_detect_compressor</c> does, by its first bytes. zlib and gzip are inflated with
/// System.IO.Compression; bz2, xz, lzma and lz4 have no decoder in .NET's base library, so they are refused with the
/// command that decompresses them (which runs no pickle).
/// </summary>
internal static class JoblibCompression
{
    /// <summary>The compressor that wrote a file starting with <paramref name="head"/>, or null for none.</summary>
    public static string? Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length < 2) return null;
        // zlib: CMF 0x78 (deflate, 32 KiB window) and a header check that makes CMF·256 + FLG a multiple of 31. 'x' is no
        // pickle opcode, so a bare pickle never starts this way.
        if (head[0] == 0x78 && (head[0] * 256 + head[1]) % 31 == 0) return "zlib";
        if (head[0] == 0x1f && head[1] == 0x8b) return "gzip";
        if (head.StartsWith("BZh"u8)) return "bz2";
        if (head.StartsWith((ReadOnlySpan<byte>)[0xfd, 0x37, 0x7a, 0x58, 0x5a])) return "xz";
        if (head.StartsWith((ReadOnlySpan<byte>)[0x5d, 0x00, 0x00])) return "lzma";
        if (head.StartsWith((ReadOnlySpan<byte>)[0x04, 0x22, 0x4d, 0x18])) return "lz4";
        return null;
    }

    /// <summary>The decompressed stream, bounded by <see cref="ReaderLimits.MaxDecompressedBytes"/> (and by what one array can hold).</summary>
    /// <exception cref="ModelFormatException">A compressor without a decoder here, corrupt data, or the limit crossed.</exception>
    public static ReadOnlyMemory<byte> Inflate(MappedFile file, string path, string compression, ReaderLimits limits)
    {
        const string format = "joblib";
        string? tool = compression switch
        {
            "bz2" => "bzip2 -dc FILE > FILE.pkl",
            "xz" => "xz -dc FILE > FILE.pkl",
            "lzma" => "xz --format=lzma -dc FILE > FILE.pkl",
            "lz4" => "lz4 -dc FILE > FILE.pkl",
            _ => null,
        };
        if (tool is not null)
            throw Error(path, $"a joblib dump compressed with {compression}, which WeightScope cannot decompress; decompress it first (`{tool}`, which runs no pickle) and scan the result");
        long cap = Math.Min(limits.MaxDecompressedBytes, Array.MaxLength);
        using var input = file.OpenRange(0, file.Length);
        using Stream inflater = compression == "gzip" ? new GZipStream(input, CompressionMode.Decompress) : new ZLibStream(input, CompressionMode.Decompress);
        var output = new MemoryStream();
        var buffer = new byte[1 << 16];
        try
        {
            int n;
            while ((n = inflater.Read(buffer)) > 0)
            {
                if (output.Length + n > cap)
                {
                    if (cap == limits.MaxDecompressedBytes)
                        throw new ReaderLimitException(format, nameof(ReaderLimits.MaxDecompressedBytes), output.Length + n, limits.MaxDecompressedBytes, 0) { FilePath = path };
                    throw Error(path, $"the decompressed stream is larger than WeightScope scans ({Array.MaxLength} bytes)");
                }
                output.Write(buffer, 0, n);
            }
        }
        catch (InvalidDataException x)
        {
            throw Error(path, $"the {compression} stream is corrupt after {output.Length} decompressed bytes: {x.Message}");
        }
        return output.GetBuffer().AsMemory(0, (int)output.Length); // the stream's own buffer: no second copy of a large dump
    }

    private static ModelFormatException Error(string path, string message) => new("joblib", message, 0) { FilePath = path };
}
