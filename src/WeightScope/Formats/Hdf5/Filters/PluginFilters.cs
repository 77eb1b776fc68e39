using System.Buffers.Binary;

namespace WeightScope.Formats.Hdf5.Filters;

/// <summary>
/// The single-codec plugin filters: each chunk is one codec's output, with the plugin's own framing.
/// </summary>
internal static class PluginFilters
{
    private const string Lz4Name = "LZ4 (filter 32004)";
    private const string ZstdName = "zstd (filter 32015)";
    private const string Bzip2Name = "bzip2 (filter 307)";
    private const int Lz4HeaderSize = 12;

    /// <summary>
    /// The HDF Group's LZ4 plugin (<c>H5Zlz4.c</c>): the decoded size (8 bytes, big-endian) and the block size (4 bytes,
    /// big-endian), then per block its stored size (4 bytes, big-endian) and an LZ4 block — or the block's bytes as they
    /// are when the stored size equals the block size (LZ4 saved nothing).
    /// </summary>
    public static byte[] Lz4(byte[] input, int maxBytes, long at, string path)
    {
        if (input.Length < Lz4HeaderSize) throw Codecs.Corrupt(Lz4Name, "chunk is shorter than its 12-byte header", at, path);
        ulong size = BinaryPrimitives.ReadUInt64BigEndian(input);
        uint blockSize = BinaryPrimitives.ReadUInt32BigEndian(input.AsSpan(8));
        if (size > (ulong)maxBytes) throw Codecs.Corrupt(Lz4Name, $"chunk declares {size} decoded bytes, more than the chunk's {maxBytes}", at, path);
        if (blockSize > size) blockSize = (uint)size;
        if (blockSize == 0 && size > 0) throw Codecs.Corrupt(Lz4Name, "block size is 0", at, path);
        var output = new byte[size];
        int pos = Lz4HeaderSize, written = 0;
        while ((ulong)written < size)
        {
            int block = (int)Math.Min(blockSize, size - (ulong)written);
            if (pos + 4 > input.Length) throw Codecs.Corrupt(Lz4Name, $"block header at byte {pos} lies past the chunk's {input.Length} bytes", at, path);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(input.AsSpan(pos));
            pos += 4;
            if (stored > input.Length - pos) throw Codecs.Corrupt(Lz4Name, $"a block of {stored} bytes at byte {pos} runs past the chunk", at, path);
            if (stored == block) input.AsSpan(pos, block).CopyTo(output.AsSpan(written));
            else Codecs.Lz4Block(input.AsSpan(pos, (int)stored), output.AsSpan(written, block), Lz4Name, at, path);
            pos += (int)stored;
            written += block;
        }
        return output;
    }

    /// <summary>The zstd plugin (<c>zstd_h5plugin.c</c>): the chunk is one zstd frame (<c>ZSTD_compress</c>).</summary>
    public static byte[] Zstd(byte[] input, int maxBytes, long at, string path) =>
        Codecs.ReadBounded(() => new ZstdSharp.DecompressionStream(new MemoryStream(input, writable: false)), maxBytes, ZstdName, at, path);

    /// <summary>The bzip2 plugin (<c>H5Zbzip2.c</c>): the chunk is one bzip2 stream (<c>BZ2_bzBuffToBuffCompress</c>).</summary>
    public static byte[] Bzip2(byte[] input, int maxBytes, long at, string path) =>
        Codecs.ReadBounded(() => new ICSharpCode.SharpZipLib.BZip2.BZip2InputStream(new MemoryStream(input, writable: false)), maxBytes, Bzip2Name, at, path);
}
