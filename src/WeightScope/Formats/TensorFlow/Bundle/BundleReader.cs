using System.Buffers.Binary;
using System.Text;
using WeightScope.Formats.TensorFlow.ObjectGraph;
using WeightScope.Formats.TensorFlow.Proto;
using WeightScope.Formats.TensorFlow.Table;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.TensorFlow.Bundle;

/// <summary>
/// Maps a V2 checkpoint (<see cref="BundleIndex"/> + data shards) into the uniform model. Tensors are named by their
/// checkpoint keys in key order (what <c>tf.train.list_variables</c> lists), each a zero-copy view of its shard whose
/// checksum is verified on first read. String tensors (the TF2 object graph, vocabularies) and the TF2
/// <c>save_counter</c> go to <see cref="ModelFile.Metadata"/> under their keys.
/// </summary>
internal static class BundleReader
{
    /// <summary>The suffix of an index file; the part before it is the checkpoint prefix.</summary>
    public const string IndexSuffix = ".index";

    /// <summary>Reads the checkpoint whose index is <paramref name="indexFile"/> at <paramref name="indexPath"/>.</summary>
    /// <param name="indexFile">The mapped index.</param>
    /// <param name="indexPath">Its path (the shards are found beside it); null for a stream.</param>
    /// <param name="limits">Reader limits.</param>
    /// <param name="formatName">The format reported (a SavedModel's variables are read as one).</param>
    public static ModelFile Read(MappedFile indexFile, string? indexPath, ReaderLimits limits, string formatName = TfCheckpointErrors.Format)
    {
        var table = SsTable.ReadAll(indexFile, limits);
        if (BundleIndex.IsV1(table))
        {
            var v1 = V1.SliceCheckpointReader.Map(table, formatName);
            if (indexPath is not null) v1.AddSourceFile(indexPath);
            return v1;
        }
        return ReadV2(table, indexPath, limits, formatName).ToModel();
    }

    /// <summary>
    /// A V2 checkpoint's tensors and metadata before they become a <see cref="ModelFile"/>, so a SavedModel can add
    /// what its graph knows (roles, layer tree). TF2 object-based keys are already given readable names
    /// (<see cref="CheckpointNames"/>); <see cref="BundleContents.Keys"/> keeps each tensor's checkpoint key.
    /// </summary>
    /// <returns>Null for a V1 checkpoint (one table, read whole by <see cref="V1.SliceCheckpointReader"/>).</returns>
    public static BundleContents? ReadContents(MappedFile indexFile, string? indexPath, ReaderLimits limits, string formatName)
    {
        var table = SsTable.ReadAll(indexFile, limits);
        return BundleIndex.IsV1(table) ? null : ReadV2(table, indexPath, limits, formatName);
    }

