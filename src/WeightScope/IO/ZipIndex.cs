using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using WeightScope.Tensors;

namespace WeightScope.IO;

/// <summary>One member of a zip archive, from the central directory (local header resolved lazily).</summary>
internal sealed record ZipEntry(string Name, ushort Method, ushort Flags, uint Crc32, long CompressedSize, long UncompressedSize, long LocalHeaderOffset)
{
    /// <summary>Stored without compression (method 0): its bytes can be mapped as they are.</summary>
    public bool IsStored => Method == ZipIndex.MethodStored;

    /// <summary>
    /// Where the member's data must end: the next local header by offset, or the central directory (CPython 3.12
    /// <c>zipfile</c>'s <c>_end_offset</c>). Data running past it overlaps another member.
    /// </summary>
    public long EndOffset { get; init; } = long.MaxValue;
}

/// <summary>
/// The central directory of a zip archive (PKWARE APPNOTE 6.3.x: §4.3.16 end of central directory, §4.3.14–15 zip64,
/// §4.3.12 central directory header, §4.3.7 local file header). Only the directory is read on open; member data is
/// mapped (stored) or inflated (deflate) when asked for.
/// </summary>
internal sealed class ZipIndex
{
    internal const ushort MethodStored = 0, MethodDeflate = 8;

    // Deflate cannot expand data more than 1032:1 (a 258-byte match per 2 bits); a member declaring more is corrupt or a bomb.
    private const long MaxDeflateRatio = 1032, DeflateSlack = 1024;
    private const uint EocdSignature = 0x06054b50, Zip64EocdSignature = 0x06064b50, Zip64LocatorSignature = 0x07064b50;
    private const uint CentralSignature = 0x02014b50, LocalSignature = 0x04034b50;
    private const int EocdSize = 22, Zip64LocatorSize = 20, Zip64EocdMinSize = 56, CentralHeaderSize = 46, LocalHeaderSize = 30;
    private const int MaxCommentSize = 0xFFFF;
    private const ushort Zip64ExtraId = 0x0001;

    private readonly MappedFile _file;
    private readonly Dictionary<string, ZipEntry> _byName;
    private readonly ReaderLimits _limits;

    private ZipIndex(MappedFile file, List<ZipEntry> entries, ReaderLimits limits)
    {
        _file = file;
        _limits = limits;
        Entries = entries;
        _byName = new Dictionary<string, ZipEntry>(StringComparer.Ordinal);
        foreach (var e in entries) _byName.TryAdd(e.Name, e); // zip allows duplicates; like Python's zipfile, the first wins on lookup
    }

    /// <summary>Members in central-directory order.</summary>
    public IReadOnlyList<ZipEntry> Entries { get; }

    /// <summary>True when the bytes start like a zip archive (a local file header, or an empty archive's EOCD).</summary>
    public static bool LooksLikeZip(ReadOnlySpan<byte> header) =>
        header.Length >= 4 && (BinaryPrimitives.ReadUInt32LittleEndian(header) is LocalSignature or EocdSignature);

