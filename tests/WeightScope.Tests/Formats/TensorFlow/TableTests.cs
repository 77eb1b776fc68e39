using System.Buffers.Binary;
using System.Text;
using WeightScope.Formats.TensorFlow.Table;
using WeightScope.IO;
using Xunit;

namespace WeightScope.Tests.Formats.TensorFlow;

/// <summary>The table reader on tables built by <see cref="TfTableBuilder"/>, and one crafted corruption per error kind.</summary>
public sealed class TableTests
{
    private static readonly ReaderLimits Limits = ReaderLimits.Default;

    private static List<(byte[] Key, byte[] Value)> Sample(int n) =>
        Enumerable.Range(0, n).Select(i => (Encoding.ASCII.GetBytes($"layer_{i:D4}/kernel"), Encoding.ASCII.GetBytes($"value {i}"))).ToList();

    private static List<TableEntry> Read(byte[] bytes) => SsTable.ReadAll(MappedFile.FromArray(bytes), Limits);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_every_entry_across_blocks_restarts_and_prefix_compression(bool snappy)
    {
        var entries = Sample(100);
        var bytes = new TfTableBuilder { EntriesPerBlock = 30, RestartInterval = 4, SnappyLiteral = snappy }.Build(entries);
        var read = Read(bytes);
        Assert.Equal(entries.Select(e => Encoding.ASCII.GetString(e.Key)), read.Select(e => Encoding.ASCII.GetString(e.Key)));
        Assert.Equal(entries.Select(e => Encoding.ASCII.GetString(e.Value)), read.Select(e => Encoding.ASCII.GetString(e.Value.Span)));
    }

    [Fact]
    public void Detects_the_footer_magic()
    {
        var bytes = new TfTableBuilder().Build(Sample(1));
        Assert.True(SsTable.HasFooterMagic(MappedFile.FromArray(bytes)));
        bytes[^1] ^= 1;
        Assert.False(SsTable.HasFooterMagic(MappedFile.FromArray(bytes)));
    }

    [Fact]
    public void Wrong_footer_magic()
    {
        var bytes = new TfTableBuilder().Build(Sample(3));
        bytes[^8] = 0;
        var e = Assert.Throws<InvalidModelContentException>(() => Read(bytes));
        Assert.Contains("table magic", e.Message);
        Assert.Equal(bytes.Length - 8, e.Offset);
    }

    [Fact]
    public void File_shorter_than_the_footer() =>
        Assert.Contains("truncated", Assert.Throws<InvalidModelContentException>(() => Read(new byte[20])).Message);

    [Fact]
    public void Index_block_handle_beyond_the_file()
    {
        var bytes = new TfTableBuilder().Build(Sample(3));
        int footer = bytes.Length - TableFormat.FooterLength;
        // footer: metaindex handle (offset, size varints), then the index handle; make the index offset huge
        int pos = 0;
        var span = bytes.AsSpan(footer);
        Varint.TryRead64(span, ref pos, out _);
        Varint.TryRead64(span, ref pos, out _);
        var patched = new List<byte>();
        TfTableBuilder.PutVarint(patched, 1_000_000);
        TfTableBuilder.PutVarint(patched, 10);
        patched.CopyTo(bytes, footer + pos);
        var e = Assert.Throws<InvalidModelContentException>(() => Read(bytes));
        Assert.Contains("index block handle points at 10 bytes", e.Message);
        Assert.Contains("at offset 1000000", e.Message);
    }

    [Fact]
    public void Block_checksum_mismatch()
    {
        var bytes = new TfTableBuilder().Build(Sample(3));
        bytes[5] ^= 0x20; // inside the first data block's key bytes
        var e = Assert.Throws<InvalidModelContentException>(() => Read(bytes));
        Assert.Contains("data block at offset 0 fails its CRC-32C check", e.Message);
    }

