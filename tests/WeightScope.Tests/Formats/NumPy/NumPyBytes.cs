using System.Buffers.Binary;
using System.Text;

namespace WeightScope.Tests.Formats.NumPy;

/// <summary>Builds npy streams and zip archives byte by byte, for crafted-input tests.</summary>
internal static class NumPyBytes
{
    /// <summary>
    /// An npy stream as numpy lays it out: "\x93NUMPY", major, minor 0, header length (uint16 in 1.0, uint32 in 2.0/3.0),
    /// the header text padded with spaces and a final '\n' so the data starts at a multiple of 64, then the data.
    /// </summary>
    public static byte[] Npy(string header, byte[] data, byte major = 1, Encoding? encoding = null, bool pad = true)
    {
        var text = (encoding ?? Encoding.Latin1).GetBytes(header);
        int prelude = major == 1 ? 10 : 12;
        int padding = pad ? 63 - (prelude + text.Length) % 64 : 0;
        var headerBytes = text.Concat(Enumerable.Repeat((byte)' ', padding)).Concat(pad ? "\n"u8.ToArray() : []).ToArray();
        return [.. Prelude(major, headerBytes.Length), .. headerBytes, .. data];
    }

    /// <summary>Magic, version <paramref name="major"/>.0 and the header length field.</summary>
    public static byte[] Prelude(byte major, long headerLength)
    {
        var b = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0 };
        if (major == 1) b.AddRange(BitConverter.GetBytes((ushort)headerLength));
        else b.AddRange(BitConverter.GetBytes((uint)headerLength));
        return [.. b];
    }

    /// <summary>Little-endian float32 values.</summary>
    public static byte[] Floats(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    /// <summary>
    /// A raw deflate stream of "stored" blocks (RFC 1951 §3.2.4): per block one header byte (bit 0 BFINAL, bits 1-2
    /// BTYPE = 00), then LEN and NLEN = ~LEN as uint16, then LEN literal bytes. It lets a test place corruption exactly.
    /// </summary>
    public static byte[] StoredDeflateBlock(byte[] data, bool final)
    {
        var b = new byte[5 + data.Length];
        b[0] = (byte)(final ? 1 : 0);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(1), (ushort)data.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(3), (ushort)~data.Length);
        data.CopyTo(b, 5);
        return b;
    }

    /// <summary>A deflate block header with BFINAL = 1 and the reserved BTYPE = 11: every inflater must reject it.</summary>
    public static readonly byte[] ReservedDeflateBlock = [0b111];

    /// <summary>One zip member: name, method (0 stored, 8 deflate), the bytes as stored, and the declared uncompressed size.</summary>
    public sealed record Member(string Name, ushort Method, byte[] Data, long UncompressedSize)
    {
        public static Member Stored(string name, byte[] data) => new(name, 0, data, data.Length);
    }

    /// <summary>
    /// A zip archive (APPNOTE §4.3): per member a local file header (30 bytes + name) and its data, then the central
    /// directory (46 bytes + name per member), then the end of central directory record (22 bytes). CRCs are left 0.
    /// </summary>
    public static byte[] Zip(params Member[] members) => Zip(members, members.Select((m, i) => (m.Name, i)).ToArray());

    /// <summary>
    /// A zip of <paramref name="members"/> whose central directory lists <paramref name="entries"/>: each a name and the
    /// index of the member whose local header it points at. Entries sharing a member make the "overlapped entries" zip
    /// bomb (each one inflates the same bytes again), which Python 3.12's zipfile refuses.
    /// </summary>
    public static byte[] Zip(Member[] members, (string Name, int Member)[] entries)
    {
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        var offsets = new List<long>();
        foreach (var m in members)
        {
            offsets.Add(ms.Position);
            var name = Encoding.UTF8.GetBytes(m.Name);
            w.Write(0x04034b50u);          // local file header signature "PK\3\4"
            w.Write((ushort)20);           // version needed to extract
            w.Write((ushort)0);            // general purpose flags
            w.Write(m.Method);             // compression method
            w.Write(0u);                   // modification time and date
            w.Write(0u);                   // crc-32 (not checked)
            w.Write((uint)m.Data.Length);  // compressed size
            w.Write((uint)m.UncompressedSize);
            w.Write((ushort)name.Length);
            w.Write((ushort)0);            // extra field length
            w.Write(name);
            w.Write(m.Data);
        }
        long cd = ms.Position;
        foreach (var (entryName, index) in entries)
        {
            var m = members[index];
            var name = Encoding.UTF8.GetBytes(entryName);
            w.Write(0x02014b50u);          // central directory header signature "PK\1\2"
            w.Write((ushort)20);           // version made by
            w.Write((ushort)20);           // version needed
            w.Write((ushort)0);            // flags
            w.Write(m.Method);
            w.Write(0u);                   // time, date
            w.Write(0u);                   // crc-32
            w.Write((uint)m.Data.Length);
            w.Write((uint)m.UncompressedSize);
            w.Write((ushort)name.Length);
            w.Write((ushort)0);            // extra length
            w.Write((ushort)0);            // comment length
            w.Write((ushort)0);            // disk number start
            w.Write((ushort)0);            // internal attributes
            w.Write(0u);                   // external attributes
            w.Write((uint)offsets[index]); // local header offset
            w.Write(name);
        }
        long cdSize = ms.Position - cd;
        w.Write(0x06054b50u);              // end of central directory signature "PK\5\6"
        w.Write((ushort)0);                // this disk
        w.Write((ushort)0);                // disk with the central directory
        w.Write((ushort)entries.Length);   // entries on this disk
        w.Write((ushort)entries.Length);   // entries in total
        w.Write((uint)cdSize);
        w.Write((uint)cd);
        w.Write((ushort)0);                // comment length
        return ms.ToArray();
    }
}
