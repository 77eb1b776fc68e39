using System.IO.Compression;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.NumPy;

/// <summary>
/// One member of an npz archive as an npy byte stream. Stored members are read straight from the mapped file
/// (header parsed in place, data mapped zero-copy). Deflated members (<c>np.savez_compressed</c>) inflate only the few
/// bytes of their header when the archive is opened; their data is inflated into memory on first access, never to disk.
/// </summary>
internal sealed class NpzMember
{
    private const int SkipBufferSize = 16 * 1024, GrowthChunk = 4096;

    private readonly MappedFile _file;
    private readonly ZipEntry _entry;
    private readonly long _data;

    private NpzMember(MappedFile file, ZipEntry entry, long data)
    {
        _file = file;
        _entry = entry;
        _data = data;
        Source = NpySource.Member(entry.Name);
    }

    /// <summary>The format and entry errors are reported against.</summary>
    public NpySource Source { get; }

    /// <summary>Uncompressed length of the member.</summary>
    public long Length => _entry.UncompressedSize;

    /// <summary>Checks the member's compression and sizes and locates its data.</summary>
    public static NpzMember Open(ZipIndex zip, MappedFile file, ZipEntry entry, ReaderLimits limits)
    {
        var source = NpySource.Member(entry.Name);
        switch (entry.Method)
        {
            case ZipIndex.MethodStored:
                if (entry.CompressedSize != entry.UncompressedSize)
                    throw NpyErrors.Invalid(source, $"stored (uncompressed) member has compressed size {entry.CompressedSize} "
                                                    + $"but uncompressed size {entry.UncompressedSize}", 0);
                break;
            case ZipIndex.MethodDeflate:
                ZipIndex.CheckDeclaredSize(entry, limits, source.Format, 0);
                if (entry.UncompressedSize > ZipIndex.MaxInflatedSize(entry))
                    throw NpyErrors.Invalid(source, $"deflated member declares {entry.UncompressedSize} uncompressed bytes, more than "
                                                    + $"{entry.CompressedSize} compressed bytes can inflate to", 0);
                break; // inflated only when the values are read: no ratio limit (see ZipIndex.CheckRatio)
            default:
                throw NpyErrors.Unsupported(source, $"zip compression method {entry.Method} (np.savez writes stored (0) and "
                                                    + "np.savez_compressed deflate (8) members)", 0);
        }
        return new NpzMember(file, entry, zip.DataOffset(entry));
    }

    /// <summary>The first <paramref name="count"/> bytes of the member (count ≤ <see cref="Length"/>).</summary>
    public ReadOnlySpan<byte> Head(int count)
    {
        if (_entry.IsStored) return _file.Span(_data, count);
        return InflatePrefix(count);
    }

    /// <summary>A storage over the array data that follows <paramref name="header"/>.</summary>
    public TensorStorage OpenData(NpyHeader header, string key)
    {
        if (_entry.IsStored) return new MappedStorage(_file, checked(_data + header.DataOffset), header.DataLength, key);
        if (header.DataLength > Array.MaxLength)
            throw NpyErrors.Unsupported(Source, $"a compressed array of {header.DataLength} bytes (inflated arrays are held in memory, "
                                                + "at most 2 GB each; re-save with np.savez instead of np.savez_compressed)", header.DataOffset);
        return new DecodedStorage(header.DataLength, () => InflateData(header), key);
    }

    // Grows the buffer as bytes arrive, so a member that lies about its header length costs only what it really inflates to.
    private byte[] InflatePrefix(int count)
    {
        var buffer = new byte[Math.Min(count, GrowthChunk)];
        int filled = 0;
        try
        {
            using var z = OpenDeflate();
            while (filled < count)
            {
                if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(count, (long)buffer.Length * 2));
                int n = z.Read(buffer, filled, buffer.Length - filled);
                if (n == 0) throw new EndOfStreamException($"the stream ends after {filled} of the {count} header bytes");
                filled += n;
            }
        }
        catch (Exception x) when (x is InvalidDataException or IOException) // IOException: ZLibException, EndOfStreamException
        {
            throw NpyErrors.CorruptDeflate(Source, "the npy header", filled, x);
        }
        return buffer;
    }

    private byte[] InflateData(NpyHeader header)
    {
        var result = new byte[header.DataLength];
        try
        {
            using var z = OpenDeflate();
            var skip = new byte[(int)Math.Min(SkipBufferSize, Math.Max(1, header.DataOffset))];
            for (long left = header.DataOffset; left > 0;)
            {
                int n = z.Read(skip, 0, (int)Math.Min(skip.Length, left));
                if (n == 0) throw new EndOfStreamException("the stream ends inside the npy header");
                left -= n;
            }
            z.ReadExactly(result);
        }
        catch (Exception x) when (x is InvalidDataException or IOException) // IOException: ZLibException, EndOfStreamException
        {
            throw NpyErrors.CorruptDeflate(Source, $"the array data ({header.DataLength} bytes from member offset {header.DataOffset})", header.DataOffset, x);
        }
        return result;
    }

    private DeflateStream OpenDeflate() => new(_file.OpenRange(_data, _entry.CompressedSize), CompressionMode.Decompress);
}
