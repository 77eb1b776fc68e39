using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Superblock;

/// <summary>
/// The superblock (specification §II.A): found at 0, 512, 1024, 2048, … (a user block may precede it). Versions 0 and 1
/// hold the root group's symbol table entry; versions 2 and 3 hold the root object header address and a checksum.
/// </summary>
internal sealed record Superblock(int Version, long Position, int OffsetSize, int LengthSize, long BaseAddress, ulong RootObjectHeader)
{
    /// <summary>Stored address of the superblock extension (versions 2 and 3; all bits set when there is none), or null.</summary>
    public ulong? ExtensionAddress { get; private init; }

    /// <summary>The format signature <c>\x89HDF\r\n\x1a\n</c>.</summary>
    public static ReadOnlySpan<byte> Signature => [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

    /// <summary>First position searched after 0; later positions double.</summary>
    private const int FirstUserBlockSize = 512;

    // Version 0/1 layout after the 8-byte signature.
    private const int V0FieldsAfterSizes = 9;       // reserved, group leaf K, group internal K, consistency flags
    private const int V1ExtraFields = 4;            // indexed storage K + reserved
    private const int SymbolTableEntryCacheBytes = 4 + 4 + 16; // cache type, reserved, scratch pad

    /// <summary>Position of the signature within <paramref name="data"/> (0, 512, 1024, …), or −1.</summary>
    public static long FindSignature(ReadOnlySpan<byte> data)
    {
        for (long pos = 0; pos + Signature.Length <= data.Length; pos = pos == 0 ? FirstUserBlockSize : pos * 2)
            if (data.Slice((int)pos, Signature.Length).SequenceEqual(Signature)) return pos;
        return -1;
    }

    /// <summary>Finds and reads the superblock of <paramref name="file"/>.</summary>
    public static Superblock Read(MappedFile file)
    {
        long pos = -1;
        for (long p = 0; p + Signature.Length <= file.Length; p = p == 0 ? FirstUserBlockSize : p * 2)
            if (file.Span(p, Signature.Length).SequenceEqual(Signature)) { pos = p; break; }
        if (pos < 0) throw Hdf5Errors.Invalid("no HDF5 signature at 0, 512, 1024, … ", 0);
        int avail = (int)Math.Min(256, file.Length - pos);
        var r = new SpanReader(file.Span(pos, avail), pos);
        r.ReadBytes(Signature.Length);
        int version = r.ReadByte();
        return version switch
        {
            0 or 1 => ReadV0(ref r, version, pos),
            2 or 3 => ReadV2(ref r, version, pos),
            _ => throw Hdf5Errors.Unsupported($"superblock version {version}", pos + Signature.Length),
        };
    }

    private static Superblock ReadV0(ref SpanReader r, int version, long pos)
    {
        r.ReadBytes(4); // free-space, root symbol table entry, reserved, shared header versions
        int offsetSize = r.ReadByte(), lengthSize = r.ReadByte();
        CheckSizes(offsetSize, lengthSize, r.Offset - 2);
        r.ReadBytes(V0FieldsAfterSizes);
        if (version == 1) r.ReadBytes(V1ExtraFields);
        ulong baseAddr = Hdf5File.ReadUnsigned(ref r, offsetSize);
        Hdf5File.ReadUnsigned(ref r, offsetSize); // free-space info address
        Hdf5File.ReadUnsigned(ref r, offsetSize); // end of file address
        Hdf5File.ReadUnsigned(ref r, offsetSize); // driver information block address
        Hdf5File.ReadUnsigned(ref r, offsetSize); // root entry: link name offset
        ulong root = Hdf5File.ReadUnsigned(ref r, offsetSize);
        r.ReadBytes(SymbolTableEntryCacheBytes);
        return new Superblock(version, pos, offsetSize, lengthSize, BaseFor(baseAddr, pos), root);
    }

    private static Superblock ReadV2(ref SpanReader r, int version, long pos)
    {
        int offsetSize = r.ReadByte(), lengthSize = r.ReadByte();
        CheckSizes(offsetSize, lengthSize, r.Offset - 2);
        r.ReadByte(); // file consistency flags
        ulong baseAddr = Hdf5File.ReadUnsigned(ref r, offsetSize);
        ulong extension = Hdf5File.ReadUnsigned(ref r, offsetSize);
        Hdf5File.ReadUnsigned(ref r, offsetSize); // end of file address
        ulong root = Hdf5File.ReadUnsigned(ref r, offsetSize);
        int checkedLength = r.Position;
        uint stored = r.ReadUInt32();
        uint actual = Lookup3.Hash(r.Data[..checkedLength]);
        if (stored != actual)
            throw Hdf5Errors.Invalid($"superblock checksum is 0x{stored:x8}, the content hashes to 0x{actual:x8}", r.Offset - 4);
        return new Superblock(version, pos, offsetSize, lengthSize, BaseFor(baseAddr, pos), root) { ExtensionAddress = extension };
    }

    // libhdf5 writes the base address as the superblock's absolute position (0 without a user block); older files
    // with a user block sometimes store 0, meaning "relative to the superblock".
    private static long BaseFor(ulong stored, long pos) => stored == 0 ? pos : (long)Math.Min(stored, (ulong)pos);

    private static void CheckSizes(int offsetSize, int lengthSize, long at)
    {
        if (offsetSize is not (2 or 4 or 8) || lengthSize is not (2 or 4 or 8))
            throw Hdf5Errors.Invalid($"sizes of offsets/lengths must be 2, 4 or 8; found {offsetSize}/{lengthSize}", at);
    }
}
