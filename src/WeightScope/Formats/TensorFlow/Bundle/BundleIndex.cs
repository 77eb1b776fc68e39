using Google.Protobuf;
using WeightScope.Formats.TensorFlow.Proto;
using WeightScope.Formats.TensorFlow.Table;

namespace WeightScope.Formats.TensorFlow.Bundle;

/// <summary>One index entry: its key (raw and as displayed), the parsed <see cref="BundleEntryProto"/>, where it was found.</summary>
internal sealed record BundleIndexEntry(byte[] RawKey, string Key, BundleEntryProto Entry, long Offset);

/// <summary>
/// A V2 checkpoint's index (<c>tensor_bundle.cc</c>): the table's first entry, under the empty key, is the
/// <see cref="BundleHeaderProto"/>; every other entry maps a tensor key to a <see cref="BundleEntryProto"/>.
/// </summary>
internal sealed record BundleIndex(BundleHeaderProto Header, IReadOnlyList<BundleIndexEntry> Entries)
{
    // Entries are small messages (a shape and a few numbers); nesting deeper than this is corrupt input.
    private const int ProtoRecursionLimit = 16;

    // The wire tag of a V1 table's first value: SavedTensorSlices.meta (field 1, length-delimited). A V2 header's first
    // field is num_shards (field 1, varint), tag 0x08.
    private const byte V1MetaTag = 0x0a;

    /// <summary>Checks the table starts with the header entry (empty key) both versions have; true for a V1 checkpoint.</summary>
    public static bool IsV1(IReadOnlyList<TableEntry> table)
    {
        if (table.Count == 0) throw TfCheckpointErrors.NoHeader(null);
        var first = table[0];
        if (first.Key.Length != 0) throw TfCheckpointErrors.NoHeader(TfKeys.Display(first.Key));
        return first.Value.Length > 0 && first.Value.Span[0] == V1MetaTag;
    }

    /// <summary>Parses a V2 index table.</summary>
    /// <exception cref="ModelFormatException">Corrupt entries.</exception>
    public static BundleIndex Parse(IReadOnlyList<TableEntry> table)
    {
        if (IsV1(table)) throw new InvalidOperationException("a V1 table");
        var first = table[0];

        var header = Parse(BundleHeaderProto.Parser, first.Value, "header entry", null, first.Offset);
        if (header.NumShards < 1) throw TfCheckpointErrors.BadShardCount(header.NumShards, first.Offset);
        if (header.Endianness is not (BundleHeaderProto.Types.Endianness.Little or BundleHeaderProto.Types.Endianness.Big))
            throw TfCheckpointErrors.UnknownEndianness((int)header.Endianness, first.Offset);

        var entries = new List<BundleIndexEntry>(table.Count - 1);
        for (int i = 1; i < table.Count; i++)
        {
            var t = table[i];
            string key = TfKeys.Display(t.Key);
            entries.Add(new BundleIndexEntry(t.Key, key, Parse(BundleEntryProto.Parser, t.Value, $"entry of '{key}'", key, t.Offset), t.Offset));
        }
        return new BundleIndex(header, entries);
    }

    /// <summary>Parses one table value as a message, bounded and with a recursion limit.</summary>
    internal static T Parse<T>(MessageParser<T> parser, ReadOnlyMemory<byte> value, string what, string? key, long offset)
        where T : IMessage<T>
    {
        try
        {
            // The value is already bounded by its block; the recursion limit stops nesting bombs.
            var stream = CodedInputStream.CreateWithLimits(new MemoryStream(value.ToArray(), false), Math.Max(1, value.Length), ProtoRecursionLimit);
            return parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw TfCheckpointErrors.BadProto(what, key, offset, e);
        }
    }
}
