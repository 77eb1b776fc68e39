namespace WeightScope.Formats.TfJs;

/// <summary>Every TensorFlow.js error message, in one place: what tfjs expects, what the file has, where, and what to do.</summary>
internal static class TfJsErrors
{
    public const string Format = "tfjs";

    public static ModelFormatException NotJson(string message, long? offset) =>
        new InvalidModelContentException(Format, $"model.json is not valid JSON ({message})", offset);

    public static ModelFormatException NotUtf8() =>
        new InvalidModelContentException(Format, "model.json is not valid UTF-8 text", 0);

    public static ModelFormatException BadManifest(string what, string? entry = null) =>
        new InvalidModelContentException(Format,
            $"weightsManifest: {what}; tfjs writes [{{\"paths\": [\"group1-shard1of1.bin\"], \"weights\": [{{\"name\", \"shape\", \"dtype\"}}]}}]",
            null, entry);

    public static ModelFormatException UnknownDType(string name, string dtype) =>
        new UnsupportedModelFeatureException(Format,
            $"weight dtype '{dtype}' (tfjs decodeWeights reads float32, int32, bool, complex64 and string)", null, name);

    public static ModelFormatException UnknownQuantization(string name, string dtype) =>
        new UnsupportedModelFeatureException(Format,
            $"quantization dtype '{dtype}' (tfjs knows uint8, uint16 and float16)", null, name);

    public static ModelFormatException BadQuantization(string name, string what) =>
        new InvalidModelContentException(Format, $"weight '{name}': {what}, as tfjs decodeWeights requires", null, name);

    public static ModelFormatException SizeOverflow(string name, string shape) =>
        new InvalidModelContentException(Format, $"weight '{name}' shape {shape} times its element size overflows a 64-bit byte count", null, name);

    public static ModelFormatException DuplicateName(string name) =>
        new InvalidModelContentException(Format, $"weight name '{name}' appears twice in weightsManifest; tfjs would keep only one", null, name);

    public static ModelFormatException PathRefused(string path, string why) =>
        new InvalidModelContentException(Format, $"weight file path '{path}' {why}; refused (weight files must lie in model.json's folder or below it; --allow-external-paths follows it for a trusted file)", null, path);

    public static ModelFormatException ShardMissing(string path) =>
        new InvalidModelContentException(Format,
            $"weight file '{path}' named in weightsManifest does not exist beside model.json; copy the shard files with model.json", null, path);

    public static ModelFormatException ShardsTooShort(int group, long needed, long available) =>
        new InvalidModelContentException(Format,
            $"weight group {group} needs {needed} bytes for the weights its manifest lists, but its shard files hold {available}: " +
            "a shard is truncated or the manifest belongs to other shards", null, $"group {group}");

    public static ModelFormatException ShardsTooLong(int group, long needed, long available) =>
        new InvalidModelContentException(Format,
            $"weight group {group}'s shard files hold {available} bytes but its weights take {needed}: tfjs's loaders would read the " +
            "following groups at shifted offsets; the manifest does not describe these shards", null, $"group {group}");

    public static ModelFormatException StringTooLong(string name, long offset, long length, long available) =>
        new InvalidModelContentException(Format,
            $"string weight '{name}': an element at group byte {offset} claims {length} bytes but only {available} remain in the group's shards", offset, name);

    public static ModelFormatException FromStream() =>
        new UnsupportedModelFeatureException(Format, "a model.json read from a stream (its weight files are files beside it); open the path instead");
}
