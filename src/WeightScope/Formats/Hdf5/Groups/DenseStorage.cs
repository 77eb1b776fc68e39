using WeightScope.Formats.Hdf5.Attributes;
using WeightScope.Formats.Hdf5.BTrees;
using WeightScope.Formats.Hdf5.Heaps;
using WeightScope.Formats.Hdf5.ObjectHeader;
using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Groups;

/// <summary>
/// Dense link and attribute storage: the name-index v2 B-tree's records hold fractal heap IDs of link or attribute
/// messages (record type 5: name hash + heap ID; type 8: heap ID, message flags, creation order, name hash).
/// </summary>
internal static class DenseStorage
{
    private const int NameHashSize = 4;
    private const int AttributeHeapIdSize = 8;

    /// <summary>The links of a dense group.</summary>
    public static List<Link> Links(Hdf5File file, ulong heapAddress, ulong nameIndex, long at, string path)
    {
        var heap = FractalHeap.Read(file, heapAddress, at, path);
        var links = new List<Link>();
        foreach (var record in BTreeV2.Records(file, nameIndex, at, path))
        {
            if (record.Length <= NameHashSize) throw Hdf5Errors.Invalid("link name index record is too short", at, path);
            var bytes = heap.Object(record.AsSpan(NameHashSize), at);
            var r = new SpanReader(bytes, at);
            links.Add(Link.Read(ref r, file, path));
        }
        return links;
    }

    /// <summary>The attributes of an object with dense attribute storage.</summary>
    public static List<AttributeMessage> Attributes(Hdf5File file, ulong heapAddress, ulong nameIndex, long at, string path)
    {
        var heap = FractalHeap.Read(file, heapAddress, at, path);
        var attributes = new List<AttributeMessage>();
        foreach (var record in BTreeV2.Records(file, nameIndex, at, path))
        {
            if (record.Length < AttributeHeapIdSize) throw Hdf5Errors.Invalid("attribute name index record is too short", at, path);
            var bytes = heap.Object(record.AsSpan(0, AttributeHeapIdSize), at);
            var r = new SpanReader(bytes, at);
            // The record's message flags follow the heap ID: a shared attribute's heap object is a shared message encoding.
            if (record.Length > AttributeHeapIdSize && (record[AttributeHeapIdSize] & MessageType.FlagShared) != 0)
                r = SharedMessage.Resolve(file, ref r, MessageType.Attribute, path);
            attributes.Add(AttributeMessage.Read(ref r, file, path));
        }
        return attributes;
    }
}