    /// <summary>Finds a member by exact name.</summary>
    public ZipEntry? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Reads the central directory.</summary>
    /// <exception cref="InvalidModelContentException">The archive structure is corrupt.</exception>
    public static ZipIndex Read(MappedFile file, ReaderLimits limits)
    {
        long eocd = FindEocd(file);
        var r = new SpanReader(file.Span(eocd, EocdSize), eocd);
        r.Position = 8; // signature, disk numbers
        long count = r.ReadUInt16();
        long total = r.ReadUInt16();
        long cdSize = r.ReadUInt32();
        long cdOffset = r.ReadUInt32();
        if (count != total) throw Error("multi-disk (split) archives are not supported", eocd);

        if ((count == 0xFFFF || cdSize == 0xFFFFFFFF || cdOffset == 0xFFFFFFFF) && eocd >= Zip64LocatorSize)
        {
            long loc = eocd - Zip64LocatorSize;
            var lr = new SpanReader(file.Span(loc, Zip64LocatorSize), loc);
            if (lr.ReadUInt32() == Zip64LocatorSignature)
            {
                lr.ReadUInt32();
                long z64 = FileOffset(lr.ReadUInt64(), file, "zip64 end of central directory offset", loc);
                if (!file.Contains(z64, Zip64EocdMinSize)) throw Error($"zip64 end of central directory at {z64} is outside the file", loc);
                var zr = new SpanReader(file.Span(z64, Zip64EocdMinSize), z64);
                if (zr.ReadUInt32() != Zip64EocdSignature) throw Error("zip64 end of central directory signature not found where the locator points", z64);
                zr.Position = 24;
                count = FileOffset(zr.ReadUInt64(), file, "zip64 entry count", z64);
                zr.ReadUInt64();
                cdSize = FileOffset(zr.ReadUInt64(), file, "zip64 central directory size", z64);
                cdOffset = FileOffset(zr.ReadUInt64(), file, "zip64 central directory offset", z64);
            }
        }
        if (count > limits.MaxZipEntries) throw new ReaderLimitException("zip", nameof(ReaderLimits.MaxZipEntries), count, limits.MaxZipEntries, eocd);
        if (!file.Contains(cdOffset, cdSize))
            throw Error($"central directory ({cdSize} bytes at {cdOffset}) lies outside the file of {file.Length} bytes", eocd);
        if (count * CentralHeaderSize > cdSize) throw Error($"central directory of {cdSize} bytes cannot hold {count} entries", eocd);
        if (cdSize > int.MaxValue) throw new UnsupportedModelFeatureException("zip", $"a central directory of {cdSize} bytes (over 2 GB)", eocd);

        var entries = new List<ZipEntry>((int)count);
        var cd = new SpanReader(file.Span(cdOffset, checked((int)cdSize)), cdOffset);
        try
        {
            for (long i = 0; i < count; i++) entries.Add(ReadCentralHeader(ref cd, file));
        }
        catch (EndOfDataException e)
        {
            throw Error("central directory is truncated", e.Offset);
        }
        return new ZipIndex(file, WithEndOffsets(entries, cdOffset), limits);
    }

    // CPython 3.12 zipfile (_RealGetContents): walking the members by local header offset, highest first (a stable
    // sort: members sharing an offset keep directory order), each one ends where the one above it starts, the highest
    // at the central directory. A member whose data then runs past its end overlaps the next one, or shares its local
    // header with another: a zip bomb's way of inflating the same bytes many times ("Overlapped entries").
    private static List<ZipEntry> WithEndOffsets(List<ZipEntry> entries, long centralDirectory)
    {
        var order = Enumerable.Range(0, entries.Count).OrderByDescending(i => entries[i].LocalHeaderOffset).ToList();
        long end = centralDirectory;
        foreach (int i in order)
        {
            entries[i] = entries[i] with { EndOffset = end };
            end = entries[i].LocalHeaderOffset;
        }
        return entries;
    }

    private static ZipEntry ReadCentralHeader(ref SpanReader r, MappedFile file)
    {
        long at = r.Offset;
        if (r.ReadUInt32() != CentralSignature) throw Error("expected a central directory header (PK\\1\\2)", at);
        r.ReadUInt16(); r.ReadUInt16(); // version made by, version needed
        ushort flags = r.ReadUInt16();
        ushort method = r.ReadUInt16();
        r.ReadUInt32(); // time, date
        uint crc = r.ReadUInt32();
        long csize = r.ReadUInt32();
        long usize = r.ReadUInt32();
        int nameLen = r.ReadUInt16(), extraLen = r.ReadUInt16(), commentLen = r.ReadUInt16();
        r.ReadUInt16(); r.ReadUInt16(); r.ReadUInt32(); // disk start, internal and external attributes
        long local = r.ReadUInt32();
        var nameBytes = r.ReadBytes(nameLen);
        // Bit 11 says UTF-8; otherwise CP437, which equals ASCII for every name a framework writes.
        string name = (flags & 0x800) != 0 ? Encoding.UTF8.GetString(nameBytes) : Encoding.Latin1.GetString(nameBytes);
        var extra = new SpanReader(r.ReadBytes(extraLen), r.Offset - extraLen);
        r.ReadBytes(commentLen);
        while (extra.Remaining >= 4)
        {
            ushort id = extra.ReadUInt16();
            int size = extra.ReadUInt16();
            long fieldAt = extra.Offset;
            var field = new SpanReader(extra.ReadBytes(Math.Min(size, extra.Remaining)), fieldAt);
            if (id != Zip64ExtraId) continue;
            // The zip64 field holds, in order, only the values whose 32-bit slots are saturated.
            if (usize == 0xFFFFFFFF) usize = FileOffset(field.ReadUInt64(), null, "zip64 uncompressed size", fieldAt);
            if (csize == 0xFFFFFFFF) csize = FileOffset(field.ReadUInt64(), file, "zip64 compressed size", fieldAt);
            if (local == 0xFFFFFFFF) local = FileOffset(field.ReadUInt64(), file, "zip64 local header offset", fieldAt);
        }
        if ((flags & 1) != 0) throw new UnsupportedModelFeatureException("zip", "encrypted zip members", at, name);
        if (!file.Contains(local, LocalHeaderSize)) throw Error($"local header offset {local} is outside the file", at, name);
        return new ZipEntry(name, method, flags, crc, csize, usize, local);
    }

