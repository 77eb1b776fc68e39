using System.Buffers.Binary;

namespace WeightScope.Formats.NumPy;

/// <summary>
/// The fixed bytes before the header dict (numpy/lib/format.py, "Format Version 1.0" and "2.0"):
/// <code>
/// offset 0  6 bytes  magic "\x93NUMPY"
/// offset 6  1 byte   major version (1, 2 or 3)
/// offset 7  1 byte   minor version (0)
/// offset 8  2 bytes  header length, little-endian uint16 (version 1.0)
///           4 bytes  header length, little-endian uint32 (versions 2.0 and 3.0)
/// </code>
/// then the header (latin-1 in 1.0/2.0, UTF-8 in 3.0), then the array data.
/// </summary>
internal readonly record struct NpyPrelude(byte Major, byte Minor, long HeaderLength)
{
    public const int MagicOffset = 0, MagicLength = 6, MajorOffset = 6, MinorOffset = 7, HeaderLengthOffset = 8;
    public const int HeaderLengthSizeV1 = 2, HeaderLengthSizeV2 = 4;

    /// <summary>The longest prelude (version 2.0 and 3.0).</summary>
    public const int MaxSize = HeaderLengthOffset + HeaderLengthSizeV2;

    /// <summary>"\x93NUMPY".</summary>
    public static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Bytes of the prelude: where the header dict starts.</summary>
    public int Size => HeaderLengthOffset + (Major == 1 ? HeaderLengthSizeV1 : HeaderLengthSizeV2);

    /// <summary>Where the array data starts: numpy pads the header so this is a multiple of 64, but readers must not rely on it.</summary>
    public long DataOffset => Size + HeaderLength;

    /// <summary>Version 3.0 encodes the header in UTF-8; 1.0 and 2.0 in latin-1.</summary>
    public bool IsUtf8 => Major == 3;

    /// <summary>Versions 1.0 and 2.0 may come from Python 2, whose headers wrote long integers as <c>2L</c>.</summary>
    public bool AllowsLongSuffix => Major < 3;

    /// <summary><c>1.0</c>, <c>2.0</c>, <c>3.0</c>.</summary>
    public string Version => $"{Major}.{Minor}";

    /// <summary>True when <paramref name="head"/> starts with the magic string.</summary>
    public static bool StartsWithMagic(ReadOnlySpan<byte> head) => head.StartsWith(Magic);

    /// <summary>
    /// Reads the prelude from the first bytes of an npy stream (<paramref name="head"/> holds up to <see cref="MaxSize"/>
    /// of them; <paramref name="available"/> is the length of the whole stream) and checks that the header fits.
    /// </summary>
    public static NpyPrelude Read(ReadOnlySpan<byte> head, long available, NpySource source, ReaderLimits limits)
    {
        if (!Magic.StartsWith(head[..Math.Min(head.Length, MagicLength)]))
            throw NpyErrors.BadMagic(source, head[..Math.Min(head.Length, MagicLength)]);
        if (head.Length < HeaderLengthOffset)
            throw NpyErrors.Truncated(source, "the magic string and version", HeaderLengthOffset, available, MagicOffset);

        byte major = head[MajorOffset], minor = head[MinorOffset];
        if (minor != 0 || major is < 1 or > 3) throw NpyErrors.Version(source, major, minor, MajorOffset);

        int lengthSize = major == 1 ? HeaderLengthSizeV1 : HeaderLengthSizeV2;
        if (head.Length < HeaderLengthOffset + lengthSize)
            throw NpyErrors.Truncated(source, $"the version {major}.0 header length field", lengthSize, available, HeaderLengthOffset);
        var field = head.Slice(HeaderLengthOffset, lengthSize);
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(field) : BinaryPrimitives.ReadUInt32LittleEndian(field);

        var prelude = new NpyPrelude(major, minor, headerLength);
        // The header is decoded whole into memory, so it is capped by the limit (and by what one array can hold).
        long max = Math.Min(limits.MaxHeaderBytes, Array.MaxLength);
        if (headerLength > max)
            throw new ReaderLimitException(source.Format, nameof(ReaderLimits.MaxHeaderBytes), headerLength, max, HeaderLengthOffset, source.Entry);
        if (headerLength > available - prelude.Size)
            throw NpyErrors.HeaderBeyondEnd(source, headerLength, prelude.Size, available);
        return prelude;
    }
}
