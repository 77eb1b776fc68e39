using WeightScope.Formats.Hdf5.Superblock;
using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.ObjectHeader;

/// <summary>
/// Object headers (specification §IV.A): version 1 (8-byte aligned messages, continuation blocks without signature)
/// and version 2 (<c>OHDR</c>/<c>OCHK</c> with lookup3 checksums). Returns the messages of all blocks in order.
/// </summary>
internal static class ObjectHeaderReader
{
    private const int V1PrefixSize = 16;            // version, reserved, message count, ref count, header size, padding
    private const int V1MessageHeaderSize = 8;      // type 2, size 2, flags 1, reserved 3
    private const int V1Alignment = 8;
    private const int ChecksumSize = 4;
    private const int SignatureSize = 4;
    private const int MaxBlocks = 4096;             // continuation blocks per header; real headers have a handful

    private static ReadOnlySpan<byte> Ohdr => "OHDR"u8;
    private static ReadOnlySpan<byte> Ochk => "OCHK"u8;

    // Version 2 header flags.
    private const int FlagChunkSizeMask = 0x03;
    private const int FlagTrackCreationOrder = 0x04;
    private const int FlagStorePhaseChange = 0x10;
    private const int FlagStoreTimes = 0x20;

    /// <summary>Reads every message of the object header at <paramref name="address"/>.</summary>
    public static List<HeaderMessage> Read(Hdf5File file, ulong address, string path)
    {
        var head = file.ReaderFrom(address, SignatureSize, "object header", file.BaseAddress, path);
        if (head.Remaining >= SignatureSize && head.ReadBytes(SignatureSize).SequenceEqual(Ohdr)) return ReadV2(file, address, path);
        return ReadV1(file, address, path);
    }

    private static List<HeaderMessage> ReadV1(Hdf5File file, ulong address, string path)
    {
        var r = file.ReaderAt(address, V1PrefixSize, "object header", file.BaseAddress, path);
        int version = r.ReadByte();
        if (version != 1) throw Hdf5Errors.Unsupported($"object header version {version}", r.Offset - 1, path);
        r.ReadByte();
        r.ReadUInt16(); // message count: libhdf5 trusts the blocks, so do we
        r.ReadUInt32(); // reference count
        uint size = r.ReadUInt32();
        var messages = new List<HeaderMessage>();
        var blocks = new Queue<(ulong Address, ulong Length)>();
        var seen = new HashSet<ulong>();
        blocks.Enqueue((address + V1PrefixSize, size));
        while (blocks.Count > 0)
        {
            var (addr, len) = blocks.Dequeue();
            CheckBlock(seen, addr, r.Offset, path);
            var b = file.ReaderAt(addr, checked((long)len), "object header block", r.Offset, path);
            while (b.Remaining >= V1MessageHeaderSize)
            {
                int type = b.ReadUInt16();
                int msize = b.ReadUInt16();
                int flags = b.ReadByte();
                b.ReadBytes(3);
                long at = b.Offset;
                b.ReadBytes(msize);
                int pad = (V1Alignment - b.Position % V1Alignment) % V1Alignment;
                b.ReadBytes(Math.Min(pad, b.Remaining));
                Add(file, messages, blocks, new HeaderMessage(type, flags, at, msize), path);
            }
        }
        return messages;
    }

    private static List<HeaderMessage> ReadV2(Hdf5File file, ulong address, string path)
    {
        var r = file.ReaderFrom(address, 64, "object header", file.BaseAddress, path);
        long start = r.Offset;
        r.ReadBytes(SignatureSize);
        int version = r.ReadByte();
        if (version != 2) throw Hdf5Errors.Unsupported($"object header version {version}", r.Offset - 1, path);
        int flags = r.ReadByte();
        if ((flags & FlagStoreTimes) != 0) r.ReadBytes(16);
        if ((flags & FlagStorePhaseChange) != 0) r.ReadBytes(4);
        ulong chunkSize = Hdf5File.ReadUnsigned(ref r, 1 << (flags & FlagChunkSizeMask));
        bool creationOrder = (flags & FlagTrackCreationOrder) != 0;
        var messages = new List<HeaderMessage>();
        var seen = new HashSet<ulong>();
        // The first block runs from the signature to the end of the chunk plus its checksum.
        ulong prefix = (ulong)r.Position;
        var blocks = new Queue<(ulong Address, ulong Length, int Skip)>();
        blocks.Enqueue((address, checked(prefix + chunkSize + ChecksumSize), (int)prefix));
        bool first = true;
        while (blocks.Count > 0)
        {
            var (addr, len, skip) = blocks.Dequeue();
            CheckBlock(seen, addr, start, path);
            var b = file.ReaderAt(addr, checked((long)len), "object header block", start, path);
            if (!first && !b.ReadBytes(SignatureSize).SequenceEqual(Ochk))
                throw Hdf5Errors.Invalid("object header continuation block does not start with OCHK", b.Offset - SignatureSize, path);
            first = false;
            VerifyChecksum(b.Data, b.BaseOffset, path);
            b.Position = Math.Max(b.Position, skip);
            int end = b.Data.Length - ChecksumSize;
            int msgHeader = 4 + (creationOrder ? 2 : 0);
            while (end - b.Position >= msgHeader)
            {
                int type = b.ReadByte();
                int msize = b.ReadUInt16();
                int mflags = b.ReadByte();
                if (creationOrder) b.ReadUInt16();
                long at = b.Offset;
                if (msize > end - b.Position) throw Hdf5Errors.Invalid($"header message of {msize} bytes runs past its block", at, path);
                b.ReadBytes(msize);
                var tmp = new Queue<(ulong, ulong)>();
                Add(file, messages, tmp, new HeaderMessage(type, mflags, at, msize), path);
                foreach (var (ca, cl) in tmp) blocks.Enqueue((ca, cl, 0));
            }
        }
        return messages;
    }

    private static void Add(Hdf5File file, List<HeaderMessage> messages, Queue<(ulong, ulong)> blocks, HeaderMessage m, string path)
    {
        if (m.Type == MessageType.Continuation)
        {
            var c = new SpanReader(file.File.Span(m.Offset, m.Length), m.Offset);
            ulong addr = file.ReadAddress(ref c);
            ulong len = file.ReadLength(ref c);
            blocks.Enqueue((addr, len));
            return;
        }
        if (m.Type != MessageType.Nil) messages.Add(m);
    }

    private static void CheckBlock(HashSet<ulong> seen, ulong addr, long at, string path)
    {
        if (!seen.Add(addr)) throw Hdf5Errors.Invalid($"object header continuation loops back to address {addr}", at, path);
        if (seen.Count > MaxBlocks) throw Hdf5Errors.Invalid($"object header has more than {MaxBlocks} continuation blocks", at, path);
    }

    private static void VerifyChecksum(ReadOnlySpan<byte> block, long at, string path)
    {
        uint stored = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(block[^ChecksumSize..]);
        uint actual = Lookup3.Hash(block[..^ChecksumSize]);
        if (stored != actual)
            throw Hdf5Errors.Invalid($"object header checksum is 0x{stored:x8}, the block hashes to 0x{actual:x8}", at + block.Length - ChecksumSize, path);
    }
}
