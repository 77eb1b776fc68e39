using System.Buffers.Binary;
using WeightScope.Formats.TensorFlow.Table;

namespace WeightScope.Tests.Formats.TensorFlow;

/// <summary>
/// Writes leveldb-style tables the way TensorFlow's <c>table_builder.cc</c> does (prefix-compressed keys, a restart
/// point every <see cref="RestartInterval"/> entries, block trailers with masked CRC-32C, an index block of
/// last-key → handle, an empty metaindex, the 48-byte footer), written from the format description for crafted tests.
/// Hooks let a test corrupt one part.
/// </summary>
internal sealed class TfTableBuilder
{
    public int RestartInterval { get; init; } = 16;
    public int EntriesPerBlock { get; init; } = 1000;

    /// <summary>Compress data blocks with a literal-only Snappy encoding (valid Snappy, trivially constructed).</summary>
    public bool SnappyLiteral { get; init; }

    /// <summary>Called with each finished data block's contents before its trailer is computed.</summary>
    public Action<List<byte>>? CorruptBlock { get; init; }

    public byte[] Build(IEnumerable<(byte[] Key, byte[] Value)> entries)
    {
        var file = new List<byte>();
        var index = new List<(byte[] Key, byte[] Value)>();
        var list = entries.ToList();
        for (int start = 0; start < list.Count || (start == 0 && list.Count == 0); start += EntriesPerBlock)
        {
            var chunk = list.Skip(start).Take(EntriesPerBlock).ToList();
            var block = BlockContents(chunk);
            CorruptBlock?.Invoke(block);
            var handle = WriteBlock(file, block, SnappyLiteral);
            if (chunk.Count > 0) index.Add((chunk[^1].Key, handle));
            if (list.Count == 0) break;
        }
        var metaHandle = WriteBlock(file, BlockContents([]), false);
        var indexHandle = WriteBlock(file, BlockContents(index), false);
        var footer = new List<byte>(metaHandle.Concat(indexHandle));
        while (footer.Count < 40) footer.Add(0);
        var magic = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(magic, TableFormat.Magic);
        footer.AddRange(magic);
        file.AddRange(footer);
        return [.. file];
    }

    public List<byte> BlockContents(IReadOnlyList<(byte[] Key, byte[] Value)> entries)
    {
        var b = new List<byte>();
        var restarts = new List<uint> { 0 };
        byte[] last = [];
        for (int i = 0; i < entries.Count; i++)
        {
            var (key, value) = entries[i];
            int shared = 0;
            if (i % RestartInterval == 0)
            {
                if (i > 0) restarts.Add((uint)b.Count);
            }
            else
            {
                while (shared < last.Length && shared < key.Length && last[shared] == key[shared]) shared++;
            }
            PutVarint(b, (ulong)shared);
            PutVarint(b, (ulong)(key.Length - shared));
            PutVarint(b, (ulong)value.Length);
            b.AddRange(key.Skip(shared));
            b.AddRange(value);
            last = key;
        }
        foreach (var r in restarts) PutFixed32(b, r);
        PutFixed32(b, (uint)restarts.Count);
        return b;
    }

    private static byte[] WriteBlock(List<byte> file, List<byte> contents, bool snappy)
    {
        byte[] stored = snappy ? SnappyLiteralEncode([.. contents]) : [.. contents];
        byte type = snappy ? TableFormat.SnappyCompression : TableFormat.NoCompression;
        var handle = new List<byte>();
        PutVarint(handle, (ulong)file.Count);
        PutVarint(handle, (ulong)stored.Length);
        file.AddRange(stored);
        file.Add(type);
        var crcInput = stored.Append(type).ToArray();
        PutFixed32(file, Crc32C.Mask(Crc32C.Value(crcInput)));
        return [.. handle];
    }

    /// <summary>Snappy with literals only: the preamble, then literal elements of at most 60 bytes (tag (len-1)&lt;&lt;2).</summary>
    public static byte[] SnappyLiteralEncode(byte[] plain)
    {
        var o = new List<byte>();
        PutVarint(o, (ulong)plain.Length);
        for (int i = 0; i < plain.Length; i += 60)
        {
            int n = Math.Min(60, plain.Length - i);
            o.Add((byte)((n - 1) << 2));
            o.AddRange(plain.Skip(i).Take(n));
        }
        return [.. o];
    }

    public static void PutVarint(List<byte> b, ulong v)
    {
        while (v >= 0x80)
        {
            b.Add((byte)(v | 0x80));
            v >>= 7;
        }
        b.Add((byte)v);
    }

    public static void PutFixed32(List<byte> b, uint v)
    {
        var t = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(t, v);
        b.AddRange(t);
    }
}
