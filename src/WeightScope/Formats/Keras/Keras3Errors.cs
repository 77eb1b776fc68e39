namespace WeightScope.Formats.Keras;

/// <summary>Messages for Keras 3 <c>.keras</c> archives and <c>.weights.h5</c> files: what Keras expects, what the file has, where.</summary>
internal static class Keras3Errors
{
    public static InvalidModelContentException MissingMember(string member, IEnumerable<string> members) =>
        new(Keras3ArchiveFormat.FormatName,
            $"the archive has no '{member}' member (Keras's load_model reads the model from it); members: {Keras3Walk.Few(members, 8)}. " +
            "Re-save the model with model.save('model.keras'), or open the weights member on its own after unzipping it",
            null, member);

    public static InvalidModelContentException BadJson(string format, string source, string message) =>
        new(format, $"{source} is not the JSON Keras writes ({message}); re-save the model, or remove the file to list the weights by their h5 paths", null, source);

    public static InvalidModelContentException MissingVariable(string format, string layer, string cls, string variable, string path, int expected, int found) =>
        new(format,
            $"layer '{layer}' ({cls}) has {expected} variables by its config, the file has {found}: no dataset '{path}' for '{variable}' " +
            "(Keras's load_own_variables refuses such a layer too); the file is incomplete or belongs to another model configuration",
            null, path);

    public static InvalidModelContentException UnmatchedGroups(string format, string container, IReadOnlyList<string> paths) =>
        new(format,
            $"the config names fewer layers than '{container}' holds: {paths.Count} variable dataset(s) match no layer of the config " +
            $"({Keras3Walk.Few(paths)}); the config belongs to another model, or the weights file to another config",
            null, paths[0]);

    public static UnsupportedModelFeatureException NpzWeights(long offset) =>
        new(Keras3ArchiveFormat.FormatName,
            "model.weights.npz (Keras's NpzIOStore saves each layer's variables as a pickled object array); re-save with the default weights_format='h5'",
            offset, Keras3ArchiveFormat.NpzMember);

    public static InvalidModelContentException InMember(InvalidModelContentException inner, long memberOffset) =>
        new(Keras3ArchiveFormat.FormatName, $"{Keras3ArchiveFormat.WeightsMember}: {inner.Detail}",
            inner.Offset is { } o ? memberOffset + o : null, Keras3ArchiveFormat.WeightsMember, inner);
}
