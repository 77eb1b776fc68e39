namespace WeightScope.Formats.Hdf5;

/// <summary>Message factory for the HDF5 reader: every error names the format, the file offset and the object path.</summary>
internal static class Hdf5Errors
{
    /// <summary>Corrupt or inconsistent content.</summary>
    public static InvalidModelContentException Invalid(string message, long offset, string? path = null) =>
        new(Hdf5Format.FormatName, message, offset, path);

    /// <summary>A feature of the specification this reader does not implement yet.</summary>
    public static UnsupportedModelFeatureException Unsupported(string feature, long offset, string? path = null) =>
        new(Hdf5Format.FormatName, feature, offset, path);

    /// <summary>An address points outside the file.</summary>
    public static InvalidModelContentException OutsideFile(string what, long address, long length, long fileLength, long at, string? path) =>
        Invalid($"{what} at address {address} (+{length} bytes) lies outside the file of {fileLength} bytes; the file is truncated or corrupt", at, path);
}
