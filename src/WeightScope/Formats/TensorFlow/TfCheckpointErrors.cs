using WeightScope.Formats.TensorFlow.Table;

namespace WeightScope.Formats.TensorFlow;

/// <summary>Every TensorFlow checkpoint error message, in one place: what was expected, what was found, where, and what to do.</summary>
internal static class TfCheckpointErrors
{
    public const string Format = "tf-checkpoint";

    private const string Resave = "the index is corrupt; restore the checkpoint from its source or re-save it with tf.train.Checkpoint.save / tf.compat.v1.train.Saver";

    // ---- table (index file) ----

    public static ModelFormatException TooShortForFooter(long length) =>
        new InvalidModelContentException(Format, $"a checkpoint index ends with a {TableFormat.FooterLength}-byte table footer, but the file has only {length} bytes: it is truncated", 0);

    public static ModelFormatException BadMagic(ReadOnlySpan<byte> found, long offset) =>
        new InvalidModelContentException(Format,
            $"expected the table magic 0x{TableFormat.Magic:x16} (little-endian) in the last 8 bytes, found {Convert.ToHexString(found)}: the index is truncated or not a TensorFlow table", offset);

    public static ModelFormatException BadFooterHandle(long offset) =>
        new InvalidModelContentException(Format, $"the table footer's metaindex/index block handles are not valid varints; {Resave}", offset);

    public static ModelFormatException BadIndexHandle(long offset) =>
        new InvalidModelContentException(Format, $"an index-block entry does not hold a valid block handle (two varint64s); {Resave}", offset);

    public static ModelFormatException BlockBeyondFile(string what, ulong offset, ulong size, long footerOffset, long referencedAt) =>
        new InvalidModelContentException(Format,
            $"the {what} handle points at {size} bytes (+{TableFormat.BlockTrailerLength} trailer) at offset {offset}, beyond the blocks area that ends at the footer ({footerOffset}); the file is truncated or the handle corrupt",
            referencedAt);

    public static ModelFormatException BlockChecksum(string what, long offset, uint stored, uint actual) =>
        new InvalidModelContentException(Format,
            $"the {what} at offset {offset} fails its CRC-32C check (stored 0x{stored:x8}, computed 0x{actual:x8}); {Resave}", offset);

    public static ModelFormatException UnknownCompression(string what, byte type, long offset) =>
        new UnsupportedModelFeatureException(Format,
            $"{what} compression type {type} at offset {offset} (known: {TableFormat.NoCompression} none, {TableFormat.SnappyCompression} snappy)", offset);

    public static ModelFormatException BadSnappy(string what, long offset, Exception inner) =>
        new InvalidModelContentException(Format, $"the snappy-compressed {what} at offset {offset} does not decode: {inner.Message}", offset, null, inner);

    public static ModelFormatException BlockTooShort(string what, int length, long offset) =>
        new InvalidModelContentException(Format, $"the {what} at offset {offset} has {length} bytes, fewer than its 4-byte restart count", offset);

    public static ModelFormatException BadRestartCount(string what, uint count, uint max, long offset) =>
        new InvalidModelContentException(Format, $"the {what} at offset {offset} declares {count} restart points but has room for at most {max}; {Resave}", offset);

    public static ModelFormatException BadRestartPoint(string what, int index, uint point, int restartOffset, long offset) =>
        new InvalidModelContentException(Format,
            $"restart point {index} of the {what} at offset {offset} is {point}: restart points must increase and each must be the start of an entry that shares no key prefix (entries end at {restartOffset}); {Resave}",
            offset);

    public static ModelFormatException BadEntryHeader(string what, long offset) =>
        new InvalidModelContentException(Format, $"a {what} entry's shared/non-shared/value lengths are not valid varint32s; {Resave}", offset);

    public static ModelFormatException SharedPrefixTooLong(string what, uint shared, int previous, long offset) =>
        new InvalidModelContentException(Format,
            $"a {what} entry shares {shared} bytes with the previous key, which has only {previous}; {Resave}", offset);

    public static ModelFormatException EntryBeyondBlock(string what, uint nonShared, uint valueLength, int left, long offset) =>
        new InvalidModelContentException(Format,
            $"a {what} entry needs {nonShared} key + {valueLength} value bytes but only {left} remain before the restart array; {Resave}", offset);

    public static ModelFormatException TooManyEntries(int max, long offset) =>
        new ReaderLimitException(Format, nameof(ReaderLimits.MaxTensorCount), (long)max + 1, max, offset);

    public static ModelFormatException KeysOutOfOrder(string key, string previous, long offset) =>
        new InvalidModelContentException(Format, $"key '{key}' follows '{previous}': table keys must be strictly increasing; {Resave}", offset, key);

    // ---- bundle (index entries and data shards) ----

    public static ModelFormatException NoHeader(string? firstKey) =>
        new InvalidModelContentException(Format,
            firstKey is null ? "the index table is empty; a V2 checkpoint index starts with the header entry (empty key)"
                             : $"the first key is '{firstKey}', not the header entry (empty key) every V2 checkpoint index starts with", 0);

