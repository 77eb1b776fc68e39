using Microsoft.Win32.SafeHandles;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>
/// A contiguous dataset's bytes in the mapped file: zero-copy spans as <see cref="MappedStorage"/> gives, but a large
/// copy (a whole tensor's <c>ToArray</c>) is read with <c>pread</c> instead of copied out of the mapping. The kernel's
/// copy from the page cache is about three times faster than faulting the mapping in page by page (measured on the
/// bench/hdf5_bench.sh files), and it is what libhdf5 does for h5py's <c>ds[()]</c>.
/// </summary>
internal sealed class ContiguousStorage : TensorStorage
{
    /// <summary>Reads at least this large go through the file handle; smaller ones copy from the mapping.</summary>
    private const int PreadThreshold = 1 << 20;

    private readonly MappedFile _file;
    private readonly long _start;

    public ContiguousStorage(MappedFile file, long start, long length, string key) : base(key)
    {
        if (!file.Contains(start, length)) throw new ArgumentOutOfRangeException(nameof(start), "storage range outside the file");
        _file = file;
        _start = start;
        ByteLength = length;
    }

    /// <inheritdoc />
    public override long ByteLength { get; }

    /// <inheritdoc />
    public override void Read(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        if (destination.Length < PreadThreshold || _file.Path is null || !TryPread(_file.Path, _start + offset, destination))
            _file.Read(_start + offset, destination);
    }

    /// <inheritdoc />
    public override bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
    {
        CheckRange(offset, length);
        span = _file.Span(_start + offset, length);
        return true;
    }

    // A handle per read: no lifetime to tie to the model (the mapping stays the model's only resource), and opening a
    // file costs microseconds against a read of a megabyte or more. Falls back to the mapping if the file changed.
    private bool TryPread(string path, long position, Span<byte> destination)
    {
        SafeFileHandle handle;
        try { handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        using (handle)
        {
            if (RandomAccess.GetLength(handle) != _file.Length) return false;
            HugePages.Advise(destination);
            while (destination.Length > 0)
            {
                int n = RandomAccess.Read(handle, destination, position);
                if (n <= 0) return false;
                destination = destination[n..];
                position += n;
            }
            return true;
        }
    }
}
