using System.Buffers.Binary;

namespace WeightScope.Formats.TensorFlow.Table;

/// <summary>
/// A block's entries (<c>tensorflow/core/lib/io/block.cc</c>). Each entry is <c>varint32 shared</c>, <c>varint32
/// non_shared</c>, <c>varint32 value_length</c>, the <c>non_shared</c> key bytes that follow the first <c>shared</c>
/// bytes of the previous key, then the value. After the entries: the restart array (uint32 offsets of entries that
/// share nothing with their predecessor, used for binary search) and its uint32 count.
/// </summary>
internal static class TableBlock
{
    private const int RestartLength = sizeof(uint);

    /// <summary>Parses every entry of a block's contents.</summary>
    /// <param name="contents">The block contents (decompressed), without the trailer.</param>
    /// <param name="blockOffset">The block's file offset, for messages.</param>
    /// <param name="exactOffsets">True when <paramref name="contents"/> are the file's bytes (uncompressed), so entry
    /// positions are file offsets; false for a decompressed block, whose entries report the block's offset.</param>
    /// <param name="what">"index block", "data block", for messages.</param>
    /// <param name="maxEntries">Stop with a limit error beyond this many entries.</param>
    public static List<TableEntry> Parse(ReadOnlyMemory<byte> contents, long blockOffset, bool exactOffsets, string what, int maxEntries)
    {
        var data = contents.Span;
        if (data.Length < RestartLength) throw TfCheckpointErrors.BlockTooShort(what, data.Length, blockOffset);
        uint numRestarts = BinaryPrimitives.ReadUInt32LittleEndian(data[^RestartLength..]);
        uint maxRestarts = (uint)((data.Length - RestartLength) / RestartLength);
        if (numRestarts > maxRestarts) throw TfCheckpointErrors.BadRestartCount(what, numRestarts, maxRestarts, blockOffset);
        int restartOffset = data.Length - (1 + (int)numRestarts) * RestartLength;

        var entries = new List<TableEntry>();
        var entryStarts = new Dictionary<int, uint>(); // entry offset in the block → its shared length
        byte[] key = [];
        int pos = 0;
        while (pos < restartOffset)
        {
            int start = pos;
            long at = exactOffsets ? blockOffset + start : blockOffset;
            var region = data[..restartOffset];
            if (!Varint.TryRead32(region, ref pos, out uint shared) || !Varint.TryRead32(region, ref pos, out uint nonShared)
                || !Varint.TryRead32(region, ref pos, out uint valueLength))
                throw TfCheckpointErrors.BadEntryHeader(what, at);
            if (shared > key.Length) throw TfCheckpointErrors.SharedPrefixTooLong(what, shared, key.Length, at);
            if ((ulong)nonShared + valueLength > (ulong)(restartOffset - pos))
                throw TfCheckpointErrors.EntryBeyondBlock(what, nonShared, valueLength, restartOffset - pos, at);
            if (entries.Count >= maxEntries) throw TfCheckpointErrors.TooManyEntries(maxEntries, at);

            var next = new byte[shared + nonShared];
            key.AsSpan(0, (int)shared).CopyTo(next);
            data.Slice(pos, (int)nonShared).CopyTo(next.AsSpan((int)shared));
            pos += (int)nonShared;
            entries.Add(new TableEntry(next, contents.Slice(pos, (int)valueLength), at));
            pos += (int)valueLength;
            entryStarts[start] = shared;
            key = next;
        }

        // The restart array must point at entry boundaries that share nothing with their predecessor, in increasing
        // order: TensorFlow's Seek binary-searches it, so a corrupt array makes lookups silently miss keys.
        long previous = -1;
        for (int i = 0; i < numRestarts; i++)
        {
            uint point = BinaryPrimitives.ReadUInt32LittleEndian(data[(restartOffset + i * RestartLength)..]);
            bool emptyBlockStart = entries.Count == 0 && point == 0;
            if (point <= previous || !(emptyBlockStart || (entryStarts.TryGetValue((int)Math.Min(point, int.MaxValue), out uint s) && s == 0)))
                throw TfCheckpointErrors.BadRestartPoint(what, i, point, restartOffset, blockOffset);
            previous = point;
        }
        return entries;
    }
}
