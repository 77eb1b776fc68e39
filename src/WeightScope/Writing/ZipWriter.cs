using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace WeightScope.Writing;

/// <summary>
/// Writes a zip archive member by member into a seekable stream, for the zip-based writers (npz, PyTorch). Written here
/// rather than with <see cref="ZipArchive"/> because that cannot align member data: torch's <c>PyTorchStreamWriter</c>
/// pads each local header with an <c>FB</c> extra field so data starts on a 64-byte boundary, which also lets readers
/// map stored members in place. (Checked on .NET 10: <c>ZipArchive</c> with <c>CompressionLevel.NoCompression</c> does
/// store, method 0, and on a seekable stream writes no data descriptors; it adds no extra field, so no padding.)
/// Each member's local header is written first with placeholders, the data streamed through a CRC-32 (and, for
/// deflated members, a raw deflate stream), then the header patched in place — no data descriptors, as Python's
/// zipfile does on a seekable file. Zip64 fields are used when a size, offset or count needs them
/// (APPNOTE.TXT 4.5.3, 4.3.14–4.3.16).
/// </summary>
internal sealed class ZipWriter
{
    private const uint LocalHeaderSignature = 0x04034b50, CentralHeaderSignature = 0x02014b50;
    private const uint EndOfCentralDirectorySignature = 0x06054b50;
    private const uint Zip64EndOfCentralDirectorySignature = 0x06064b50, Zip64LocatorSignature = 0x07064b50;
    private const int LocalHeaderSize = 30, CentralHeaderSize = 46;
    private const int LocalCrcOffset = 14;
    private const ushort VersionDefault = 20, VersionZip64 = 45;
    private const ushort VersionMadeByUnix = (3 << 8) | VersionZip64;
    private const ushort FlagUtf8Name = 0x0800;
    private const ushort MethodStored = 0, MethodDeflate = 8;
    private const ushort Zip64ExtraId = 0x0001, PaddingExtraId = 0x4246; // "FB", torch's padding field
    private const ushort DosDate1980 = (0 << 9) | (1 << 5) | 1; // 1980-01-01, as Python's zipfile and torch write
    private const uint ExternalAttributesRw = 0x180u << 16;    // -rw------- (Python's zipfile default)
    private const uint Max32 = 0xFFFFFFFF;
    private const int Max16 = 0xFFFF;
    // A deflated member whose input is this large may come out over 4 GiB: its local header reserves zip64 sizes.
    private const long DeflateZip64Limit = (long)(0xFFFFFFFFL / 1.05);

    /// <summary>
    /// Sizes, offsets and counts from this value up use zip64 fields (default: those that do not fit 32 bits); tests
    /// lower it to exercise the zip64 records without writing 4 GiB.
    /// </summary>
    internal long Zip64Threshold { get; init; } = Max32;

    private readonly Stream _output;
    private readonly int _alignment;
    private readonly List<Member> _members = [];
    private Member? _open;

    private sealed class Member(string name, byte[] nameBytes, ushort method, long headerOffset, bool localZip64, long dataOffset)
    {
        public string Name { get; } = name;
        public byte[] NameBytes { get; } = nameBytes;
        public ushort Method { get; } = method;
        public long HeaderOffset { get; } = headerOffset;
        public bool LocalZip64 { get; } = localZip64;
        public long DataOffset { get; } = dataOffset;
        public uint Crc { get; set; }
        public long Size { get; set; }
        public long CompressedSize { get; set; }
    }

    /// <summary>Starts an archive at the stream's current position (0).</summary>
    /// <param name="output">Seekable, writable.</param>
    /// <param name="alignment">Member data starts on a multiple of this (1 for none).</param>
    public ZipWriter(Stream output, int alignment)
    {
        if (!output.CanSeek) throw new ArgumentException("the zip writer needs a seekable stream", nameof(output));
        _output = output;
        _alignment = alignment;
    }