    [Fact]
    public void Restart_array_pointing_inside_an_entry()
    {
        var bytes = new TfTableBuilder
        {
            RestartInterval = 2,
            CorruptBlock = b =>
            {
                // restarts: [0, x], count 2 — move the second restart one byte into its entry
                int second = b.Count - 8;
                uint v = BinaryPrimitives.ReadUInt32LittleEndian(b.GetRange(second, 4).ToArray());
                var t = new byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(t, v + 1);
                for (int i = 0; i < 4; i++) b[second + i] = t[i];
            },
        }.Build(Sample(3));
        Assert.Contains("restart point 1 of the data block", Assert.Throws<InvalidModelContentException>(() => Read(bytes)).Message);
    }

    [Fact]
    public void Restart_count_larger_than_the_block()
    {
        var bytes = new TfTableBuilder
        {
            CorruptBlock = b => { b[^4] = 0xFF; b[^3] = 0xFF; },
        }.Build(Sample(3));
        Assert.Contains("declares 65535 restart points", Assert.Throws<InvalidModelContentException>(() => Read(bytes)).Message);
    }

    [Fact]
    public void Key_sharing_more_than_the_previous_key_has()
    {
        var bytes = new TfTableBuilder
        {
            RestartInterval = 16,
            CorruptBlock = b => b[0] = 5, // the first entry's shared length: 5, but there is no previous key
        }.Build(Sample(3));
        var e = Assert.Throws<InvalidModelContentException>(() => Read(bytes));
        Assert.Contains("shares 5 bytes with the previous key, which has only 0", e.Message);
        Assert.Equal(0, e.Offset);
    }

    [Fact]
    public void Value_length_beyond_the_block()
    {
        var bytes = new TfTableBuilder { CorruptBlock = b => b[2] = 0x7F }.Build(Sample(3)); // first entry's value_length
        Assert.Contains("remain before the restart array", Assert.Throws<InvalidModelContentException>(() => Read(bytes)).Message);
    }

    [Fact]
    public void Keys_out_of_order()
    {
        var entries = Sample(3);
        (entries[0], entries[1]) = (entries[1], entries[0]);
        var bytes = new TfTableBuilder { RestartInterval = 1 }.Build(entries);
        Assert.Contains("table keys must be strictly increasing", Assert.Throws<InvalidModelContentException>(() => Read(bytes)).Message);
    }

    [Fact]
    public void Snappy_block_decoding_to_more_than_declared()
    {
        var table = new TfTableBuilder { SnappyLiteral = true };
        var bytes = table.Build(Sample(2));
        // the data block starts with the snappy preamble (its uncompressed length); lower it by one and fix the trailer
        int blockLength = (int)BlockLength(bytes);
        bytes[0] -= 1;
        var crc = Crc32C.Mask(Crc32C.Value(bytes.AsSpan(0, blockLength + 1)));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(blockLength + 1), crc);
        var e = Assert.Throws<InvalidModelContentException>(() => Read(bytes));
        Assert.Contains("snappy-compressed data block at offset 0 does not decode", e.Message);
        Assert.Contains("past the declared uncompressed length", e.Message);
    }

    [Fact]
    public void Unknown_block_compression_type()
    {
        var bytes = new TfTableBuilder().Build(Sample(2));
        int blockLength = (int)BlockLength(bytes);
        bytes[blockLength] = 7;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(blockLength + 1), Crc32C.Mask(Crc32C.Value(bytes.AsSpan(0, blockLength + 1))));
        Assert.Contains("compression type 7", Assert.Throws<UnsupportedModelFeatureException>(() => Read(bytes)).Message);
    }

    // The first data block starts at 0; its length is the size in the index block's first handle. With one data block,
    // the metaindex block (8 bytes + trailer) follows it, and the footer's metaindex handle gives its offset.
    private static ulong BlockLength(byte[] bytes)
    {
        int pos = 0;
        Varint.TryRead64(bytes.AsSpan(bytes.Length - TableFormat.FooterLength), ref pos, out ulong metaOffset);
        return metaOffset - TableFormat.BlockTrailerLength;
    }
}
