using WeightScope.Tensors;

namespace WeightScope.Formats.Gguf;

/// <summary>
/// <c>enum ggml_type</c> from the GGUF specification (ggml <c>docs/gguf.md</c>), as a tensor info stores it (uint32).
/// Gaps are ids whose support ggml removed (Q4_2 = 4, Q4_3 = 5) or never wrote to files.
/// </summary>
internal enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    Q4_0_4_4 = 31,
    Q4_0_4_8 = 32,
    Q4_0_8_8 = 33,
    TQ1_0 = 34,
    TQ2_0 = 35,
    IQ4_NL_4_4 = 36,
    IQ4_NL_4_8 = 37,
    IQ4_NL_8_8 = 38,
    MXFP4 = 39,
}

/// <summary>Decodes one block of <see cref="GgmlTypeInfo.BlockSize"/> values (ggml's <c>dequantize_row_*</c> for k = one block).</summary>
internal delegate void GgmlBlockDecoder(ReadOnlySpan<byte> block, Span<float> values);

/// <summary>
/// What WeightScope knows of a ggml type: its name (as gguf-py's <c>GGMLQuantizationType</c> spells it), its block
/// geometry (gguf-py's <c>GGML_QUANT_SIZES</c>: values per block, bytes per block), and how its values are read —
/// a plain element type mapped zero-copy, a block decoder, or neither (listed, values refused).
/// </summary>
internal sealed record GgmlTypeInfo(GgmlType Type, int BlockSize, int TypeSize, DType? PlainDType, GgmlBlockDecoder? Decoder)
{
    /// <summary>gguf-py's name: <c>Q4_K</c>, <c>BF16</c>.</summary>
    public string Name => Type.ToString();

    /// <summary>The block type as WeightScope names it in <see cref="QuantizationInfo.BlockType"/>: lower case, <c>q4_k</c>.</summary>
    public string BlockTypeName => Name.ToLowerInvariant();

    /// <summary>True for types stored in blocks (everything but the plain element types).</summary>
    public bool IsBlockQuantized => PlainDType is null;

    /// <summary>Bytes <paramref name="elements"/> values take (a whole number of blocks; checked).</summary>
    public long ByteSize(long elements) => checked(elements / BlockSize * TypeSize);

    private const int QK_K = GgmlBlocks.QK_K;

    private static readonly Dictionary<GgmlType, GgmlTypeInfo> Table = new GgmlTypeInfo[]
    {
        // plain element types: mapped zero-copy
        new(GgmlType.F32, 1, 4, DType.Float32, null),
        new(GgmlType.F16, 1, 2, DType.Float16, null),
        new(GgmlType.BF16, 1, 2, DType.BFloat16, null),
        new(GgmlType.F64, 1, 8, DType.Float64, null),
        new(GgmlType.I8, 1, 1, DType.Int8, null),
        new(GgmlType.I16, 1, 2, DType.Int16, null),
        new(GgmlType.I32, 1, 4, DType.Int32, null),
        new(GgmlType.I64, 1, 8, DType.Int64, null),
        // 32-value blocks with one fp16 scale (ggml-common.h block_q4_0 …)
        new(GgmlType.Q4_0, GgmlBlocks.QK4_0, GgmlBlocks.Q4_0Bytes, null, GgmlDequantize.Q4_0),
        new(GgmlType.Q4_1, GgmlBlocks.QK4_1, GgmlBlocks.Q4_1Bytes, null, GgmlDequantize.Q4_1),
        new(GgmlType.Q5_0, GgmlBlocks.QK5_0, GgmlBlocks.Q5_0Bytes, null, GgmlDequantize.Q5_0),
        new(GgmlType.Q5_1, GgmlBlocks.QK5_1, GgmlBlocks.Q5_1Bytes, null, GgmlDequantize.Q5_1),
        new(GgmlType.Q8_0, GgmlBlocks.QK8_0, GgmlBlocks.Q8_0Bytes, null, GgmlDequantize.Q8_0),
        // 256-value super-blocks (k-quants)
        new(GgmlType.Q2_K, QK_K, GgmlBlocks.Q2_KBytes, null, GgmlDequantize.Q2_K),
        new(GgmlType.Q3_K, QK_K, GgmlBlocks.Q3_KBytes, null, GgmlDequantize.Q3_K),
        new(GgmlType.Q4_K, QK_K, GgmlBlocks.Q4_KBytes, null, GgmlDequantize.Q4_K),
        new(GgmlType.Q5_K, QK_K, GgmlBlocks.Q5_KBytes, null, GgmlDequantize.Q5_K),
        new(GgmlType.Q6_K, QK_K, GgmlBlocks.Q6_KBytes, null, GgmlDequantize.Q6_K),
        new(GgmlType.Q8_K, QK_K, GgmlBlocks.Q8_KBytes, null, GgmlDequantize.Q8_K),
        // listed with their geometry (so their bytes are bounds-checked) but not decoded: values are refused
        new(GgmlType.Q8_1, 32, 2 + 2 + 32, null, null),
        new(GgmlType.IQ2_XXS, QK_K, 2 + QK_K / 4, null, null),
        new(GgmlType.IQ2_XS, QK_K, 2 + QK_K / 4 + QK_K / 32, null, null),
        new(GgmlType.IQ3_XXS, QK_K, 2 + QK_K / 4 + QK_K / 8, null, null),
        new(GgmlType.IQ1_S, QK_K, 2 + QK_K / 8 + QK_K / 16, null, null),
        new(GgmlType.IQ4_NL, 32, 2 + 16, null, null),
        new(GgmlType.IQ3_S, QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4, null, null),
        new(GgmlType.IQ2_S, QK_K, 2 + QK_K / 4 + QK_K / 16, null, null),
        new(GgmlType.IQ4_XS, QK_K, 2 + 2 + QK_K / 2 + QK_K / 64, null, null),
        new(GgmlType.IQ1_M, QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32, null, null),
        new(GgmlType.Q4_0_4_4, 32, 2 + 16, null, null),
        new(GgmlType.Q4_0_4_8, 32, 2 + 16, null, null),
        new(GgmlType.Q4_0_8_8, 32, 2 + 16, null, null),
        new(GgmlType.TQ1_0, QK_K, 2 + 4 * 13, null, null),
        new(GgmlType.TQ2_0, QK_K, 2 + 64, null, null),
        new(GgmlType.IQ4_NL_4_4, 32, 2 + 16, null, null),
        new(GgmlType.IQ4_NL_4_8, 32, 2 + 16, null, null),
        new(GgmlType.IQ4_NL_8_8, 32, 2 + 16, null, null),
        new(GgmlType.MXFP4, 32, 1 + 16, null, null),
    }.ToDictionary(t => t.Type);

    /// <summary>The known type with this id, or null for an id this reader does not know.</summary>
    public static GgmlTypeInfo? Find(uint id) => Table.GetValueOrDefault((GgmlType)id);

    /// <summary>Names of the types whose values are read (for messages).</summary>
    public static string Readable => string.Join(", ", Table.Values.Where(t => t.PlainDType is not null || t.Decoder is not null).Select(t => t.Name));
}