    public static ModelFormatException BadV1(string? name, string why, long offset) =>
        new InvalidModelContentException(Format, $"V1 checkpoint{(name is null ? "" : $" tensor '{name}'")}: {why}; {Resave}", offset, name);

    public static ModelFormatException BadProto(string what, string? key, long offset, Exception inner) =>
        new InvalidModelContentException(Format, $"the {what} does not parse as protobuf: {inner.Message}; {Resave}", offset, key, inner);

    public static ModelFormatException BadShardCount(int numShards, long offset) =>
        new InvalidModelContentException(Format, $"the header declares {numShards} data shards; a bundle has at least 1", offset);

    public static ModelFormatException UnknownEndianness(int value, long offset) =>
        new UnsupportedModelFeatureException(Format, $"bundle endianness {value} (known: 0 little, 1 big)", offset);

    public static ModelFormatException UnknownDType(string key, int dtype, long offset) =>
        new InvalidModelContentException(Format,
            $"tensor '{key}' has DataType {dtype}, which is not a TensorFlow DataType a checkpoint stores; the index is corrupt or from a newer TensorFlow", offset, key);

    public static ModelFormatException UnsupportedDType(string key, string dtype, long offset) =>
        new UnsupportedModelFeatureException(Format, $"tensor '{key}' of TensorFlow type {dtype} (readable: numeric, bool, half, bfloat16, complex, string)", offset, key);

    public static ModelFormatException Partitioned(string key, int slices, long offset) =>
        new UnsupportedModelFeatureException(Format,
            $"partitioned variable '{key}' (saved as {slices} slices); re-save it unpartitioned (e.g. restore into a model without a partitioner and save)", offset, key);

    public static ModelFormatException BadPartition(string key, string why, long offset) =>
        new InvalidModelContentException(Format, $"partitioned variable '{key}': {why}", offset, key);

    public static ModelFormatException BadShape(string key, string why, long offset) =>
        new InvalidModelContentException(Format, $"tensor '{key}' has an invalid shape: {why}", offset, key);

    public static ModelFormatException SizeMismatch(string key, long size, long expected, string dtype, string shape, long offset) =>
        new InvalidModelContentException(Format,
            $"tensor '{key}' ({dtype}{shape}) records {size} data bytes, but its shape and type need {expected}", offset, key);

    public static ModelFormatException BadShardId(string key, int shard, int numShards, long offset) =>
        new InvalidModelContentException(Format, $"tensor '{key}' is in shard {shard}, but the header declares {numShards} shards (0…{numShards - 1})", offset, key);

    public static ModelFormatException MissingShard(string key, string shardPath, long offset) =>
        new InvalidModelContentException(Format,
            $"tensor '{key}' is stored in data shard '{Path.GetFileName(shardPath)}', which does not exist beside the index ({shardPath}); copy every '.data-*' file with the '.index'",
            offset, key);

    public static ModelFormatException DataBeyondShard(string key, string shardPath, long offset, long size, long shardLength, long entryOffset) =>
        new InvalidModelContentException(Format,
            $"tensor '{key}' needs {size} bytes at offset {offset} of shard '{Path.GetFileName(shardPath)}', which has only {shardLength} bytes: the shard is truncated or the index corrupt",
            entryOffset, key);

    public static ModelFormatException DataChecksum(string key, string shardPath, long offset, long size, uint stored, uint actual) =>
        new InvalidModelContentException(Format,
            $"tensor '{key}' ({size} bytes at offset {offset} of shard '{Path.GetFileName(shardPath)}') fails its CRC-32C check (stored 0x{stored:x8}, computed 0x{actual:x8}): the data shard is corrupt",
            offset, key) { FilePath = shardPath };

    public static ModelFormatException BadStringTensor(string key, string why, long offset) =>
        new InvalidModelContentException(Format, $"string tensor '{key}' is malformed: {why}", offset, key);

    public static ModelFormatException DuplicateName(string name, long offset) =>
        new InvalidModelContentException(Format, $"two keys map to the tensor name '{name}'", offset, name);

    // ---- opening by folder or prefix ----

    public static ModelFormatException NoCheckpointInFolder(string dir) =>
        new InvalidModelContentException(Format, $"folder '{dir}' holds no '*.index' checkpoint index and no 'checkpoint' state file that names one", null);

    public static ModelFormatException SeveralCheckpoints(string dir, IEnumerable<string> indexes) =>
        new InvalidModelContentException(Format,
            $"folder '{dir}' holds several checkpoints ({string.Join(", ", indexes.Select(Path.GetFileName))}) and no 'checkpoint' state file says which is current; open one '.index' file",
            null);

    public static ModelFormatException StatePointsNowhere(string dir, string target) =>
        new InvalidModelContentException(Format,
            $"the 'checkpoint' state file in '{dir}' names '{target}', which is neither a '.index' nor a checkpoint file inside the folder; open the checkpoint's '.index' file directly",
            null, "checkpoint");
}
