using WeightScope.IO;

namespace WeightScope.Formats.Hdf5;

/// <summary>
/// The open file as the parsers see it: the mapped bytes, the base address every stored address is relative to, and the
/// superblock's sizes of offsets and lengths. Every address goes through <see cref="Resolve"/>, which checks it.
/// </summary>
internal sealed class Hdf5File(MappedFile file, long baseAddress, int offsetSize, int lengthSize, ReaderLimits limits)
{
    /// <summary>The mapped file.</summary>
    public MappedFile File { get; } = file;

    /// <summary>Absolute file offset that stored addresses are relative to (the superblock's position, past a user block).</summary>
    public long BaseAddress { get; } = baseAddress;

    /// <summary>Bytes per stored address ("size of offsets").</summary>
    public int OffsetSize { get; } = offsetSize;

    /// <summary>Bytes per stored length ("size of lengths").</summary>
    public int LengthSize { get; } = lengthSize;

    /// <summary>Safety limits.</summary>
    public ReaderLimits Limits { get; } = limits;

    /// <summary>Stored address of the superblock extension's object header (superblock versions 2 and 3), or null.</summary>
    public ulong? SuperblockExtension { get; init; }

    /// <summary>The shared message table, once a shared message needed it (<see cref="ObjectHeader.SharedMessageTable.Get"/>).</summary>
    internal ObjectHeader.SharedMessageTable? SharedMessages { get; set; }

    /// <summary>The undefined address: all bits set in <see cref="OffsetSize"/> bytes.</summary>
    public ulong Undefined => OffsetSize == 8 ? ulong.MaxValue : (1UL << (OffsetSize * 8)) - 1;

    /// <summary>True for the undefined address.</summary>
    public bool IsUndefined(ulong address) => address == Undefined;

    /// <summary>Reads a stored address.</summary>
    public ulong ReadAddress(ref SpanReader r) => ReadUnsigned(ref r, OffsetSize);

    /// <summary>Reads a stored length.</summary>
    public ulong ReadLength(ref SpanReader r) => ReadUnsigned(ref r, LengthSize);

    /// <summary>Reads a little-endian unsigned integer of 1 to 8 bytes.</summary>
    public static ulong ReadUnsigned(ref SpanReader r, int size)
    {
        var b = r.ReadBytes(size);
        ulong v = 0;
        for (int i = size - 1; i >= 0; i--) v = (v << 8) | b[i];
        return v;
    }

    /// <summary>The absolute file offset of <paramref name="length"/> bytes at a stored address, checked against the file.</summary>
    public long Resolve(ulong address, long length, string what, long at, string? path)
    {
        if (IsUndefined(address)) throw Hdf5Errors.Invalid($"{what} has the undefined address", at, path);
        if (address > (ulong)File.Length || length < 0)
            throw Hdf5Errors.OutsideFile(what, (long)Math.Min(address, long.MaxValue), length, File.Length, at, path);
        long abs = checked(BaseAddress + (long)address);
        if (!File.Contains(abs, length)) throw Hdf5Errors.OutsideFile(what, abs, length, File.Length, at, path);
        return abs;
    }

    /// <summary>A reader over <paramref name="length"/> bytes at a stored address.</summary>
    public SpanReader ReaderAt(ulong address, long length, string what, long at, string? path)
    {
        long abs = Resolve(address, length, what, at, path);
        if (length > int.MaxValue) throw Hdf5Errors.Unsupported($"{what} larger than 2 GB", at, path);
        return new SpanReader(File.Span(abs, (int)length), abs);
    }

    /// <summary>A reader from a stored address to at most <paramref name="max"/> bytes (or the end of the file).</summary>
    public SpanReader ReaderFrom(ulong address, int max, string what, long at, string? path)
    {
        long abs = Resolve(address, 0, what, at, path);
        int len = (int)Math.Min(max, File.Length - abs);
        return new SpanReader(File.Span(abs, len), abs);
    }
}
