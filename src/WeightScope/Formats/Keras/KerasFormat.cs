using WeightScope.Formats.Hdf5;
using WeightScope.Formats.Hdf5.Attributes;
using WeightScope.Formats.Hdf5.Groups;
using WeightScope.Formats.Hdf5.ObjectHeader;

namespace WeightScope.Formats.Keras;

/// <summary>
/// Keras 1/2 legacy HDF5 (<c>model.save('m.h5')</c> and <c>model.save_weights('w.h5')</c>): an HDF5 file whose root
/// group has a <c>model_weights</c> group and a <c>keras_version</c> or <c>model_config</c> attribute (full model) or a <c>layer_names</c> attribute (weights only; also the
/// chunked <c>layer_names0</c>, <c>layer_names1</c>… Keras writes for long lists). Must be registered before
/// <see cref="Hdf5Format"/> so other HDF5 files stay plain HDF5.
/// </summary>
internal sealed class KerasH5Format : IModelFormat
{
    /// <summary>"keras-h5".</summary>
    public const string FormatName = "keras-h5";

    /// <summary>The group <c>model.save</c> puts the layer groups under.</summary>
    internal const string ModelWeightsGroup = "model_weights";

    /// <summary>The attribute listing the layers in <c>model.layers</c> order.</summary>
    internal const string LayerNamesAttribute = "layer_names";

    /// <inheritdoc />
    public string Name => FormatName;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".h5", ".hdf5"];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context)
    {
        if (context.Zip is not null || context.File is null) return false;
        if (Hdf5.Superblock.Superblock.FindSignature(context.Header.Span) < 0) return false;
        try
        {
            // Only the root object header and its link list are read: cheap, and enough to tell Keras from plain HDF5.
            var sb = Hdf5.Superblock.Superblock.Read(context.File);
            var file = new Hdf5File(context.File, sb.BaseAddress, sb.OffsetSize, sb.LengthSize, context.Limits);
            var root = Hdf5Object.Read(file, sb.RootObjectHeader, "");
            var attributes = root.DenseAttributes is { } da
                ? [.. root.Attributes, .. DenseStorage.Attributes(file, da.Heap, da.NameIndex, da.At, "")]
                : root.Attributes;
            if (attributes.Any(a => a.Name == LayerNamesAttribute || a.Name == LayerNamesAttribute + "0")) return true;
            var links = root.SymbolTable is { } st ? SymbolTableNode.ReadGroup(file, st.BTree, st.Heap, st.At, "")
                : root.DenseLinks is { } dl ? DenseStorage.Links(file, dl.Heap, dl.NameIndex, dl.At, "")
                : root.Links;
            // model.save always writes keras_version and model_config beside model_weights; requiring one of them keeps
            // an unrelated HDF5 file that merely has a "model_weights" group plain.
            return links.Any(l => l.Name == ModelWeightsGroup) && attributes.Any(a => a.Name is "keras_version" or "model_config");
        }
        catch (Exception)
        {
            return false; // detection never throws: a damaged file falls through to the plain HDF5 reader, which reports it
        }
    }

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options) => KerasH5Reader.Read(context, options);
}
