namespace WeightScope.Formats.SafeTensors;

/// <summary>Every safetensors error message, in one place, named after the reference implementation's error kinds.</summary>
internal static class SafeTensorsErrors
{
    public const string Format = "safetensors";
    private const long HeaderStart = 8;

    public static ModelFormatException HeaderTooSmall(long fileLength) =>
        new InvalidModelContentException(Format, $"file of {fileLength} bytes is shorter than the 8-byte header length field", 0);

    public static ModelFormatException HeaderTooLarge(ulong n, long max) =>
        new ReaderLimitException(Format, nameof(ReaderLimits.MaxHeaderBytes), n > long.MaxValue ? long.MaxValue : (long)n, max, 0);

    public static ModelFormatException InvalidHeaderLength(ulong n, long fileLength) =>
        new InvalidModelContentException(Format, $"header length {n} runs past the end of the file ({fileLength} bytes; at most {fileLength - 8} possible)", 0);

    public static ModelFormatException InvalidHeaderStart(byte first) =>
        new InvalidModelContentException(Format, $"header must be a JSON object starting with '{{', found byte 0x{first:X2}", HeaderStart);

    public static ModelFormatException InvalidHeader(string why, long? offset = null, Exception? inner = null) =>
        new InvalidModelContentException(Format, $"invalid JSON header: {why}", offset ?? HeaderStart, null, inner);

    public static ModelFormatException InvalidTensorInfo(string name, string why) =>
        new InvalidModelContentException(Format, $"tensor '{name}': {why}", HeaderStart, name);

    public static ModelFormatException UnsupportedDType(string name, string dtype) =>
        new UnsupportedModelFeatureException(Format, $"dtype '{dtype}' (tensor '{name}'); readable dtypes are {string.Join(", ", SafeTensorsDType.Known)}", HeaderStart, name);

    public static ModelFormatException InvalidOffset(string name, long begin, long end, long expected, long dataStart) =>
        new InvalidModelContentException(Format,
            $"tensor '{name}' has data_offsets [{begin}, {end}] but the previous tensor ends at {expected}: " +
            "tensors must cover the data section contiguously, without gaps or overlap", dataStart + Math.Max(0, begin), name);

    public static ModelFormatException SizeMismatch(string name, string dtype, string shape, long expected, long actual, long offset) =>
        new InvalidModelContentException(Format,
            $"tensor '{name}' {dtype}{shape} needs {expected} bytes but data_offsets span {actual}", offset, name);

    public static ModelFormatException IncompleteBuffer(long dataEnd, long dataLength, long dataStart) =>
        new InvalidModelContentException(Format,
            $"tensors cover {dataEnd} bytes of data but the file holds {dataLength} after the header: the file is truncated or has trailing bytes",
            dataStart + Math.Min(dataEnd, dataLength));

    public static ModelFormatException Overflow(string name) =>
        new InvalidModelContentException(Format, $"tensor '{name}': shape × element size overflows", HeaderStart, name);
}
