namespace WeightScope.Formats.Hdf5;

/// <summary>
/// HDF5 (h5py, Keras 1/2 <c>.h5</c>, Keras 3 <c>.weights.h5</c>): every numeric dataset becomes a tensor named by its
/// path, every attribute becomes metadata. Detected by the signature <c>\x89HDF\r\n\x1a\n</c> at 0, 512, 1024 or 2048.
/// </summary>
internal sealed class Hdf5Format : IModelFormat
{
    /// <summary>"hdf5".</summary>
    public const string FormatName = "hdf5";

    /// <inheritdoc />
    public string Name => FormatName;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".h5", ".hdf5", ".he5", ".weights.h5"];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context) =>
        context.Zip is null && Superblock.Superblock.FindSignature(context.Header.Span) >= 0;

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options) => Hdf5Reader.Read(context, options);
}