    private static BundleContents ReadV2(IReadOnlyList<TableEntry> table, string? indexPath, ReaderLimits limits, string formatName)
    {
        var index = BundleIndex.Parse(table);
        int numShards = index.Header.NumShards;
        bool bigEndian = index.Header.Endianness == BundleHeaderProto.Types.Endianness.Big;

        // Slice entries of partitioned variables (keys starting with OrderedCode's 0) are found through their variable.
        var sliceEntries = index.Entries.Where(e => e.RawKey.Length > 0 && e.RawKey[0] == TfKeys.SliceKeyFirstByte)
            .ToDictionary(e => Convert.ToHexString(e.RawKey), StringComparer.Ordinal);

        var shards = new Shards(indexPath, numShards);
        try
        {
            var tensors = new List<TensorEntry>(index.Entries.Count);
            var metadata = new Dictionary<string, object?>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in index.Entries)
            {
                if (e.RawKey.Length > 0 && e.RawKey[0] == TfKeys.SliceKeyFirstByte) continue;
                if (!names.Add(e.Key)) throw TfCheckpointErrors.DuplicateName(e.Key, e.Offset);
                var entry = e.Entry;
                if (!TfDataType.IsDefined(entry.Dtype)) throw TfCheckpointErrors.UnknownDType(e.Key, (int)entry.Dtype, e.Offset);
                var shape = ReadShape(e);
                if (entry.ShardId < 0 || entry.ShardId >= numShards) throw TfCheckpointErrors.BadShardId(e.Key, entry.ShardId, numShards, e.Offset);
                if (entry.Offset < 0 || entry.Size < 0)
                    throw TfCheckpointErrors.BadShape(e.Key, $"negative data offset {entry.Offset} or size {entry.Size}", e.Offset);

                if (entry.Dtype == DataType.DtString)
                {
                    metadata[e.Key] = ReadStrings(e, shape, shards, limits);
                    continue;
                }
                var dtype = TfDataType.ToDType(entry.Dtype) ?? throw TfCheckpointErrors.UnsupportedDType(e.Key, TfDataType.Name(entry.Dtype), e.Offset);
                if (entry.Slices.Count > 0)
                {
                    var assembled = PartitionedVariable.Assemble(e, shape, dtype,
                        key => sliceEntries.GetValueOrDefault(Convert.ToHexString(key)), slice => MapData(slice, shards));
                    tensors.Add(new TensorEntry(e.Key, dtype, shape, assembled, role: RoleOf(e.Key), bigEndian: bigEndian));
                    continue;
                }
                long expected;
                try { expected = checked(shape.ElementCount * dtype.ItemSize()); }
                catch (OverflowException) { throw TfCheckpointErrors.BadShape(e.Key, "the product of its dimensions overflows int64", e.Offset); }
                if (entry.Size != expected)
                    throw TfCheckpointErrors.SizeMismatch(e.Key, entry.Size, expected, TfDataType.Name(entry.Dtype), shape.ToString(), e.Offset);

                TensorStorage storage = expected == 0
                    ? new ArrayStorage([], e.Key)
                    : MapData(e, shards);
                var tensor = new TensorEntry(e.Key, dtype, shape, storage, role: RoleOf(e.Key), bigEndian: bigEndian);
                if (e.Key == TfKeys.SaveCounterKey && dtype == DType.Int64 && shape.Rank == 0)
                {
                    ((BundleStorage)storage).Verify();
                    var v = new byte[sizeof(long)];
                    storage.Read(0, v);
                    metadata[e.Key] = bigEndian ? BinaryPrimitives.ReadInt64BigEndian(v) : BinaryPrimitives.ReadInt64LittleEndian(v);
                    continue;
                }
                tensors.Add(tensor);
            }

            var format = new ModelFormatInfo(formatName, formatName == TfCheckpointErrors.Format ? "V2" : null,
                $"{(formatName == TfCheckpointErrors.Format ? "" : "variables: V2 ")}tensor bundle, {numShards} shard{(numShards == 1 ? "" : "s")}{(bigEndian ? ", big-endian" : "")}");
            var keys = tensors.Select(t => t.Name).ToList();
            var graph = CheckpointNames.ReadGraph(metadata);
            tensors = CheckpointNames.Rename(tensors, graph is null ? new Dictionary<string, string>() : CheckpointNames.FullNames(graph), metadata);
            var sources = new List<string>();
            if (indexPath is not null) sources.Add(indexPath);
            sources.AddRange(shards.Paths);
            return new BundleContents(tensors, keys, metadata, format, [.. shards.Files], sources);
        }
        catch
        {
            shards.Dispose();
            throw;
        }
    }

    private static TensorRole RoleOf(string key) => TfKeys.IsOptimizerState(key) ? TensorRole.OptimizerState : TensorRole.Other;

    private static Shape ReadShape(BundleIndexEntry e)
    {
        var proto = e.Entry.Shape;
        if (proto is null) return new Shape([]);
        if (proto.UnknownRank) throw TfCheckpointErrors.BadShape(e.Key, "unknown rank (a saved tensor always has a known shape)", e.Offset);
        var dims = new long[proto.Dim.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = proto.Dim[i].Size;
            if (dims[i] < 0) throw TfCheckpointErrors.BadShape(e.Key, $"dimension {i} is {dims[i]} (unknown sizes are not saved)", e.Offset);
        }
        try { return new Shape(dims); }
        catch (OverflowException) { throw TfCheckpointErrors.BadShape(e.Key, "the product of its dimensions overflows int64", e.Offset); }
    }

    private static BundleStorage MapData(BundleIndexEntry e, Shards shards)
    {
        var (file, path) = shards.Get(e.Entry.ShardId, e);
        if (!file.Contains(e.Entry.Offset, e.Entry.Size))
            throw TfCheckpointErrors.DataBeyondShard(e.Key, path, e.Entry.Offset, e.Entry.Size, file.Length, e.Offset);
        return new BundleStorage(file, path, e.Entry.Offset, e.Entry.Size, e.Entry.Crc32C, e.Key);
    }

    /// <summary>
    /// A string tensor (<c>WriteStringTensor</c>): a varint64 length per element, the masked CRC-32C of those lengths
    /// (each as a little-endian uint32, or uint64 when over 4 GiB), then the bytes of each element. The entry's checksum
    /// covers the lengths (as checksummed), the 4 checksum bytes and the element bytes.
    /// </summary>
    private static object? ReadStrings(BundleIndexEntry e, Shape shape, Shards shards, ReaderLimits limits)
    {
        long size = e.Entry.Size;
        long count = shape.ElementCount;
        if (size > limits.MaxHeaderBytes)
            throw new ReaderLimitException(TfCheckpointErrors.Format, nameof(ReaderLimits.MaxHeaderBytes), size, limits.MaxHeaderBytes, e.Offset, e.Key);
        if (size == 0)
        {
            if (count != 0) throw TfCheckpointErrors.BadStringTensor(e.Key, $"{count} elements in 0 bytes", e.Offset);
            return new List<object?>();
        }
        // Every element takes at least one length byte, and the lengths are followed by a 4-byte checksum.
        if (count > size - sizeof(uint)) throw TfCheckpointErrors.BadStringTensor(e.Key, $"{count} elements cannot fit in {size} bytes", e.Offset);

        var (file, path) = shards.Get(e.Entry.ShardId, e);
        if (!file.Contains(e.Entry.Offset, size)) throw TfCheckpointErrors.DataBeyondShard(e.Key, path, e.Entry.Offset, size, file.Length, e.Offset);
        var data = file.Span(e.Entry.Offset, (int)size);

        int pos = 0;
        var lengths = new ulong[count];
        uint crc = 0;
        Span<byte> le = stackalloc byte[sizeof(ulong)];
        for (long i = 0; i < count; i++)
        {
            if (!Varint.TryRead64(data, ref pos, out lengths[i]))
                throw TfCheckpointErrors.BadStringTensor(e.Key, $"the length of element {i} is not a valid varint64", e.Entry.Offset + pos);
            if (lengths[i] <= uint.MaxValue)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(le, (uint)lengths[i]);
                crc = Crc32C.Extend(crc, le[..sizeof(uint)]);
            }
            else
            {
                BinaryPrimitives.WriteUInt64LittleEndian(le, lengths[i]);
                crc = Crc32C.Extend(crc, le);
            }
        }
        if (data.Length - pos < sizeof(uint)) throw TfCheckpointErrors.BadStringTensor(e.Key, "the lengths run into the end of the data", e.Entry.Offset + pos);
        var lengthChecksum = data.Slice(pos, sizeof(uint));
        uint storedLengths = Crc32C.Unmask(BinaryPrimitives.ReadUInt32LittleEndian(lengthChecksum));
        if (storedLengths != crc) throw TfCheckpointErrors.DataChecksum(e.Key + " (string lengths)", path, e.Entry.Offset + pos, pos, storedLengths, crc);
        crc = Crc32C.Extend(crc, lengthChecksum);
        pos += sizeof(uint);

        var values = new List<object?>((int)count);
        for (long i = 0; i < count; i++)
        {
            if (lengths[i] > (ulong)(data.Length - pos))
                throw TfCheckpointErrors.BadStringTensor(e.Key, $"element {i} needs {lengths[i]} bytes but only {data.Length - pos} remain", e.Entry.Offset + pos);
            var bytes = data.Slice(pos, (int)lengths[i]);
            crc = Crc32C.Extend(crc, bytes);
            values.Add(e.Key == TfKeys.ObjectGraphKey ? bytes.ToArray() : TfKeys.TextOrBytes(bytes));
            pos += (int)lengths[i];
        }
        uint stored = Crc32C.Unmask(e.Entry.Crc32C);
        if (stored != crc) throw TfCheckpointErrors.DataChecksum(e.Key, path, e.Entry.Offset, size, stored, crc);
        return shape.Rank == 0 ? values[0] : values;
    }


    /// <summary>The data shards, mapped when first needed and owned by the model.</summary>
    private sealed class Shards(string? indexPath, int numShards) : IDisposable
    {
        private readonly Dictionary<int, (MappedFile File, string Path)> _open = [];

        public IEnumerable<IDisposable> Files => _open.Values.Select(v => (IDisposable)v.File).ToList();

        public IEnumerable<string> Paths => _open.Values.Select(v => v.Path).ToList();

        public (MappedFile File, string Path) Get(int id, BundleIndexEntry e)
        {
            if (_open.TryGetValue(id, out var s)) return s;
            string path = DataPath(indexPath, id, numShards);
            if (indexPath is null || !File.Exists(path)) throw TfCheckpointErrors.MissingShard(e.Key, path, e.Offset);
            var file = MappedFile.Open(path);
            _open[id] = (file, path);
            return (file, path);
        }

        public void Dispose()
        {
            foreach (var (file, _) in _open.Values) file.Dispose();
        }
    }

    /// <summary><c>DataFilename</c>: <c>{prefix}.data-{shard:05}-of-{num_shards:05}</c>.</summary>
    public static string DataPath(string? indexPath, int shard, int numShards)
    {
        string prefix = indexPath is null ? "<stream>"
            : indexPath.EndsWith(IndexSuffix, StringComparison.Ordinal) ? indexPath[..^IndexSuffix.Length] : indexPath;
        return $"{prefix}.data-{shard:D5}-of-{numShards:D5}";
    }
}
