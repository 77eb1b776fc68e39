namespace WeightScope.Formats.Gguf;

/// <summary><c>enum gguf_metadata_value_type</c> (uint32), as the specification numbers it.</summary>
internal enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>
/// <c>gguf_header_t</c> without its key/values: magic, version, tensor_count, metadata_kv_count. In version 1 the two
/// counts (and every string and array length) are uint32; from version 2 on they are uint64.
/// </summary>
/// <param name="Version">1, 2 or 3.</param>
/// <param name="TensorCount">Number of tensor infos.</param>
/// <param name="KvCount">Number of metadata key/value pairs.</param>
internal sealed record GgufHeader(uint Version, long TensorCount, long KvCount)
{
    /// <summary>"GGUF" at the byte level (0x47 0x47 0x55 0x46).</summary>
    public static ReadOnlySpan<byte> Magic => "GGUF"u8;

    /// <summary>File offset of the uint32 version.</summary>
    public const int VersionOffset = 4;

    /// <summary>File offset of tensor_count.</summary>
    public const int TensorCountOffset = 8;

    /// <summary>Versions this reader knows.</summary>
    public const uint FirstVersion = 1, LastVersion = 3;

    /// <summary>Version 1 wrote counts and lengths as uint32 (llama.cpp's gguf.py at the format's introduction).</summary>
    public bool HasNarrowCounts => Version == 1;
}

/// <summary><c>gguf_metadata_kv_t</c>: a key, its value type and the value (already mapped to the metadata conventions).</summary>
/// <param name="Key">Hierarchical key, e.g. <c>general.architecture</c>.</param>
/// <param name="Type">The value's declared type (for arrays: <see cref="GgufValueType.Array"/>).</param>
/// <param name="Value">long, BigInteger (a uint64 beyond long), double, bool, string or List&lt;object?&gt;.</param>
/// <param name="Offset">File offset of the key.</param>
internal sealed record GgufKeyValue(string Key, GgufValueType Type, object? Value, long Offset);

/// <summary><c>gguf_tensor_info_t</c>: name, dimensions in ggml order (ne[0] varies fastest), type, and data offset.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="Ne">Dimensions as stored: <c>ne[0]</c> is the innermost (contiguous) one.</param>
/// <param name="Type">Raw <c>ggml_type</c> id (may be one this reader does not know).</param>
/// <param name="Offset">Offset of the data relative to the start of the aligned tensor data section.</param>
/// <param name="InfoOffset">File offset of this tensor info, for messages.</param>
internal sealed record GgufTensorInfo(string Name, long[] Ne, uint Type, ulong Offset, long InfoOffset);

/// <summary>A parsed GGUF file: every record in file order, plus the alignment and where tensor data starts.</summary>
/// <param name="Header">The header.</param>
/// <param name="KeyValues">Metadata in file order.</param>
/// <param name="TensorInfos">Tensor infos in file order.</param>
/// <param name="Alignment"><c>general.alignment</c>, or 32 when absent.</param>
/// <param name="DataStart">File offset of <c>tensor_data</c>: the end of the tensor infos, padded to <see cref="Alignment"/>.</param>
internal sealed record GgufFile(GgufHeader Header, List<GgufKeyValue> KeyValues, List<GgufTensorInfo> TensorInfos, long Alignment, long DataStart)
{
    /// <summary>Alignment when <c>general.alignment</c> is absent.</summary>
    public const long DefaultAlignment = 32;

    /// <summary>The key that sets the alignment.</summary>
    public const string AlignmentKey = "general.alignment";
}