    /// <summary>
    /// Starts a member; write its uncompressed bytes to the returned stream, then call <see cref="EndMember"/>.
    /// <paramref name="size"/> is the uncompressed length (checked at the end), used to choose zip64 fields up front.
    /// </summary>
    public Stream BeginMember(string name, long size, bool deflate)
    {
        if (_open is not null) throw new InvalidOperationException($"zip member '{_open.Name}' is still open");
        var nameBytes = Encoding.UTF8.GetBytes(name);
        long headerOffset = _output.Position;
        // Deflate can grow incompressible data (zlib: up to ~0.03% plus a few bytes per block), so, as Python's zipfile
        // does, a deflated member takes zip64 fields when 1.05 × its size would not fit in 32 bits.
        bool zip64 = deflate ? size >= Zip64Threshold || size > DeflateZip64Limit : size >= Zip64Threshold;
        int zip64Extra = zip64 ? 4 + 16 : 0;
        long unpadded = headerOffset + LocalHeaderSize + nameBytes.Length + zip64Extra;
        int padding = 0;
        if (_alignment > 1 && unpadded % _alignment != 0)
        {
            padding = (int)(_alignment - unpadded % _alignment);
            // An extra field needs at least its 4-byte id and length.
            if (padding < 4) padding += _alignment;
        }
        ushort extraLength = checked((ushort)(zip64Extra + padding));

        Span<byte> h = stackalloc byte[LocalHeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(h, LocalHeaderSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], zip64 ? VersionZip64 : VersionDefault);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], Flags(name));
        BinaryPrimitives.WriteUInt16LittleEndian(h[8..], deflate ? MethodDeflate : MethodStored);
        BinaryPrimitives.WriteUInt16LittleEndian(h[10..], 0);            // time 00:00:00
        BinaryPrimitives.WriteUInt16LittleEndian(h[12..], DosDate1980);
        // CRC and sizes (offsets 14, 18, 22) are patched by EndMember.
        BinaryPrimitives.WriteUInt16LittleEndian(h[26..], checked((ushort)nameBytes.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(h[28..], extraLength);
        _output.Write(h);
        _output.Write(nameBytes);
        if (zip64)
        {
            Span<byte> z = stackalloc byte[20];
            BinaryPrimitives.WriteUInt16LittleEndian(z, Zip64ExtraId);
            BinaryPrimitives.WriteUInt16LittleEndian(z[2..], 16);
            _output.Write(z);                                          // sizes patched by EndMember
        }
        if (padding > 0)
        {
            var pad = new byte[padding];
            BinaryPrimitives.WriteUInt16LittleEndian(pad, PaddingExtraId);
            BinaryPrimitives.WriteUInt16LittleEndian(pad.AsSpan(2), (ushort)(padding - 4));
            pad.AsSpan(4).Fill((byte)'Z');                              // torch's filler byte
            _output.Write(pad);
        }
        _open = new Member(name, nameBytes, deflate ? MethodDeflate : MethodStored, headerOffset, zip64, _output.Position) { Size = size };
        Stream sink = deflate ? new DeflateStream(_output, CompressionLevel.Optimal, leaveOpen: true) : new NonClosingStream(_output);
        return new CrcStream(sink);
    }

    /// <summary>Finishes the open member: closes its compressor and patches the local header's CRC and sizes.</summary>
    public void EndMember(Stream data)
    {
        var m = _open ?? throw new InvalidOperationException("no zip member is open");
        var crc = (CrcStream)data;
        crc.Dispose();
        if (crc.Length != m.Size)
            throw new InvalidOperationException($"zip member '{m.Name}': {crc.Length} bytes written, {m.Size} announced");
        m.Crc = crc.Crc;
        long end = _output.Position;
        m.CompressedSize = end - m.DataOffset;
        if (!m.LocalZip64 && m.CompressedSize >= Max32)
            throw new InvalidOperationException($"zip member '{m.Name}' compressed to {m.CompressedSize} bytes without zip64 fields");

        Span<byte> f = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(f, m.Crc);
        BinaryPrimitives.WriteUInt32LittleEndian(f[4..], m.LocalZip64 ? Max32 : (uint)m.CompressedSize);
        BinaryPrimitives.WriteUInt32LittleEndian(f[8..], m.LocalZip64 ? Max32 : (uint)m.Size);
        _output.Position = m.HeaderOffset + LocalCrcOffset;
        _output.Write(f);
        if (m.LocalZip64)
        {
            Span<byte> z = stackalloc byte[16];
            BinaryPrimitives.WriteUInt64LittleEndian(z, (ulong)m.Size);
            BinaryPrimitives.WriteUInt64LittleEndian(z[8..], (ulong)m.CompressedSize);
            _output.Position = m.HeaderOffset + LocalHeaderSize + m.NameBytes.Length + 4;
            _output.Write(z);
        }
        _output.Position = end;
        _members.Add(m);
        _open = null;
    }

    /// <summary>Writes a whole small member.</summary>
    public void AddMember(string name, ReadOnlySpan<byte> bytes, bool deflate = false)
    {
        var s = BeginMember(name, bytes.Length, deflate);
        s.Write(bytes);
        EndMember(s);
    }

    /// <summary>Writes the central directory and the end records (zip64 ones when needed).</summary>
    public void Finish()
    {
        if (_open is not null) throw new InvalidOperationException($"zip member '{_open.Name}' is still open");
        long cdStart = _output.Position;
        foreach (var m in _members) WriteCentralHeader(m);
        long cdEnd = _output.Position, cdSize = cdEnd - cdStart;
        bool zip64 = _members.Count >= Math.Min(Max16, Zip64Threshold) || cdStart >= Zip64Threshold || cdSize >= Zip64Threshold;
        Span<byte> e = stackalloc byte[56];
        if (zip64)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(e, Zip64EndOfCentralDirectorySignature);
            BinaryPrimitives.WriteUInt64LittleEndian(e[4..], 44);       // size of the rest of this record
            BinaryPrimitives.WriteUInt16LittleEndian(e[12..], VersionMadeByUnix);
            BinaryPrimitives.WriteUInt16LittleEndian(e[14..], VersionZip64);
            BinaryPrimitives.WriteUInt32LittleEndian(e[16..], 0);       // this disk
            BinaryPrimitives.WriteUInt32LittleEndian(e[20..], 0);       // disk with the central directory
            BinaryPrimitives.WriteUInt64LittleEndian(e[24..], (ulong)_members.Count);
            BinaryPrimitives.WriteUInt64LittleEndian(e[32..], (ulong)_members.Count);
            BinaryPrimitives.WriteUInt64LittleEndian(e[40..], (ulong)cdSize);
            BinaryPrimitives.WriteUInt64LittleEndian(e[48..], (ulong)cdStart);
            _output.Write(e);
            Span<byte> l = stackalloc byte[20];
            BinaryPrimitives.WriteUInt32LittleEndian(l, Zip64LocatorSignature);
            BinaryPrimitives.WriteUInt32LittleEndian(l[4..], 0);
            BinaryPrimitives.WriteUInt64LittleEndian(l[8..], (ulong)cdEnd);
            BinaryPrimitives.WriteUInt32LittleEndian(l[16..], 1);       // total disks
            _output.Write(l);
        }
        Span<byte> r = stackalloc byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(r, EndOfCentralDirectorySignature);
        ushort count = zip64 ? (ushort)Max16 : (ushort)_members.Count;
        BinaryPrimitives.WriteUInt16LittleEndian(r[8..], count);
        BinaryPrimitives.WriteUInt16LittleEndian(r[10..], count);
        BinaryPrimitives.WriteUInt32LittleEndian(r[12..], zip64 ? Max32 : (uint)cdSize);
        BinaryPrimitives.WriteUInt32LittleEndian(r[16..], zip64 ? Max32 : (uint)cdStart);
        _output.Write(r);
    }

    private void WriteCentralHeader(Member m)
    {
        // Zip64 extra holds, in this order, only the fields whose 32-bit slot is 0xFFFFFFFF (APPNOTE 4.5.3).
        var extra = new List<ulong>(3);
        bool size = m.Size >= Zip64Threshold, compressed = m.CompressedSize >= Zip64Threshold, offset = m.HeaderOffset >= Zip64Threshold;
        if (size) extra.Add((ulong)m.Size);
        if (compressed) extra.Add((ulong)m.CompressedSize);
        if (offset) extra.Add((ulong)m.HeaderOffset);
        int extraLength = extra.Count == 0 ? 0 : 4 + 8 * extra.Count;
        Span<byte> h = stackalloc byte[CentralHeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(h, CentralHeaderSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], VersionMadeByUnix);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], extra.Count > 0 || m.LocalZip64 ? VersionZip64 : VersionDefault);
        BinaryPrimitives.WriteUInt16LittleEndian(h[8..], Flags(m.Name));
        BinaryPrimitives.WriteUInt16LittleEndian(h[10..], m.Method);
        BinaryPrimitives.WriteUInt16LittleEndian(h[12..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(h[14..], DosDate1980);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], m.Crc);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], compressed ? Max32 : (uint)m.CompressedSize);
        BinaryPrimitives.WriteUInt32LittleEndian(h[24..], size ? Max32 : (uint)m.Size);
        BinaryPrimitives.WriteUInt16LittleEndian(h[28..], (ushort)m.NameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(h[30..], (ushort)extraLength);
        // comment length, disk number start, internal attributes: 0
        BinaryPrimitives.WriteUInt32LittleEndian(h[38..], ExternalAttributesRw);
        BinaryPrimitives.WriteUInt32LittleEndian(h[42..], offset ? Max32 : (uint)m.HeaderOffset);
        _output.Write(h);
        _output.Write(m.NameBytes);
        if (extra.Count > 0)
        {
            Span<byte> z = stackalloc byte[4 + 8 * 3];
            BinaryPrimitives.WriteUInt16LittleEndian(z, Zip64ExtraId);
            BinaryPrimitives.WriteUInt16LittleEndian(z[2..], (ushort)(8 * extra.Count));
            for (int i = 0; i < extra.Count; i++) BinaryPrimitives.WriteUInt64LittleEndian(z[(4 + 8 * i)..], extra[i]);
            _output.Write(z[..extraLength]);
        }
    }

    // Bit 11: the name is UTF-8 (set only when it is not ASCII, as Python's zipfile does).
    private static ushort Flags(string name) => Ascii.IsValid(name) ? (ushort)0 : FlagUtf8Name;

    /// <summary>Counts and CRCs the uncompressed bytes on their way to the member's sink.</summary>
    private sealed class CrcStream(Stream sink) : Stream
    {
        // System.IO.Hashing's CRC-32 (the zip polynomial) is vectorised: several GB/s, where a byte-at-a-time table manages ~170 MB/s.
        private readonly System.IO.Hashing.Crc32 _crc = new();
        private long _length;

        public uint Crc => _crc.GetCurrentHashAsUInt32();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() => sink.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _crc.Append(buffer);
            _length += buffer.Length;
            sink.Write(buffer);
        }

        public override void WriteByte(byte value) => Write([value]);

        protected override void Dispose(bool disposing)
        {
            if (disposing) sink.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>Passes writes through to the archive stream; disposing it leaves the archive open.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
    }
}
