namespace WeightScope.Formats.TorchSharp;

/// <summary>Every TorchSharp error message, in one place: what TorchSharp's reader expects, what the file has, where.</summary>
internal static class TorchSharpErrors
{
    public const string Format = "torchsharp";

    public static ModelFormatException Truncated(string what, long offset, long needed, long available) =>
        new InvalidModelContentException(Format,
            $"{what} needs {needed} bytes at offset {offset} but the file has {available} left: it is truncated", offset);

    public static ModelFormatException Leb128Overflow(string what, long offset) =>
        new InvalidModelContentException(Format,
            $"{what} at offset {offset} is a LEB128 number larger than a 64-bit signed integer (TorchSharp's Encode writes non-negative longs)", offset);

    public static ModelFormatException BadNameLength(long length, long offset, long max) =>
        new InvalidModelContentException(Format,
            $"entry name length {length} at offset {offset} is not a 7-bit-encoded string length of 1 to {max} bytes (BinaryWriter.Write(string))", offset);

    public static ModelFormatException BadName(long offset) =>
        new InvalidModelContentException(Format, $"entry name at offset {offset} is not UTF-8 text without control characters", offset);

    public static ModelFormatException UnknownScalarType(long code, long offset, string? entry) =>
        new UnsupportedModelFeatureException(Format,
            $"element type code {code} (TorchSharp's ScalarType knows 0–7, 9–11 and 15; quantized and sub-byte types are not saved by Tensor.Save)",
            offset, entry);

    public static ModelFormatException TooManyDimensions(long rank, long offset, string? entry) =>
        new InvalidModelContentException(Format, $"tensor rank {rank} at offset {offset} exceeds {TorchSharpRecords.MaxRank} dimensions", offset, entry);

    public static ModelFormatException SizeOverflow(long offset, string? entry) =>
        new InvalidModelContentException(Format, $"tensor shape at offset {offset} times its element size overflows a 64-bit byte count", offset, entry);

    public static ModelFormatException CountBeyondFile(long count, long offset, long remaining) =>
        new InvalidModelContentException(Format,
            $"entry count {count} at offset {offset} is more than the {remaining} bytes left could hold (each entry takes at least {TorchSharpRecords.MinEntryBytes})", offset);

    public static ModelFormatException DuplicateName(string name, long offset) =>
        new InvalidModelContentException(Format, $"entry name '{name}' at offset {offset} appears twice; a state dict's keys are unique", offset, name);

    public static ModelFormatException TrailingBytes(long end, long length) =>
        new InvalidModelContentException(Format,
            $"the entries end at offset {end} but the file has {length} bytes: {length - end} trailing bytes TorchSharp's loader never reads " +
            "(the file is not a TorchSharp state dict, or was appended to)", end);

    public static ModelFormatException UnknownOptimizer(string optimizer) =>
        new UnsupportedModelFeatureException(Format,
            $"optimizer state of '{optimizer}' (known: SGD, ASGD, Rprop, RMSProp, Adam, AdamW, NAdam, RAdam, Adamax, Adadelta, Adagrad)", 0);

    public static ModelFormatException BadBool(string what, byte value, long offset) =>
        new InvalidModelContentException(Format, $"{what} at offset {offset} is a bool byte of {value}; BinaryWriter writes 0 or 1", offset);
}
