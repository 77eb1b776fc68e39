using WeightScope.Formats.Hdf5.Datatypes;
using WeightScope.Formats.Hdf5.ObjectHeader;
using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Attributes;

/// <summary>
/// An attribute message (specification §IV.A.2.m), versions 1 to 3: name, datatype, dataspace, raw value. From version 2
/// the datatype or the dataspace may be shared (flags 0x01, 0x02): the field then holds a shared message encoding —
/// a committed datatype, or a message in the shared message heap — resolved by <see cref="SharedMessage"/>.
/// </summary>
internal sealed record AttributeMessage(string Name, Datatype Type, Dataspace.Dataspace Space, long DataOffset, byte[] Data)
{
    private const int SharedDatatype = 0x01;
    private const int SharedDataspace = 0x02;

    /// <summary>Parses the message body.</summary>
    public static AttributeMessage Read(ref SpanReader r, Hdf5File file, string path)
    {
        long at = r.Offset;
        int version = r.ReadByte();
        if (version is < 1 or > 3) throw Hdf5Errors.Unsupported($"attribute message version {version}", at, path);
        int flags = r.ReadByte();
        if (version == 1) flags = 0; // reserved in version 1
        int nameSize = r.ReadUInt16(), typeSize = r.ReadUInt16(), spaceSize = r.ReadUInt16();
        if (version == 3) r.ReadByte(); // name character set
        int Padded(int n) => version == 1 ? (n + 7) / 8 * 8 : n;
        var nameBytes = r.ReadBytes(Padded(nameSize))[..nameSize];
        int nul = nameBytes.IndexOf((byte)0);
        string name = System.Text.Encoding.UTF8.GetString(nul >= 0 ? nameBytes[..nul] : nameBytes);
        var tr = new SpanReader(r.ReadBytes(Padded(typeSize)), r.Offset - Padded(typeSize));
        if ((flags & SharedDatatype) != 0) tr = SharedMessage.Resolve(file, ref tr, MessageType.Datatype, path);
        var type = Datatype.Read(ref tr, path);
        var sr = new SpanReader(r.ReadBytes(Padded(spaceSize)), r.Offset - Padded(spaceSize));
        if ((flags & SharedDataspace) != 0) sr = SharedMessage.Resolve(file, ref sr, MessageType.Dataspace, path);
        var space = Dataspace.Dataspace.Read(ref sr, file, path);
        long length = checked(space.ElementCount * type.Size);
        if (length > r.Remaining) throw Hdf5Errors.Invalid($"attribute '{name}' needs {length} bytes of data, the message has {r.Remaining}", r.Offset, path);
        long dataAt = r.Offset;
        return new AttributeMessage(name, type, space, dataAt, r.ReadBytes((int)length).ToArray());
    }
}
