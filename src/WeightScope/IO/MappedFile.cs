using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace WeightScope.IO;

/// <summary>
/// The bytes of a model file: memory-mapped read-only (or an in-memory array for streams), with bounds-checked slices.
/// Nothing is copied until a caller copies it; the operating system pages in only what is touched.
/// Large copies (<see cref="Read"/> of <see cref="PositionalReadThreshold"/> bytes or more: a whole tensor's
/// <c>ToArray</c>) go through the file's own handle with positional reads instead of out of the mapping: the kernel's
/// copy from the page cache is about three times faster than faulting the mapping in 4 KiB page by page (measured with
/// bench/hdf5_bench.sh), and it is what libhdf5 and numpy do. The handle is the one the mapping was made from, so a
/// read never sees another file put at the same path since.
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    /// <summary>Reads at least this large use positional reads on the file handle; smaller ones copy from the mapping.</summary>
    internal const int PositionalReadThreshold = 64 << 10;

    private readonly SafeFileHandle? _handle;
    private readonly long _handleOffset;
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _pointer;
    private readonly byte[]? _array;
    private readonly int _arrayOffset;
    private readonly MappedFile? _parent;
    private bool _disposed;

    private MappedFile(string? path, long length, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte[]? array, SafeFileHandle? handle = null)
    {
        _handle = handle;
        Path = path;
        Length = length;
        _map = map;
        _view = view;
        _array = array;
        if (view is not null)
        {
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _pointer = p + view.PointerOffset;
        }
    }

    // A slice: a view of a range of another mapped file (a stored zip member), sharing its memory and owning nothing.
    private MappedFile(MappedFile parent, long offset, long length)
    {
        Path = parent.Path;
        Length = length;
        _parent = parent;
        _handle = parent._handle;
        _handleOffset = parent._handleOffset + offset;
        _array = parent._array;
        if (parent._array is not null) _arrayOffset = checked(parent._arrayOffset + (int)offset);
        else _pointer = parent._pointer + offset;
    }

    /// <summary>The path this was opened from, or null for in-memory data.</summary>
    public string? Path { get; }

    /// <summary>Length in bytes.</summary>
    public long Length { get; }

    /// <summary>Maps a file read-only. An empty file is held as an empty array (it cannot be mapped).</summary>
    public static MappedFile Open(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            long length = RandomAccess.GetLength(handle);
            if (length == 0)
            {
                handle.Dispose();
                return new MappedFile(path, 0, null, null, []);
            }
            // The handle stays open for positional reads (leaveOpen: this object disposes it after the mapping).
            var map = MemoryMappedFile.CreateFromFile(handle, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            try
            {
                var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
                return new MappedFile(path, length, map, view, null, handle);
            }
            catch
            {
                map.Dispose();
                throw;
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Wraps bytes already in memory.</summary>
    public static MappedFile FromArray(byte[] data, string? path = null) => new(path, data.Length, null, null, data);

    /// <summary>
    /// A view of <paramref name="length"/> bytes at <paramref name="offset"/> as a file of its own (offsets start at 0),
    /// sharing this file's memory: a stored zip member read in place. It owns nothing; this file must outlive it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the file.</exception>
    public MappedFile Slice(long offset, long length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!Contains(offset, length))
            throw new ArgumentOutOfRangeException(nameof(offset), $"range {offset}+{length} is outside the file of {Length} bytes");
        return new MappedFile(this, offset, length);
    }

    /// <summary>True when <paramref name="length"/> bytes at <paramref name="offset"/> lie inside the file.</summary>
    public bool Contains(long offset, long length) => offset >= 0 && length >= 0 && offset <= Length && length <= Length - offset;

    /// <summary>A read-only view of <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the file.</exception>
    public ReadOnlySpan<byte> Span(long offset, int length)
    {
        ThrowIfDisposed();
        if (!Contains(offset, length))
            throw new ArgumentOutOfRangeException(nameof(offset), $"range {offset}+{length} is outside the file of {Length} bytes");
        return _array is not null ? _array.AsSpan(_arrayOffset + (int)offset, length) : new ReadOnlySpan<byte>(_pointer + offset, length);
    }

    /// <summary>Copies bytes at <paramref name="offset"/> into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the file.</exception>
    public void Read(long offset, Span<byte> destination)
    {
        ThrowIfDisposed();
        if (!Contains(offset, destination.Length))
            throw new ArgumentOutOfRangeException(nameof(offset), $"range {offset}+{destination.Length} is outside the file of {Length} bytes");
        if (_handle is not null && destination.Length >= PositionalReadThreshold && TryReadPositional(offset, destination)) return;
        // Spans are limited to int lengths; large reads go in chunks.
        const int Chunk = 1 << 30;
        while (destination.Length > 0)
        {
            int n = Math.Min(destination.Length, Chunk);
            Span(offset, n).CopyTo(destination);
            destination = destination[n..];
            offset += n;
        }
    }

    /// <summary>Reads at least this large are split in two halves read on two threads (see <see cref="TryReadPositional"/>).</summary>
    internal const int SplitReadThreshold = 8 << 20;

    // Positional reads are thread-safe on one handle (chunks decode in parallel). A short read means the file shrank
    // under the mapping; the caller then copies from the mapping, which reports it the way every other read does.
    // One kernel copy from the page cache runs well below memory bandwidth, so a large read goes in two halves on two
    // threads: reading every tensor of the GPT-2-like files took 12-20% less time (bench/ReadAll, 2 cores: .safetensors
    // 0.5 GB 182 → 158 ms, 1.6 GB 366 → 293 ms; .pt 1.4 GB 295 → 259 ms; .h5 1.6 GB 314 → 250 ms). Copying out of
    // the mapping instead was slower (196 vs 186 ms) and made the whole file resident.
    private bool TryReadPositional(long offset, Span<byte> destination)
    {
        HugePages.Advise(destination);
        long position = _handleOffset + offset;
        if (destination.Length < SplitReadThreshold || Environment.ProcessorCount < 2) return ReadFully(destination, position);
        int half = (destination.Length / 2) & ~4095; // the second half starts on a page boundary of the destination's offset
        fixed (byte* p = destination)
        {
            nint first = (nint)p;
            var other = Task.Run(() => ReadFully(new Span<byte>((byte*)first, half), position));
            bool second;
            try { second = ReadFully(destination[half..], position + half); }
            finally { ((IAsyncResult)other).AsyncWaitHandle.WaitOne(); } // even on an error: the other half writes into pinned memory
            return other.GetAwaiter().GetResult() & second;
        }
    }

    private bool ReadFully(Span<byte> destination, long position)
    {
        while (destination.Length > 0)
        {
            int n = RandomAccess.Read(_handle!, destination, position);
            if (n <= 0) return false;
            destination = destination[n..];
            position += n;
        }
        return true;
    }

    /// <summary>A stream over a range of the file (for inflating compressed members without copying them first).</summary>
    public Stream OpenRange(long offset, long length)
    {
        ThrowIfDisposed();
        if (!Contains(offset, length))
            throw new ArgumentOutOfRangeException(nameof(offset), $"range {offset}+{length} is outside the file of {Length} bytes");
        if (_array is not null) return new MemoryStream(_array, _arrayOffset + (int)offset, (int)length, writable: false);
        return new UnmanagedMemoryStream(_pointer + offset, length);
    }

    // A slice is unusable once the file it views is disposed (its pointer would dangle).
    private void ThrowIfDisposed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_parent is not null) _parent.ThrowIfDisposed();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
        if (_parent is null) _handle?.Dispose(); // a slice borrows its parent's handle
    }
}