    // A 64-bit size or offset from the file: no larger than the file itself (or, for an uncompressed size, than a long).
    private static long FileOffset(ulong value, MappedFile? file, string what, long at)
    {
        if (value > (ulong)(file?.Length ?? long.MaxValue))
            throw Error($"{what} {value} is larger than the file ({file?.Length} bytes)", at);
        return (long)value;
    }

    /// <summary>
    /// How many bytes precede the archive, found as CPython's <c>zipfile</c> finds it (<c>_EndRecData</c> searches the
    /// end-of-central-directory record from the end; <c>_RealGetContents</c> takes <c>concat</c> = its position − the
    /// central directory's size − its offset, less the zip64 records): a zip with bytes prepended (a self-extracting stub,
    /// a polyglot) still opens in <c>zipfile.ZipFile</c>. Null when there is no such record, or the central directory is
    /// not where it then says (zipfile raises <c>BadZipFile</c>).
    /// </summary>
    public static long? PrependedBytes(MappedFile file)
    {
        long eocd;
        try { eocd = FindEocd(file); }
        catch (ModelFormatException) { return null; }
        var r = new SpanReader(file.Span(eocd, EocdSize), eocd);
        r.Position = 12; // signature, disk numbers, entry counts
        long cdSize = r.ReadUInt32(), cdOffset = r.ReadUInt32();
        long concat = eocd - cdSize - cdOffset;
        if (eocd >= Zip64LocatorSize && BinaryPrimitives.ReadUInt32LittleEndian(file.Span(eocd - Zip64LocatorSize, 4)) == Zip64LocatorSignature)
            concat -= Zip64EocdMinSize + Zip64LocatorSize;
        if (concat < 0) return null;
        if (cdSize == 0) return concat;
        return file.Contains(cdOffset + concat, 4) && BinaryPrimitives.ReadUInt32LittleEndian(file.Span(cdOffset + concat, 4)) == CentralSignature
            ? concat : null;
    }

