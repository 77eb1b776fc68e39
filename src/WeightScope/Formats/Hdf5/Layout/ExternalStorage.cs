using Microsoft.Win32.SafeHandles;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>Where external data files are looked for, and whether they may lie outside the HDF5 file's folder.</summary>
/// <param name="Hdf5Path">The HDF5 file; null when it was opened from a stream, when no folder is known.</param>
/// <param name="AllowOutside"><see cref="ReaderOptions.AllowExternalPaths"/>.</param>
internal sealed record ExternalFileAccess(string? Hdf5Path, bool AllowOutside)
{
    private string? Folder => Hdf5Path is null ? null : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Hdf5Path));

    /// <summary>The full path of a segment's file, or null with a refusal naming the dataset and the slot.</summary>
    public string? TryResolve(ExternalSegment segment, out string? refusal)
    {
        refusal = null;
        if (Folder is null)
        {
            refusal = $"external data file '{segment.Name}' cannot be located: the HDF5 file was opened from a stream (open it by path)";
            return null;
        }
        string? full = ContainedPath.Resolve(Folder, segment.Name, AllowOutside, out var why);
        if (full is null)
            refusal = $"external data file '{segment.Name}' {why}: it must lie inside the HDF5 file's folder ({Folder}); refused (pass --allow-external-paths, ReaderOptions.AllowExternalPaths, for a trusted file)";
        return full;
    }

    /// <summary>The full path of a segment's file; a refusal is thrown, naming the file, the dataset and the slot.</summary>
    public string Resolve(ExternalSegment segment, string dataset) =>
        TryResolve(segment, out var refusal) ?? throw new ModelFormatException(Hdf5Format.FormatName, refusal!, segment.At, dataset) { FilePath = Hdf5Path };
}

/// <summary>
/// A contiguous dataset stored in external files (<see cref="ExternalFileList"/>): its bytes are the segments one after
/// another, each read from its file when asked, as libhdf5's H5D__efl_read does — except that a file too short for its
/// segment is refused, where libhdf5 returns zeros past its end: values that live elsewhere are never made up. Files
/// are resolved against the HDF5 file's folder under the containment rule (<see cref="ContainedPath"/>) and opened
/// per read, so nothing is held open between reads.
/// </summary>
internal sealed class ExternalStorage : TensorStorage
{
    private readonly IReadOnlyList<ExternalSegment> _segments;
    private readonly ExternalFileAccess _access;

    private ExternalStorage(long byteLength, IReadOnlyList<ExternalSegment> segments, ExternalFileAccess access, string key) : base(key)
    {
        ByteLength = byteLength;
        _segments = segments;
        _access = access;
    }

    /// <inheritdoc />
    public override long ByteLength { get; }

    /// <summary>The storage for <paramref name="bytes"/> bytes held by <paramref name="segments"/>, checked to hold them all.</summary>
    public static ExternalStorage Create(long bytes, IReadOnlyList<ExternalSegment> segments, ExternalFileAccess access, long at, string path)
    {
        ulong total = 0;
        foreach (var s in segments)
        {
            if (s.Size != ExternalFileList.Unlimited && s.Offset > long.MaxValue - s.Size)
                throw Hdf5Errors.Invalid($"external data file '{s.Name}' segment at offset {s.Offset} of {s.Size} bytes runs past 2^63", s.At, path);
            total = s.Size == ExternalFileList.Unlimited || total > ulong.MaxValue - s.Size ? ulong.MaxValue : total + s.Size;
        }
        if (total < (ulong)bytes)
            throw Hdf5Errors.Invalid($"external data files hold {total} bytes, the dataset needs {bytes}", at, path);
        return new ExternalStorage(bytes, segments, access, path);
    }

    /// <inheritdoc />
    protected override void ReadCore(long offset, Span<byte> destination)
    {
        long logical = 0; // where the current segment starts among the dataset's bytes
        foreach (var segment in _segments)
        {
            if (destination.IsEmpty) return;
            long length = segment.Size == ExternalFileList.Unlimited || segment.Size > (ulong)(long.MaxValue - logical) ? long.MaxValue - logical : (long)segment.Size;
            if (offset < logical + length)
            {
                long skip = offset - logical;
                int n = (int)Math.Min(destination.Length, length - skip);
                ReadSegment(segment, (long)segment.Offset + skip, destination[..n]);
                destination = destination[n..];
                offset += n;
            }
            logical += length;
        }
    }

    private void ReadSegment(ExternalSegment segment, long position, Span<byte> destination)
    {
        string full = _access.Resolve(segment, Key);
        try
        {
            using SafeFileHandle handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.Read);
            long length = RandomAccess.GetLength(handle);
            if (position + destination.Length > length)
                throw Error($"external data file '{segment.Name}' holds {length} bytes; the dataset's bytes there run to {position + destination.Length} " +
                            "(libhdf5 would read zeros past its end; the values are not in the file)", segment);
            while (!destination.IsEmpty)
            {
                int n = RandomAccess.Read(handle, destination, position);
                if (n == 0) throw Error($"external data file '{segment.Name}' ended at {position} while being read", segment);
                destination = destination[n..];
                position += n;
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Error($"external data file '{segment.Name}' does not exist (looked for {full})", segment);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error($"external data file '{segment.Name}' cannot be read ({full}): {e.Message}", segment);
        }
    }

    private InvalidModelContentException Error(string message, ExternalSegment segment)
    {
        var e = Hdf5Errors.Invalid(message, segment.At, Key);
        e.FilePath = _access.Hdf5Path;
        return e;
    }
}
