using System.Buffers.Binary;
using System.Text;
using WeightScope.IO;

namespace WeightScope.Formats.Gguf;

/// <summary>
/// Reads GGUF's primitive fields from the header window (the first <see cref="ReaderLimits.MaxHeaderBytes"/> of the
/// file), knowing the version's count width. Every count and length is checked against the bytes left in the file
/// before anything is allocated for it, so a claimed 2^60 elements fails at once, naming the field's offset.
/// </summary>
internal ref struct GgufCursor
{
    private SpanReader _r;
    private readonly long _fileLength;
    private readonly long _maxHeaderBytes;

    public GgufCursor(ReadOnlySpan<byte> window, long fileLength, long maxHeaderBytes)
    {
        _r = new SpanReader(window);
        _fileLength = fileLength;
        _maxHeaderBytes = maxHeaderBytes;
    }

    /// <summary>True when counts and lengths are uint32 (version 1).</summary>
    public bool NarrowCounts { get; set; }

    /// <summary>Current file offset.</summary>
    public readonly long Offset => _r.Offset;

    /// <summary>Bytes of the file after the current offset.</summary>
    public readonly long FileRemaining => _fileLength - _r.Offset;

    /// <summary>Width of a count or length field: 4 in version 1, 8 after.</summary>
    public readonly int CountSize => NarrowCounts ? 4 : 8;

    private ReadOnlySpan<byte> Take(int n, string what)
    {
        if (n > _r.Remaining)
        {
            // Past the window but inside the file: the header is larger than the limit allows.
            if (_r.Offset + n <= _fileLength) throw GgufErrors.HeaderTooLarge(_r.Offset + n, _maxHeaderBytes, _r.Offset);
            throw GgufErrors.Truncated(what, n, FileRemaining, _r.Offset);
        }
        return _r.ReadBytes(n);
    }

    public ReadOnlySpan<byte> ReadBytes(int n, string what) => Take(n, what);

    public byte ReadByte(string what) => Take(1, what)[0];

    public ushort ReadUInt16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));

    public uint ReadUInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));

    public ulong ReadUInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    public float ReadSingle(string what) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));

    public double ReadDouble(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));

    /// <summary>
    /// A count of items that take at least <paramref name="minItemBytes"/> each: uint32 in version 1, uint64 after.
    /// Fails when the items could not fit in the rest of the file.
    /// </summary>
    public long ReadCount(string what, long minItemBytes)
    {
        long at = Offset;
        ulong n = NarrowCounts ? ReadUInt32(what) : ReadUInt64(what);
        if (n > (ulong)long.MaxValue || (minItemBytes > 0 && (long)n > FileRemaining / minItemBytes))
            throw GgufErrors.CountBeyondFile(what, n, minItemBytes, FileRemaining, at);
        return (long)n;
    }

    /// <summary><c>gguf_string_t</c>: a length (uint32 in version 1, uint64 after), then that many UTF-8 bytes.</summary>
    public string ReadString(string what)
    {
        long n = ReadCount(what + " length", 1);
        if (n > int.MaxValue) throw GgufErrors.HeaderTooLarge(Offset + n, _maxHeaderBytes, Offset);
        // Invalid UTF-8 becomes U+FFFD rather than failing the file: llama.cpp does not validate strings either.
        return Encoding.UTF8.GetString(Take((int)n, what));
    }
}
