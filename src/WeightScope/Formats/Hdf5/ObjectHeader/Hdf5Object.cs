using WeightScope.Formats.Hdf5.Attributes;
using WeightScope.Formats.Hdf5.Datatypes;
using WeightScope.Formats.Hdf5.Filters;
using WeightScope.Formats.Hdf5.Groups;
using WeightScope.Formats.Hdf5.Layout;
using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.ObjectHeader;

/// <summary>
/// An object as its header messages describe it: a group (symbol table or links), a dataset (dataspace, datatype,
/// layout, filters, fill value, external files) or a committed datatype, with its compact attributes. Shared messages
/// are resolved (<see cref="SharedMessage"/>). A dataset message that cannot be read does not fail the object: the
/// first such error is kept as <see cref="DatasetFailure"/>, for the dataset's values to report when they are read.
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

    /// <summary>External raw storage segments (message 0x0007), or null.</summary>
    public List<ExternalSegment>? ExternalFiles { get; private set; }

    /// <summary>Bytes of one fill element when a non-zero fill value is defined.</summary>
    public byte[]? Fill { get; private set; }
    public List<AttributeMessage> Attributes { get; } = [];
    public List<Link> Links { get; } = [];
    public (ulong BTree, ulong Heap, long At)? SymbolTable { get; private set; }

    /// <summary>Dense link storage: fractal heap and name-index v2 B-tree, when the group has many links.</summary>
    public (ulong Heap, ulong NameIndex, long At)? DenseLinks { get; private set; }

    /// <summary>Dense attribute storage: fractal heap and name-index v2 B-tree.</summary>
    public (ulong Heap, ulong NameIndex, long At)? DenseAttributes { get; private set; }

    /// <summary>The first dataset message that could not be read (parsed or resolved), or null.</summary>
    public ModelFormatException? DatasetFailure { get; private set; }

    private bool _hasDataspace, _hasDatatype, _hasLayout;

    /// <summary>True when the header describes a dataset (dataspace, datatype and layout messages, readable or not).</summary>
    public bool IsDataset => _hasDataspace && _hasDatatype && _hasLayout;

    /// <summary>True when the header describes a group.</summary>
    public bool IsGroup { get; private set; }

    /// <summary>True for a committed (named) datatype: a datatype message alone, no dataspace, layout or links.</summary>
    public bool IsCommittedDatatype => _hasDatatype && !_hasDataspace && !_hasLayout && !IsGroup;

    /// <summary>Reads and interprets the header at <paramref name="address"/>.</summary>
    public static Hdf5Object Read(Hdf5File file, ulong address, string path)
    {
        var obj = new Hdf5Object { Path = path, Offset = file.Resolve(address, 0, "object header", file.BaseAddress, path) };
        foreach (var m in ObjectHeaderReader.Read(file, address, path))
        {
            switch (m.Type)
            {
                case MessageType.Dataspace or MessageType.Datatype or MessageType.DataLayout or MessageType.FillValue
                    or MessageType.FillValueOld or MessageType.FilterPipeline or MessageType.ExternalFileList:
                    obj.ReadDatasetMessage(file, m);
                    break;
                case MessageType.Attribute:
                    var a = SharedMessage.Body(file, m, path);
                    obj.Attributes.Add(AttributeMessage.Read(ref a, file, path));
                    break;
                case MessageType.Link:
                    obj.IsGroup = true;
                    var l = new SpanReader(file.File.Span(m.Offset, m.Length), m.Offset);
                    obj.Links.Add(Link.Read(ref l, file, path));
                    break;
                case MessageType.SymbolTable:
                    obj.IsGroup = true;
                    var st = new SpanReader(file.File.Span(m.Offset, m.Length), m.Offset);
                    obj.SymbolTable = (file.ReadAddress(ref st), file.ReadAddress(ref st), m.Offset);
                    break;
                case MessageType.LinkInfo:
                    obj.IsGroup = true;
                    var li = new SpanReader(file.File.Span(m.Offset, m.Length), m.Offset);
                    obj.DenseLinks = DenseInfo(ref li, file, 8);
                    break;
                case MessageType.AttributeInfo:
                    var ai = new SpanReader(file.File.Span(m.Offset, m.Length), m.Offset);
                    obj.DenseAttributes = DenseInfo(ref ai, file, 2);
                    break;
            }
        }
        return obj;
    }

    // A dataset's own messages: an error in one of them concerns that dataset only, so it is kept, not thrown.
    private void ReadDatasetMessage(Hdf5File file, HeaderMessage m)
    {
        switch (m.Type)
        {
            case MessageType.Dataspace: _hasDataspace = true; break;
            case MessageType.Datatype: _hasDatatype = true; break;
            case MessageType.DataLayout: _hasLayout = true; break;
        }
        try
        {
            var r = SharedMessage.Body(file, m, Path);
            switch (m.Type)
            {
                case MessageType.Dataspace:
                    Space = Dataspace.Dataspace.Read(ref r, file, Path);
                    break;
                case MessageType.Datatype:
                    Type = Datatype.Read(ref r, Path);
                    break;
                case MessageType.DataLayout:
                    Layout = DataLayout.Read(ref r, file, Path);
                    break;
                case MessageType.FillValue:
                    Fill = FillValue.Read(ref r);
                    break;
                case MessageType.FillValueOld:
                    Fill ??= FillValue.ReadOld(ref r);
                    break;
                case MessageType.FilterPipeline:
                    Filters = FilterPipeline.Read(ref r, Path);
                    break;
                case MessageType.ExternalFileList:
                    ExternalFiles = ExternalFileList.Read(ref r, file, Path);
                    break;
            }
        }
        catch (ModelFormatException e) { DatasetFailure ??= e; }
        catch (EndOfDataException e) { DatasetFailure ??= Hdf5Errors.Invalid($"{MessageType.Name(m.Type)} message runs past its end: {e.Message}", e.Offset, Path); }
        catch (OverflowException) { DatasetFailure ??= Hdf5Errors.Invalid($"{MessageType.Name(m.Type)} message holds a size or count out of range", m.Offset, Path); }
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
