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

    /// <summary>Bytes of one fill element when a non-zero fill value is defined.</summary>
    public byte[]? Fill { get; private set; }
    public List<AttributeMessage> Attributes { get; } = [];
    public List<Link> Links { get; } = [];
    public (ulong BTree, ulong Heap, long At)? SymbolTable { get; private set; }

    /// <summary>Dense link storage: fractal heap and name-index v2 B-tree, when the group has many links.</summary>
    public (ulong Heap, ulong NameIndex, long At)? DenseLinks { get; private set; }

    /// <summary>Dense attribute storage: fractal heap and name-index v2 B-tree.</summary>
    public (ulong Heap, ulong NameIndex, long At)? DenseAttributes { get; private set; }

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
                case MessageType.FillValue:
                    obj.Fill = FillValue.Read(ref r);
                    break;
                case MessageType.FillValueOld:
                    obj.Fill ??= FillValue.ReadOld(ref r);
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
                    obj.DenseLinks = DenseInfo(ref r, file, 8);
                    break;
                case MessageType.AttributeInfo:
                    obj.DenseAttributes = DenseInfo(ref r, file, 2);
                    break;
            }
        }
        return obj;
    }

    // Link info and attribute info name a fractal heap and a v2 B-tree when storage is dense (more than 8 links or
    // attributes by default); the creation-order field is 8 bytes in link info and 2 in attribute info.
    private static (ulong, ulong, long)? DenseInfo(ref SpanReader r, Hdf5File file, int creationOrderSize)
    {
        long at = r.Offset;
        r.ReadByte();
        int flags = r.ReadByte();
        if ((flags & 0x01) != 0) r.ReadBytes(creationOrderSize);
        ulong heap = file.ReadAddress(ref r);
        ulong nameIndex = file.ReadAddress(ref r);
        return file.IsUndefined(heap) ? null : (heap, nameIndex, at);
    }
}
