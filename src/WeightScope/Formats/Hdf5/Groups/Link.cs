using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Groups;

/// <summary>A link in a group: a hard link to an object header, or a soft/external link (<see cref="Target"/> set).</summary>
internal sealed record Link(string Name, ulong Address, string? Target)
{
    private const int NameSizeMask = 0x03;
    private const int CreationOrderPresent = 0x04;
    private const int LinkTypePresent = 0x08;
    private const int CharsetPresent = 0x10;
    private const int HardLink = 0;

    /// <summary>Parses a link message body (specification §IV.A.2.g).</summary>
    public static Link Read(ref SpanReader r, Hdf5File file, string path)
    {
        long at = r.Offset;
        int version = r.ReadByte();
        if (version != 1) throw Hdf5Errors.Unsupported($"link message version {version}", at, path);
        int flags = r.ReadByte();
        int type = (flags & LinkTypePresent) != 0 ? r.ReadByte() : HardLink;
        if ((flags & CreationOrderPresent) != 0) r.ReadUInt64();
        if ((flags & CharsetPresent) != 0) r.ReadByte();
        int nameLength = checked((int)Hdf5File.ReadUnsigned(ref r, 1 << (flags & NameSizeMask)));
        string name = System.Text.Encoding.UTF8.GetString(r.ReadBytes(nameLength));
        if (type == HardLink) return new Link(name, file.ReadAddress(ref r), null);
        int len = r.ReadUInt16();
        string target = System.Text.Encoding.UTF8.GetString(r.ReadBytes(len));
        return new Link(name, 0, type == 1 ? target : "external:" + target);
    }
}
