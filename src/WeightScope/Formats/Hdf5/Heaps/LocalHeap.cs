using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Heaps;

/// <summary>The local heap (specification §III.D, <c>HEAP</c>): the link names of an old-style group, the file names of external storage.</summary>
internal sealed class LocalHeap
{
    private static ReadOnlySpan<byte> Signature => "HEAP"u8;
    private readonly Hdf5File _file;
    private readonly long _dataStart;
    private readonly int _dataSize;

    private LocalHeap(Hdf5File file, long dataStart, int dataSize)
    {
        _file = file;
        _dataStart = dataStart;
        _dataSize = dataSize;
    }

    /// <summary>Reads the heap header at <paramref name="address"/>.</summary>
    public static LocalHeap Read(Hdf5File file, ulong address, long at, string path)
    {
        var r = file.ReaderAt(address, 8 + 2L * file.LengthSize + file.OffsetSize, "local heap", at, path);
        if (!r.ReadBytes(4).SequenceEqual(Signature)) throw Hdf5Errors.Invalid("local heap does not start with HEAP", r.Offset - 4, path);
        int version = r.ReadByte();
        if (version != 0) throw Hdf5Errors.Unsupported($"local heap version {version}", r.Offset - 1, path);
        r.ReadBytes(3);
        ulong size = file.ReadLength(ref r);
        file.ReadLength(ref r); // free list head
        ulong data = file.ReadAddress(ref r);
        if (size > int.MaxValue) throw Hdf5Errors.Invalid($"local heap data segment of {size} bytes", r.Offset, path);
        long start = file.Resolve(data, (long)size, "local heap data segment", r.Offset, path);
        return new LocalHeap(file, start, (int)size);
    }

    /// <summary>The NUL-terminated string at <paramref name="offset"/> within the data segment.</summary>
    public string String(ulong offset, long at, string path)
    {
        if (offset >= (ulong)_dataSize) throw Hdf5Errors.Invalid($"name offset {offset} is beyond the local heap's {_dataSize} bytes", at, path);
        var s = _file.File.Span(_dataStart + (long)offset, _dataSize - (int)offset);
        int nul = s.IndexOf((byte)0);
        if (nul < 0) throw Hdf5Errors.Invalid("name in the local heap has no terminating NUL", _dataStart + (long)offset, path);
        return System.Text.Encoding.UTF8.GetString(s[..nul]);
    }
}
