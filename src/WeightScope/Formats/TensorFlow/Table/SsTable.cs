using WeightScope.IO;

namespace WeightScope.Formats.TensorFlow.Table;

/// <summary>
/// Reads a whole leveldb-style table, as TensorFlow's <c>table.cc</c> iterates it: footer → index block → each data
/// block in index order. Every block's trailer checksum is verified (TensorFlow's <c>ReadBlock</c> always does) and
/// keys must be strictly increasing across the table. Checkpoint indexes are small, so entries are materialised.
/// </summary>
internal static class SsTable
{
    /// <summary>True when the file ends with the table magic. Cheap: reads 8 bytes.</summary>
    public static bool HasFooterMagic(MappedFile file) =>
        file.Length >= TableFormat.FooterLength && TableFormat.HasMagic(file.Span(file.Length - TableFormat.MagicLength, TableFormat.MagicLength));

    /// <summary>All entries, in key order.</summary>
    /// <exception cref="ModelFormatException">The table is corrupt or exceeds <paramref name="limits"/>.</exception>
    public static List<TableEntry> ReadAll(MappedFile file, ReaderLimits limits)
    {
        if (file.Length < TableFormat.FooterLength) throw TfCheckpointErrors.TooShortForFooter(file.Length);
        long footerOffset = file.Length - TableFormat.FooterLength;
        var footer = file.Span(footerOffset, TableFormat.FooterLength);
        if (!TableFormat.HasMagic(footer[^TableFormat.MagicLength..]))
            throw TfCheckpointErrors.BadMagic(footer[^TableFormat.MagicLength..], file.Length - TableFormat.MagicLength);
        int pos = 0;
        if (!BlockHandle.TryDecode(footer, ref pos, out var metaindex) || !BlockHandle.TryDecode(footer, ref pos, out var index))
            throw TfCheckpointErrors.BadFooterHandle(footerOffset);
        // The metaindex names filter blocks; TensorFlow's bundles write none and the reader does not need them, but its
        // handle must still be sane.
        CheckHandle(metaindex, "metaindex block", footerOffset, footerOffset);

        var indexBlock = ReadBlock(file, index, "index block", footerOffset, limits);
        var indexEntries = TableBlock.Parse(indexBlock, (long)index.Offset, IsExact(file, index), "index block", limits.MaxTensorCount);
        var all = new List<TableEntry>();
        byte[]? lastKey = null;
        foreach (var ie in indexEntries)
        {
            int hp = 0;
            var handleBytes = ie.Value.Span;
            if (!BlockHandle.TryDecode(handleBytes, ref hp, out var handle)) throw TfCheckpointErrors.BadIndexHandle(ie.Offset);
            var contents = ReadBlock(file, handle, "data block", ie.Offset, limits);
            var block = TableBlock.Parse(contents, (long)handle.Offset, IsExact(file, handle), "data block", limits.MaxTensorCount - all.Count);
            foreach (var e in block)
            {
                if (lastKey is not null && e.Key.AsSpan().SequenceCompareTo(lastKey) <= 0)
                    throw TfCheckpointErrors.KeysOutOfOrder(TfKeys.Display(e.Key), TfKeys.Display(lastKey), e.Offset);
                lastKey = e.Key;
                all.Add(e);
            }
        }
        return all;
    }

    // Called after ReadBlock has checked the handle: the type byte follows the contents.
    private static bool IsExact(MappedFile file, BlockHandle handle) =>
        file.Span((long)handle.Offset + (long)handle.Size, 1)[0] == TableFormat.NoCompression;

    private static void CheckHandle(BlockHandle handle, string what, long footerOffset, long referencedAt)
    {
        // Blocks lie before the footer, each followed by its trailer.
        if (handle.Offset > (ulong)footerOffset || handle.Size > (ulong)footerOffset - handle.Offset
            || (ulong)TableFormat.BlockTrailerLength > (ulong)footerOffset - handle.Offset - handle.Size)
            throw TfCheckpointErrors.BlockBeyondFile(what, handle.Offset, handle.Size, footerOffset, referencedAt);
    }

    /// <summary>A block's contents, checksum verified and decompressed.</summary>
    private static ReadOnlyMemory<byte> ReadBlock(MappedFile file, BlockHandle handle, string what, long referencedAt, ReaderLimits limits)
    {
        long footerOffset = file.Length - TableFormat.FooterLength;
        CheckHandle(handle, what, footerOffset, referencedAt);
        long offset = (long)handle.Offset;
        if (handle.Size > (ulong)limits.MaxHeaderBytes)
            throw new ReaderLimitException(TfCheckpointErrors.Format, nameof(ReaderLimits.MaxHeaderBytes), (long)handle.Size, limits.MaxHeaderBytes, offset);
        int size = (int)handle.Size;
        var withTrailer = file.Span(offset, size + TableFormat.BlockTrailerLength);
        uint stored = Crc32C.Unmask(System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(withTrailer[(size + 1)..]));
        uint actual = Crc32C.Value(withTrailer[..(size + 1)]);
        if (stored != actual) throw TfCheckpointErrors.BlockChecksum(what, offset, stored, actual);

        byte type = withTrailer[size];
        switch (type)
        {
            case TableFormat.NoCompression:
                return withTrailer[..size].ToArray();
            case TableFormat.SnappyCompression:
                try
                {
                    return Snappy.Decompress(withTrailer[..size], Math.Min(limits.MaxDecompressedBytes, limits.MaxHeaderBytes));
                }
                catch (InvalidDataException e)
                {
                    throw TfCheckpointErrors.BadSnappy(what, offset, e);
                }
            default:
                throw TfCheckpointErrors.UnknownCompression(what, type, offset);
        }
    }
}
