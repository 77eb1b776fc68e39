namespace WeightScope.Formats.NumPy;

/// <summary>
/// NumPy's <c>.npy</c> file (<c>np.save</c>): the magic <c>\x93NUMPY</c>, a Python-literal header, one array's raw data.
/// Read as one tensor named after the file's stem.
/// </summary>
internal sealed class NpyFormat : IModelFormat
{
    /// <summary>"npy".</summary>
    public const string FormatName = "npy";

    /// <inheritdoc />
    public string Name => FormatName;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".npy"];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context) =>
        context.Zip is null && NpyPrelude.StartsWithMagic(context.Header.Span);

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options) => NpyReader.Read(context, options);
}
