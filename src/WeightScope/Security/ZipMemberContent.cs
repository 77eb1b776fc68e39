using System.IO.Compression;
using WeightScope.IO;

namespace WeightScope.Security;

/// <summary>
/// A zip member as the scan reads it: its first bytes (inflated no further than asked), or all of it as a file of its
/// own — a view of the archive for a stored member, the inflated bytes for a deflated one, bounded by
/// <see cref="ReaderLimits.MaxDecompressedBytes"/> (and the largest array .NET allows) as they are inflated, whatever size
/// the member declares.
/// </summary>
internal sealed class ZipMemberContent : IDisposable
{
    private readonly ZipIndex _zip;
    private readonly MappedFile _file;
    private readonly ZipEntry _entry;
    private readonly string _member;
    private readonly ReaderLimits _limits;
    private byte[] _head = [];
    private MappedFile? _whole;

    private ZipMemberContent(ZipIndex zip, MappedFile file, ZipEntry entry, string member, ReaderLimits limits)
    {
        (_zip, _file, _entry, _member, _limits) = (zip, file, entry, member, limits);
    }

    /// <summary>The member <paramref name="entry"/> of <paramref name="zip"/>, named <paramref name="member"/> in messages.</summary>
    /// <exception cref="ModelFormatException">A compression method other than stored or deflate, or an inconsistent stored member.</exception>
    public static ZipMemberContent Open(ZipIndex zip, MappedFile file, ZipEntry entry, string member, ReaderLimits limits)
    {
        if (entry.Method is not (ZipIndex.MethodStored or ZipIndex.MethodDeflate))
            throw new UnsupportedModelFeatureException("zip", $"compression method {entry.Method} (only stored and deflate are read)", entry.LocalHeaderOffset, member);
        if (entry.IsStored && entry.CompressedSize != entry.UncompressedSize)
            throw new InvalidModelContentException("zip", $"stored member has compressed size {entry.CompressedSize} but uncompressed size {entry.UncompressedSize}", entry.LocalHeaderOffset, member);
        return new ZipMemberContent(zip, file, entry, member, limits);
    }

    /// <summary>Up to <paramref name="count"/> first bytes (fewer when the member is shorter).</summary>
    public ReadOnlySpan<byte> Head(int count)
    {
        if (_head.Length >= count || _whole is not null) return _whole is null ? _head.AsSpan(0, count) : PickleScanner.Whole(_whole)[..(int)Math.Min(count, _whole.Length)];
        long data = _zip.DataOffset(_entry);
        if (_entry.IsStored)
        {
            _head = _file.Span(data, (int)Math.Min(count, _entry.CompressedSize)).ToArray();
            return _head;
        }
        var buffer = new byte[count];
        int n;
        try
        {
            using var z = new DeflateStream(_file.OpenRange(data, _entry.CompressedSize), CompressionMode.Decompress);
            n = z.ReadAtLeast(buffer, count, throwOnEndOfStream: false);
        }
        catch (Exception x) when (x is InvalidDataException or IOException)
        {
            throw new InvalidModelContentException("zip", $"deflate stream is corrupt ({x.Message})", _entry.LocalHeaderOffset, _member, x);
        }
        _head = buffer[..n];
        return _head;
    }

    /// <summary>The whole member as a file (disposed with this).</summary>
    /// <exception cref="ReaderLimitException">A deflated member inflates past the limit.</exception>
    public MappedFile AsFile()
    {
        if (_whole is not null) return _whole;
        long data = _zip.DataOffset(_entry);
        if (_entry.IsStored) return _whole = _file.Slice(data, _entry.CompressedSize);
        long cap = Math.Min(_limits.MaxDecompressedBytes, Array.MaxLength);
        var output = new MemoryStream();
        var buffer = new byte[1 << 16];
        try
        {
            using var z = new DeflateStream(_file.OpenRange(data, _entry.CompressedSize), CompressionMode.Decompress);
            int n;
            while ((n = z.Read(buffer)) > 0)
            {
                if (output.Length + n > cap)
                {
                    if (cap == _limits.MaxDecompressedBytes)
                        throw new ReaderLimitException("zip", nameof(ReaderLimits.MaxDecompressedBytes), output.Length + n, _limits.MaxDecompressedBytes, _entry.LocalHeaderOffset, _member);
                    throw new UnsupportedModelFeatureException("zip", $"a member that inflates past {Array.MaxLength} bytes (the scan holds an inflated member in memory)", _entry.LocalHeaderOffset, _member);
                }
                output.Write(buffer, 0, n);
            }
        }
        catch (Exception x) when (x is InvalidDataException or IOException)
        {
            throw new InvalidModelContentException("zip", $"deflate stream is corrupt after {output.Length} inflated bytes ({x.Message})", _entry.LocalHeaderOffset, _member, x);
        }
        var bytes = output.Length == output.GetBuffer().Length ? output.GetBuffer() : output.ToArray();
        return _whole = MappedFile.FromArray(bytes);
    }

    /// <inheritdoc />
    public void Dispose() => _whole?.Dispose();
}
