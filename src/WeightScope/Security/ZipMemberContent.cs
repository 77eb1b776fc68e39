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
    private string? _spill;

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

    /// <summary>
    /// The whole member as a file (disposed with this). A deflated member is inflated in memory up to
    /// <see cref="SpillBytes"/> and streamed on into a temporary file past that, which is mapped like any file: a 2 GB
    /// object array costs page cache, not the process's heap (the file is unlinked as soon as it is mapped, so nothing
    /// is left behind even if the process is killed).
    /// </summary>
    /// <exception cref="ReaderLimitException">A deflated member inflates past the limit.</exception>
    public MappedFile AsFile()
    {
        if (_whole is not null) return _whole;
        long data = _zip.DataOffset(_entry);
        if (_entry.IsStored) return _whole = _file.Slice(data, _entry.CompressedSize);
        var memory = new MemoryStream();
        Stream output = memory;
        var buffer = new byte[1 << 16];
        long inflated = 0;
        try
        {
            using var z = new DeflateStream(_file.OpenRange(data, _entry.CompressedSize), CompressionMode.Decompress);
            while (true)
            {
                int n;
                try { n = z.Read(buffer); }
                catch (Exception x) when (x is InvalidDataException or IOException) { throw Corrupt(inflated, x); }
                if (n == 0) break;
                if (inflated + n > _limits.MaxDecompressedBytes)
                    throw new ReaderLimitException("zip", nameof(ReaderLimits.MaxDecompressedBytes), inflated + n, _limits.MaxDecompressedBytes, _entry.LocalHeaderOffset, _member);
                if (output == memory && inflated + n > SpillBytes) output = Spill(memory);
                try { output.Write(buffer, 0, n); }
                catch (IOException x) when (output != memory)
                {
                    // Not the file's fault (a full disk): said as an I/O error, naming where the bytes were going.
                    throw new IOException($"{_member}: could not write the inflated member to a temporary file in {Path.GetTempPath()} ({x.Message}); set TMPDIR to a folder with room", x);
                }
                inflated += n;
            }
        }
        finally
        {
            if (output != memory) output.Dispose();
        }
        if (output == memory)
        {
            var bytes = memory.Length == memory.GetBuffer().Length ? memory.GetBuffer() : memory.ToArray();
            return _whole = MappedFile.FromArray(bytes);
        }
        _whole = MappedFile.Open(_spill!);
        // Once mapped, the name is not needed: unlink it now where the system allows (POSIX); elsewhere on Dispose.
        if (!OperatingSystem.IsWindows()) ReleaseSpill();
        return _whole;
    }

    /// <summary>Inflated bytes held in memory before the rest goes to a temporary file.</summary>
    internal const int SpillBytes = 64 << 20;

    // The temporary file is registered with TempFiles, so Ctrl-C or SIGTERM during the inflation deletes it too.
    private FileStream Spill(MemoryStream memory)
    {
        _spill = Writing.TempFiles.Create(Path.GetTempPath(), "weightscope-scan-member");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.Read, BufferSize = 1 << 16 };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // the model's bytes are the user's
            var stream = new FileStream(_spill, options);
            memory.Position = 0;
            memory.CopyTo(stream);
            memory.SetLength(0);
            memory.Capacity = 0;
            return stream;
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException)
        {
            ReleaseSpill();
            throw new IOException($"{_member}: the member inflates past {SpillBytes} bytes, and no temporary file could be created in {Path.GetTempPath()} to scan it ({x.Message}); set TMPDIR to a writable folder", x);
        }
    }

    private InvalidModelContentException Corrupt(long inflated, Exception x) =>
        new("zip", $"deflate stream is corrupt after {inflated} inflated bytes ({x.Message})", _entry.LocalHeaderOffset, _member, x);

    private void ReleaseSpill()
    {
        if (_spill is null) return;
        Writing.TempFiles.Release(_spill);
        _spill = null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _whole?.Dispose();
        ReleaseSpill();
    }
}
