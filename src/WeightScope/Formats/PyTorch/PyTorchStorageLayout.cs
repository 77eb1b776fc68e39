using System.Runtime.CompilerServices;
using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// Which torch storages a zip-format save writes and where each tensor sits in one: tensors that view one
/// <see cref="TensorStorage"/> with one dtype share a record spanning the bytes from the first view's start to the
/// furthest view's end (so tied weights and views stay views of one storage in torch, as torch itself saved them); a
/// tensor alone on its storage gets a record spanning its own bytes. Bytes between views that no view covers are
/// written too, as torch writes a whole storage. Keys are <c>0</c>, <c>1</c>… in order of first use,
/// as torch's <c>persistent_id</c> numbers storages.
/// </summary>
internal sealed class StorageLayout
{
    private StorageLayout(List<StorageRecord> records, Dictionary<TensorEntry, StorageView> views)
    {
        Records = records;
        Views = views;
    }

    /// <summary>The records, in key order of first use.</summary>
    public IReadOnlyList<StorageRecord> Records { get; }

    /// <summary>Each tensor's record, offset and strides (in elements).</summary>
    public IReadOnlyDictionary<TensorEntry, StorageView> Views { get; }

    /// <summary>Groups the tensors into records; <paramref name="warning"/> hears of bytes shared across dtypes, which torch cannot share.</summary>
    public static StorageLayout Plan(IReadOnlyList<TensorEntry> tensors, Action<string>? warning)
    {
        // One cluster per (storage, dtype): the bytes from its first view's first element to the furthest element of
        // any. Big-endian and empty tensors are copied on their own.
        var clusterOf = new Dictionary<TensorEntry, Cluster>(ReferenceEqualityComparer.Instance);
        foreach (var group in tensors.Where(Shareable).GroupBy(t => (Storage: new StorageIdentity(t.Storage), t.DType)))
        {
            var first = group.First();
            var cluster = new Cluster(first.Storage, group.Min(t => t.StorageOffset), group.Max(EndElement));
            foreach (var t in group) clusterOf[t] = cluster;
        }
        WarnCrossDTypeSharing(tensors, warning);

        var records = new List<StorageRecord>();
        var views = new Dictionary<TensorEntry, StorageView>(ReferenceEqualityComparer.Instance);
        var recordOf = new Dictionary<Cluster, StorageRecord>(ReferenceEqualityComparer.Instance);
        foreach (var t in tensors)
        {
            string key = records.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (clusterOf.TryGetValue(t, out var c))
            {
                if (!recordOf.TryGetValue(c, out var record))
                {
                    record = new StorageRecord(key, t.DType, c.End - c.Start, c.Storage, c.Start, null);
                    records.Add(record);
                    recordOf[c] = record;
                }
                views[t] = new StorageView(record, t.StorageOffset - c.Start, [.. t.Strides]);
            }
            else
            {
                var record = new StorageRecord(key, t.DType, t.ElementCount, null, 0, t);
                records.Add(record);
                views[t] = new StorageView(record, 0, t.Shape.ContiguousStrides());
            }
        }
        return new StorageLayout(records, views);
    }

    private static bool Shareable(TensorEntry t) => t.ElementCount > 0 && !t.IsBigEndian;

    private static long EndElement(TensorEntry t) =>
        TensorEntry.RequiredStorageBytes(t.Shape, t.Strides, t.StorageOffset, t.DType.ItemSize()) / t.DType.ItemSize();

    // torch 1.13 refuses "multiple tensors or storages that view the same data as different types"; such views are
    // written as separate storages, which keeps their values but not the sharing.
    private static void WarnCrossDTypeSharing(IReadOnlyList<TensorEntry> tensors, Action<string>? warning)
    {
        if (warning is null) return;
        foreach (var g in tensors.Where(Shareable).GroupBy(t => new StorageIdentity(t.Storage)))
        {
            var ranges = g.Select(t => (t, start: t.StorageOffset * t.DType.ItemSize(),
                end: TensorEntry.RequiredStorageBytes(t.Shape, t.Strides, t.StorageOffset, t.DType.ItemSize()))).OrderBy(r => r.start).ToList();
            for (int i = 1; i < ranges.Count; i++)
                if (ranges[i].start < ranges[i - 1].end && ranges[i].t.DType != ranges[i - 1].t.DType)
                    warning($"{ranges[i - 1].t.Name} ({ranges[i - 1].t.DType.Name()}) and {ranges[i].t.Name} ({ranges[i].t.DType.Name()}) share " +
                            $"storage '{g.Key.Storage.Key}' as different dtypes, which torch cannot record; each is written as its own copy");
        }
    }

    private sealed class Cluster(TensorStorage storage, long start, long end)
    {
        public TensorStorage Storage { get; } = storage;
        public long Start { get; } = start;
        public long End { get; } = end;
    }

    // Storages compared by reference, whatever equality a storage type defines.
    private readonly record struct StorageIdentity(TensorStorage Storage)
    {
        public bool Equals(StorageIdentity other) => ReferenceEquals(Storage, other.Storage);
        public override int GetHashCode() => RuntimeHelpers.GetHashCode(Storage);
    }
}

/// <summary>Where a tensor sits in its record: storage offset and strides in elements, as <c>_rebuild_tensor_v2</c> takes them.</summary>
internal sealed record StorageView(StorageRecord Record, long Offset, long[] Strides);

/// <summary>
/// One <c>data/&lt;key&gt;</c> member: <see cref="ElementCount"/> elements of <see cref="DType"/>, either a span of a
/// source storage (raw bytes, little-endian) or a contiguous copy of one tensor.
/// </summary>
internal sealed class StorageRecord(string key, DType dtype, long elementCount, TensorStorage? source, long sourceStart, TensorEntry? copyOf)
{
    public string Key { get; } = key;
    public DType DType { get; } = dtype;
    public long ElementCount { get; } = elementCount;
    public long ByteLength => checked(ElementCount * DType.ItemSize());

    public void WriteTo(Stream output, IProgress<long>? progress, ref long written)
    {
        if (copyOf is not null)
        {
            TensorBytes.WriteTo(copyOf, output, progress, ref written);
            return;
        }
        TensorBytes.WriteRange(source!, sourceStart * DType.ItemSize(), ByteLength, DType, bigEndian: false, output, progress, ref written);
    }
}
