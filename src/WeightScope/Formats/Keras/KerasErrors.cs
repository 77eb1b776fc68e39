namespace WeightScope.Formats.Keras;

/// <summary>Messages for Keras HDF5 files: what Keras expected, what the file has, and where.</summary>
internal static class KerasErrors
{
    public static InvalidModelContentException MissingWeight(string layer, string weightName, string datasetPath) =>
        new(KerasH5Format.FormatName,
            $"layer '{layer}' lists weight '{weightName}' in its weight_names attribute, but there is no numeric dataset '{datasetPath}'; " +
            "the file is incomplete or was edited after Keras wrote it (open it as plain HDF5 with h5py to inspect it)",
            null, datasetPath);

    public static InvalidModelContentException BadConfig(string what, string message) =>
        new(KerasH5Format.FormatName,
            $"the {what} attribute is not the JSON Keras writes ({message}); the weights are still listed by the HDF5 reader if the attribute is removed",
            null, what);
}
