namespace WeightScope.Formats.NumPy;

/// <summary>
/// NumPy's <c>.npz</c> archive (<c>np.savez</c>, <c>np.savez_compressed</c>): a zip of <c>&lt;name&gt;.npy</c> members.
/// Detected as a zip with at least one <c>.npy</c> member, or an empty zip (what <c>np.savez(path)</c> writes with no arrays).
/// </summary>
internal sealed class NpzFormat : IModelFormat
{
    /// <summary>"npz".</summary>
    public const string FormatName = "npz";

    /// <inheritdoc />
    public string Name => FormatName;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".npz"];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context) =>
        context.Zip is { } zip
        && (zip.Entries.Count == 0 || zip.Entries.Any(e => e.Name.EndsWith(NpzReader.MemberSuffix, StringComparison.Ordinal)));

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options) => NpzReader.Read(context, options);
}
