using WeightScope.Formats.Hdf5;
using WeightScope.Formats.Hdf5.Groups;
using WeightScope.Formats.Hdf5.ObjectHeader;

namespace WeightScope.Formats.Keras;

/// <summary>
/// Keras 3 <c>.keras</c> archive (<c>model.save('m.keras')</c>, also tf-keras ≥ 2.13): a zip with
/// <c>metadata.json</c>, <c>config.json</c> and <c>model.weights.h5</c> (or <c>model.weights.npz</c>), plus
/// <c>assets/</c>. Detected by the weights member, or by <c>config.json</c> beside <c>metadata.json</c>; registered
/// among the zip formats (none of which has these names).
/// </summary>
internal sealed class Keras3ArchiveFormat : IModelFormat
{
    /// <summary>"keras".</summary>
    public const string FormatName = "keras";

    /// <summary>saving_lib's <c>_CONFIG_FILENAME</c>.</summary>
    public const string ConfigMember = "config.json";

    /// <summary>saving_lib's <c>_METADATA_FILENAME</c>.</summary>
    public const string MetadataMember = "metadata.json";

    /// <summary><c>_VARS_FNAME + ".h5"</c>.</summary>
    public const string WeightsMember = "model.weights.h5";

    /// <summary><c>_VARS_FNAME + ".npz"</c> (<c>weights_format="npz"</c>).</summary>
    public const string NpzMember = "model.weights.npz";

    /// <inheritdoc />
    public string Name => FormatName;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".keras"];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context) =>
        context.Zip is { } zip
        && (zip.Find(WeightsMember) is not null || zip.Find(NpzMember) is not null
            || (zip.Find(ConfigMember) is not null && zip.Find(MetadataMember) is not null));

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options) => Keras3Files.ReadArchive(context, options);
}

/// <summary>
/// Keras 3 <c>model.save_weights('w.weights.h5')</c> (also tf-keras ≥ 2.13): an HDF5 file whose root has the
/// <c>vars</c> group <c>H5IOStore</c> creates for the model itself and a <c>layers</c> group (tf-keras 2.13:
/// <c>_layer_checkpoint_dependencies</c>; tf-keras on Windows: root groups named <c>layers\dense</c>). Registered after
/// <c>keras-h5</c> and before <c>hdf5</c>.
/// </summary>
internal sealed class Keras3WeightsFormat : IModelFormat
{
    /// <summary>"keras-weights".</summary>
    public const string FormatName = "keras-weights";

    /// <inheritdoc />
    public string Name => FormatName;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".weights.h5"];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context)
    {
        if (context.Zip is not null || context.File is null) return false;
        if (Hdf5.Superblock.Superblock.FindSignature(context.Header.Span) < 0) return false;
        try
        {
            return IsKeras3Layout(context.File, context.Limits);
        }
        catch (Exception)
        {
            return false; // detection never throws: a damaged file falls through to the plain HDF5 reader, which reports it
        }
    }

    /// <summary>Reads only the root group's links: a <c>vars</c> group and a layer list.</summary>
    internal static bool IsKeras3Layout(IO.MappedFile mapped, ReaderLimits limits)
    {
        var sb = Hdf5.Superblock.Superblock.Read(mapped);
        var file = new Hdf5File(mapped, sb.BaseAddress, sb.OffsetSize, sb.LengthSize, limits);
        var root = Hdf5Object.Read(file, sb.RootObjectHeader, "");
        var links = root.SymbolTable is { } st ? SymbolTableNode.ReadGroup(file, st.BTree, st.Heap, st.At, "")
            : root.DenseLinks is { } dl ? DenseStorage.Links(file, dl.Heap, dl.NameIndex, dl.At, "")
            : root.Links;
        return links.Any(l => l.Name == Keras3Walk.VarsGroup)
            && links.Any(l => l.Name is Keras3Walk.LayersGroup or Keras3Walk.LegacyLayersGroup || l.Name.StartsWith(Keras3Walk.LayersGroup + "\\", StringComparison.Ordinal));
    }

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options) => Keras3Files.ReadWeights(context, options);
}
