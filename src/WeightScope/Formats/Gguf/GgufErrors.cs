namespace WeightScope.Formats.Gguf;

/// <summary>Every GGUF error message, in one place: what was expected, what was found, where, and what to do.</summary>
internal static class GgufErrors
{
    public const string Format = "gguf";

    public static ModelFormatException BadMagic(ReadOnlySpan<byte> found) =>
        new InvalidModelContentException(Format, $"expected the magic \"GGUF\" (47 47 55 46), found {Convert.ToHexString(found)}", 0);

    public static ModelFormatException UnknownVersion(uint version) =>
        new UnsupportedModelFeatureException(Format,
            $"GGUF version {version} (this reader knows versions {GgufHeader.FirstVersion}–{GgufHeader.LastVersion}); " +
            "re-save the file with a gguf-py or llama.cpp that writes version 3", GgufHeader.VersionOffset);

    public static ModelFormatException BigEndian(uint version) =>
        new UnsupportedModelFeatureException(Format,
            $"big-endian GGUF (version {version} stored big-endian); convert it to little-endian with gguf-py's gguf_convert_endian.py",
            GgufHeader.VersionOffset);

    public static ModelFormatException HeaderTooLarge(long needed, long max, long offset) =>
        new ReaderLimitException(Format, nameof(ReaderLimits.MaxHeaderBytes), needed, max, offset);

    public static ModelFormatException Truncated(string what, long needed, long available, long offset) =>
        new InvalidModelContentException(Format,
            $"{what} needs {needed} bytes at offset {offset} but the file has only {available} left: it is truncated", offset);

    public static ModelFormatException CountBeyondFile(string what, ulong count, long minItemBytes, long remaining, long offset) =>
        new InvalidModelContentException(Format,
            $"{what} is {count}, but the {remaining} bytes left in the file hold at most {(minItemBytes > 0 ? remaining / minItemBytes : remaining)} " +
            $"such items (each takes at least {minItemBytes} bytes): the count is corrupt", offset);

    public static ModelFormatException DuplicateKey(string key, long offset) =>
        new InvalidModelContentException(Format, $"metadata key '{key}' appears twice; keys must be unique", offset, key);

    public static ModelFormatException UnknownValueType(string key, uint type, long offset) =>
        new InvalidModelContentException(Format,
            $"metadata '{key}' has value type {type}; the specification defines types 0 (uint8) to 12 (float64)", offset, key);

    public static ModelFormatException BadBool(string key, byte value, long offset) =>
        new InvalidModelContentException(Format, $"metadata '{key}' is a bool stored as {value}; a GGUF bool must be 0 or 1", offset, key);

    public static ModelFormatException BadAlignment(GgufValueType type, object? value, long offset) =>
        new InvalidModelContentException(Format,
            $"{GgufFile.AlignmentKey} must be a uint32 power of two (default {GgufFile.DefaultAlignment}), found {type} {value}",
            offset, GgufFile.AlignmentKey);

    public static ModelFormatException TooManyDimensions(string name, uint n, long offset) =>
        new InvalidModelContentException(Format,
            $"tensor '{name}' has {n} dimensions; GGUF tensors have at most {GgufParser.MaxDimensions} (GGML_MAX_DIMS)", offset, name);

    public static ModelFormatException BadDimension(string name, ulong d, long offset) =>
        new InvalidModelContentException(Format, $"tensor '{name}' has dimension {d}, beyond the int64 range ggml allows", offset, name);

    public static ModelFormatException ElementCountOverflow(string name, long offset) =>
        new InvalidModelContentException(Format, $"tensor '{name}': the product of its dimensions overflows int64", offset, name);

    public static ModelFormatException DuplicateTensor(string name, long offset) =>
        new InvalidModelContentException(Format, $"tensor name '{name}' appears twice; names must be unique", offset, name);

    public static ModelFormatException NotWholeBlocks(string name, string type, long ne0, int blockSize, long offset) =>
        new InvalidModelContentException(Format,
            $"tensor '{name}' is {type}, stored in blocks of {blockSize} values along ne[0], but ne[0] is {ne0}", offset, name);

    public static ModelFormatException Misaligned(string name, ulong dataOffset, long alignment, long offset) =>
        new InvalidModelContentException(Format,
            $"tensor '{name}' has data offset {dataOffset}, not a multiple of the alignment {alignment}", offset, name);

    public static ModelFormatException DataBeyondFile(string name, long start, long bytes, long fileLength, long offset) =>
        new InvalidModelContentException(Format,
            $"tensor '{name}' needs {bytes} bytes at file offset {start}, beyond the end of the file ({fileLength} bytes): the file is truncated or the offset corrupt",
            offset, name);

    public static ModelFormatException Overlap(string name, long start, string previous, long previousEnd, long offset) =>
        new InvalidModelContentException(Format,
            $"tensor '{name}' starts at file offset {start}, inside '{previous}' (which ends at {previousEnd}); tensor data must not overlap",
            offset, name);

    public static ModelFormatException ValuesNotReadable(string name, string typeName, long offset) =>
        new UnsupportedModelFeatureException(Format,
            $"values of tensor '{name}' of ggml type {typeName}; readable types are {GgmlTypeInfo.Readable}", offset, name);
}
