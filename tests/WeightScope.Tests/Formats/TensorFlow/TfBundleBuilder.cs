using System.Text;
using Google.Protobuf;
using WeightScope.Formats.TensorFlow.Proto;
using WeightScope.Formats.TensorFlow.Table;

namespace WeightScope.Tests.Formats.TensorFlow;

/// <summary>
/// Writes V2 checkpoints as <c>BundleWriter</c> does (header under the empty key, one <see cref="BundleEntryProto"/> per
/// key in key order, data appended to shard 0 with the masked CRC-32C of each tensor's bytes), for crafted tests.
/// Entries can be edited after <see cref="Add"/> to break one rule.
/// </summary>
internal sealed class TfBundleBuilder
{
    public BundleHeaderProto Header { get; } = new() { NumShards = 1, Version = new VersionDef { Producer = 1 } };
    public SortedDictionary<string, BundleEntryProto> Entries { get; } = new(StringComparer.Ordinal);

    /// <summary>Entries under raw (binary) keys: the slices of partitioned variables.</summary>
    public Dictionary<byte[], BundleEntryProto> SliceEntries { get; } = [];
    public List<byte> Data { get; } = [];
    public TfTableBuilder Table { get; init; } = new();

    public BundleEntryProto Add(string key, DataType dtype, long[] shape, byte[] bytes)
    {
        var e = new BundleEntryProto { Dtype = dtype, Shape = Shape(shape), ShardId = 0, Offset = Data.Count, Size = bytes.Length, Crc32C = Crc32C.Mask(Crc32C.Value(bytes)) };
        Data.AddRange(bytes);
        Entries[key] = e;
        return e;
    }

    public BundleEntryProto AddFloats(string key, long[] shape, params float[] values) =>
        Add(key, DataType.DtFloat, shape, values.SelectMany(BitConverter.GetBytes).ToArray());

    /// <summary>A string tensor as <c>WriteStringTensor</c> lays it out.</summary>
    public BundleEntryProto AddStrings(string key, long[] shape, params byte[][] values)
    {
        var b = new List<byte>();
        uint crc = 0;
        foreach (var v in values)
        {
            TfTableBuilder.PutVarint(b, (ulong)v.Length);
            crc = Crc32C.Extend(crc, BitConverter.GetBytes((uint)v.Length));
        }
        uint masked = Crc32C.Mask(crc);
        var m = BitConverter.GetBytes(masked);
        b.AddRange(m);
        crc = Crc32C.Extend(crc, m);
        foreach (var v in values)
        {
            b.AddRange(v);
            crc = Crc32C.Extend(crc, v);
        }
        var e = new BundleEntryProto { Dtype = DataType.DtString, Shape = Shape(shape), Offset = Data.Count, Size = b.Count, Crc32C = Crc32C.Mask(crc) };
        Data.AddRange(b);
        Entries[key] = e;
        return e;
    }

    public byte[] BuildIndex() =>
        Table.Build(new[] { (Key: Array.Empty<byte>(), Value: Header.ToByteArray()) }
            .Concat(Entries.Select(kv => (Key: Encoding.UTF8.GetBytes(kv.Key), Value: kv.Value.ToByteArray()))
                .Concat(SliceEntries.Select(kv => (kv.Key, Value: kv.Value.ToByteArray())))
                .OrderBy(e => e.Key, Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b)))));

    /// <summary>Writes <c>{dir}/{name}.index</c> and its one data shard; returns the index path.</summary>
    public string WriteTo(string dir, string name = "model.ckpt")
    {
        Directory.CreateDirectory(dir);
        string prefix = Path.Combine(dir, name);
        File.WriteAllBytes(prefix + ".index", BuildIndex());
        File.WriteAllBytes($"{prefix}.data-00000-of-{Header.NumShards:D5}", [.. Data]);
        return prefix + ".index";
    }

    private static TensorShapeProto Shape(long[] dims)
    {
        var s = new TensorShapeProto();
        foreach (var d in dims) s.Dim.Add(new TensorShapeProto.Types.Dim { Size = d });
        return s;
    }
}

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("ws-tf-").FullName;
    public void Dispose()
    {
        try { Directory.Delete(Path, true); } catch (IOException) { }
    }
}
