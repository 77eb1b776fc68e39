using WeightScope.Formats.Hdf5.Attributes;
using WeightScope.Formats.Hdf5.Datatypes;
using WeightScope.Formats.Hdf5.Filters;
using WeightScope.Formats.Hdf5.Groups;
using WeightScope.Formats.Hdf5.Layout;
using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.ObjectHeader;

/// <summary>
/// An object as its header messages describe it: a group (symbol table or links) or a dataset (dataspace, datatype,
/// layout, filters), with its compact attributes.
/// </summary>
internal sealed class Hdf5Object
{
    /// <summary>Path without the leading slash ("" for the root).</summary>
    public required string Path { get; init; }

    /// <summary>Absolute file offset of the header, for messages.</summary>
    public long Offset { get; init; }

    public Dataspace.Dataspace? Space { get; private set; }
    public Datatype? Type { get; private set; }
    public DataLayout? Layout { get; private set; }
    public List<Filter> Filters { get; private set; } = [];
    public List<AttributeMessage> Attributes { get; } = [];
    public List<Link> Links { get; } = [];
    public (ulong BTree, ulong Heap, long At)? SymbolTable { get; private set; }

    /// <summary>True when the header describes a dataset.</summary>
    public bool IsDataset => Space is not null && Type is not null && Layout is not null;

    /// <summary>True when the header describes a group.</summary>
    public bool IsGroup { get; private set; }

    /// <summary>Reads and interprets the header at <paramref name="address"/>.</summary>
    public static Hdf5Object Read(Hdf5File file, ulong address, string path)
    {
        var obj = new Hdf5Object { Path = path, Offset = file.Resolve(address, 0, "object header", file.BaseAddress, path) };
        foreach (var m in ObjectHeaderReader.Read(file, address, path))
        {
            var r = new SpanReader(file.File.Span(m.Offset, m.Length), m.Offset);
            bool shared = (m.Flags & MessageType.FlagShared) != 0;
            switch (m.Type)
            {
                case MessageType.Dataspace:
                    if (shared) throw Hdf5Errors.Unsupported("shared dataspace message", m.Offset, path);
                    obj.Space = Dataspace.Dataspace.Read(ref r, file, path);
                    break;
                case MessageType.Datatype:
                    if (shared) throw Hdf5Errors.Unsupported("shared (committed) datatype", m.Offset, path);
                    obj.Type = Datatype.Read(ref r, path);
                    break;
                case MessageType.DataLayout:
                    obj.Layout = DataLayout.Read(ref r, file, path);
                    break;
                case MessageType.FilterPipeline:
                    obj.Filters = FilterPipeline.Read(ref r, path);
                    break;
                case MessageType.Attribute:
                    obj.Attributes.Add(AttributeMessage.Read(ref r, file, path));
                    break;
                case MessageType.Link:
                    obj.IsGroup = true;
                    obj.Links.Add(Link.Read(ref r, file, path));
                    break;
                case MessageType.SymbolTable:
                    obj.IsGroup = true;
                    obj.SymbolTable = (file.ReadAddress(ref r), file.ReadAddress(ref r), m.Offset);
                    break;
                case MessageType.LinkInfo:
                    obj.IsGroup = true;
                    CheckLinkInfo(ref r, file, path);
                    break;
                case MessageType.AttributeInfo:
                    CheckAttributeInfo(ref r, file, path);
                    break;
            }
        }
        return obj;
    }

    // Link info names a fractal heap when the group's links are stored densely (more than 8 links by default).
    private static void CheckLinkInfo(ref SpanReader r, Hdf5File file, string path)
    {
        long at = r.Offset;
        r.ReadByte();
        int flags = r.ReadByte();
        if ((flags & 0x01) != 0) r.ReadUInt64();
        if (!file.IsUndefined(file.ReadAddress(ref r))) throw Hdf5Errors.Unsupported("dense link storage (fractal heap)", at, path);
    }

    private static void CheckAttributeInfo(ref SpanReader r, Hdf5File file, string path)
    {
        long at = r.Offset;
        r.ReadByte();
        int flags = r.ReadByte();
        if ((flags & 0x01) != 0) r.ReadUInt16();
        if (!file.IsUndefined(file.ReadAddress(ref r))) throw Hdf5Errors.Unsupported("dense attribute storage (fractal heap)", at, path);
    }
}