    private static long FindEocd(MappedFile file)
    {
        if (file.Length < EocdSize) throw Error($"file of {file.Length} bytes is too short to be a zip archive", 0);
        long start = Math.Max(0, file.Length - EocdSize - MaxCommentSize);
        var tail = file.Span(start, (int)(file.Length - start));
        for (int i = tail.Length - EocdSize; i >= 0; i--)
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail[i..]) == EocdSignature) return start + i;
        throw Error("end of central directory record (PK\\5\\6) not found: the archive is truncated or not a zip file", file.Length);
    }

    /// <summary>File offset of a member's data (after its local header).</summary>
    public long DataOffset(ZipEntry e)
    {
        var r = new SpanReader(_file.Span(e.LocalHeaderOffset, LocalHeaderSize), e.LocalHeaderOffset);
        if (r.ReadUInt32() != LocalSignature) throw MemberError("expected a local file header (PK\\3\\4)", e.LocalHeaderOffset, e.Name);
        r.Position = 26;
        int nameLen = r.ReadUInt16(), extraLen = r.ReadUInt16();
        long data = e.LocalHeaderOffset + LocalHeaderSize + nameLen + extraLen;
        if (!_file.Contains(data, e.CompressedSize))
            throw MemberError($"member data ({e.CompressedSize} bytes at {data}) runs past the end of the file ({_file.Length} bytes)", e.LocalHeaderOffset, e.Name);
        if (data + e.CompressedSize > e.EndOffset)
            throw MemberError($"overlapped entries: the member's data ({e.CompressedSize} bytes at {data}) runs past {e.EndOffset}, where the next "
                              + "member or the central directory starts (possible zip bomb; Python's zipfile refuses it too)", e.LocalHeaderOffset, e.Name);
        return data;
    }

    /// <summary>
    /// A storage over a member: mapped for stored members, inflated on first use for deflated ones. The member's local
    /// header is not read until its bytes are asked for, so opening an archive touches only its central directory.
    /// </summary>
    public TensorStorage OpenStorage(ZipEntry e, string key)
    {
        switch (e.Method)
        {
            case MethodStored:
                if (e.CompressedSize != e.UncompressedSize)
                    throw Error($"stored member has compressed size {e.CompressedSize} but uncompressed size {e.UncompressedSize}", e.LocalHeaderOffset, e.Name);
                return new ZipMemberStorage(e.UncompressedSize, () => new MappedStorage(_file, DataOffset(e), e.UncompressedSize, key), key);
            case MethodDeflate:
                CheckDeclaredSize(e, _limits, "zip", e.LocalHeaderOffset);
                if (e.UncompressedSize > MaxInflatedSize(e))
                    throw Error($"deflated member declares {e.UncompressedSize} uncompressed bytes, more than its {e.CompressedSize} compressed bytes can inflate to", e.LocalHeaderOffset, e.Name);
                if (e.UncompressedSize > Array.MaxLength)
                    throw new UnsupportedModelFeatureException("zip", $"a deflated member of {e.UncompressedSize} bytes (inflated members are held in memory, at most 2 GB each)", e.LocalHeaderOffset, e.Name);
                return new DecodedStorage(e.UncompressedSize, () => Inflate(e, DataOffset(e)), key);
            default:
                throw new UnsupportedModelFeatureException("zip", $"compression method {e.Method} (only stored and deflate are read)", e.LocalHeaderOffset, e.Name);
        }
    }

    // Before a byte is inflated, a deflated member's declared size is checked against MaxDecompressedBytes and against what
    // deflate can produce at all (about 1032:1). Inflating stops at the declared size and a stream that goes on is refused.
    // A member read lazily (a tensor's storage) is inflated only when its values are asked for, so it needs no ratio
    // limit: np.savez_compressed of zeros inflates about 1030:1 too, and reading its values is what the user asked. Only
    // what a reader inflates eagerly, to open the file (a .keras archive's deflated model.weights.h5, scan's object
    // arrays), is held to MaxDecompressionRatio.

    /// <summary>Refuses a deflated member declaring more than <see cref="ReaderLimits.MaxDecompressedBytes"/>.</summary>
    internal static void CheckDeclaredSize(ZipEntry e, ReaderLimits limits, string format, long offset)
    {
        if (e.UncompressedSize > limits.MaxDecompressedBytes)
            throw new ReaderLimitException(format, nameof(ReaderLimits.MaxDecompressedBytes), e.UncompressedSize, limits.MaxDecompressedBytes, offset, e.Name);
    }

    /// <summary>Refuses a deflated member declaring more than <see cref="ReaderLimits.MaxDecompressionRatio"/> times its compressed size.</summary>
    internal static void CheckRatio(ZipEntry e, ReaderLimits limits, string format, long offset)
    {
        if (e.UncompressedSize <= ReaderLimits.DecompressionAllowance) return;
        long ratio = e.CompressedSize == 0 ? long.MaxValue : (e.UncompressedSize + e.CompressedSize - 1) / e.CompressedSize;
        if (ratio > limits.MaxDecompressionRatio)
            throw new ReaderLimitException(format, nameof(ReaderLimits.MaxDecompressionRatio), ratio, limits.MaxDecompressionRatio, offset, e.Name,
                $"decompression ratio ({e.UncompressedSize.ToString("N0", CultureInfo.InvariantCulture)} bytes declared from "
                + $"{e.CompressedSize.ToString("N0", CultureInfo.InvariantCulture)} compressed; a possible zip bomb)");
    }

    /// <summary>The most bytes a deflated member of its compressed size can inflate to (saturating, never overflowing).</summary>
    internal static long MaxInflatedSize(ZipEntry e) =>
        e.CompressedSize > (long.MaxValue - DeflateSlack) / MaxDeflateRatio ? long.MaxValue : e.CompressedSize * MaxDeflateRatio + DeflateSlack;

    /// <summary>Reads a whole (small) member: a pickle, a JSON, a version record.</summary>
    /// <param name="e">The member.</param>
    /// <param name="maxBytes">The most bytes accepted.</param>
    /// <param name="limitName">The <see cref="ReaderLimits"/> property <paramref name="maxBytes"/> comes from, for the message; null when
    /// the cap is the format's own (a version record is never large).</param>
    public byte[] ReadAll(ZipEntry e, long maxBytes, string? limitName = nameof(ReaderLimits.MaxHeaderBytes))
    {
        if (e.UncompressedSize > maxBytes)
            throw limitName is null
                ? Error($"member of {e.UncompressedSize} bytes is larger than the {maxBytes} bytes such a record can have", e.LocalHeaderOffset, e.Name)
                : new ReaderLimitException("zip", limitName, e.UncompressedSize, maxBytes, e.LocalHeaderOffset, e.Name);
        var s = OpenStorage(e, e.Name);
        var b = new byte[s.ByteLength];
        s.Read(0, b);
        return b;
    }

    // The declared size was checked against the limits (MaxDecompressionRatio bounds it by the bytes the file holds), so
    // it can be allocated at once; inflating stops there, and a stream that goes on is refused.
    private byte[] Inflate(ZipEntry e, long data)
    {
        var result = new byte[e.UncompressedSize];
        try
        {
            using var z = new DeflateStream(_file.OpenRange(data, e.CompressedSize), CompressionMode.Decompress);
            z.ReadExactly(result);
            // A member that inflates to more than it declares is corrupt (or a bomb): check one byte further.
            Span<byte> one = stackalloc byte[1];
            if (z.Read(one) != 0) throw MemberError($"deflated member inflates to more than its declared {e.UncompressedSize} bytes", e.LocalHeaderOffset, e.Name);
        }
        catch (Exception x) when (x is InvalidDataException or IOException) // IOException: ZLibException, EndOfStreamException
        {
            throw MemberError($"deflate stream is corrupt or shorter than its declared {e.UncompressedSize} bytes ({x.Message})", e.LocalHeaderOffset, e.Name, x);
        }
        return result;
    }

    private static InvalidModelContentException Error(string message, long offset, string? entry = null, Exception? inner = null) =>
        new("zip", message, offset, entry, inner);

    // Member data is read long after ModelFile.Open returned: these errors carry the file path themselves.
    private InvalidModelContentException MemberError(string message, long offset, string entry, Exception? inner = null) =>
        new("zip", message, offset, entry, inner) { FilePath = _file.Path };
}

/// <summary>A stored zip member, mapped when its bytes are first asked for (its local header is read then).</summary>
internal sealed class ZipMemberStorage(long byteLength, Func<MappedStorage> resolve, string key) : TensorStorage(key)
{
    private readonly Lazy<MappedStorage> _mapped = new(resolve, LazyThreadSafetyMode.ExecutionAndPublication);

    public override long ByteLength => byteLength;

    protected override void ReadCore(long offset, Span<byte> destination) => _mapped.Value.Read(offset, destination);

    protected override bool TryGetSpanCore(long offset, int length, out ReadOnlySpan<byte> span) => _mapped.Value.TryGetSpan(offset, length, out span);
}
