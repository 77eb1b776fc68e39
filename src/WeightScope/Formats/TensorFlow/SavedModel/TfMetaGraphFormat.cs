using WeightScope.IO;

namespace WeightScope.Formats.TensorFlow.SavedModel;

/// <summary>
/// A bare meta graph (<c>X.meta</c>, <c>tf.train.export_meta_graph</c>; written by every TF1 <c>Saver.save</c>) with no
/// checkpoint beside it (a <c>X.meta</c> next to <c>X.index</c> opens that checkpoint, see <see cref="TfCompanionFiles"/>).
/// Its weights, if any, are the graph's <c>Const</c> nodes (<see cref="GraphConstants"/>). Detected by the name and a
/// first protobuf tag of <c>meta_info_def</c> (0x0a) or <c>graph_def</c> (0x12).
/// </summary>
internal sealed class TfMetaGraphFormat : IModelFormat
{
    /// <summary>Format name.</summary>
    public const string FormatName = "tf-metagraph";

    /// <inheritdoc />
    public string Name => FormatName;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [TfCompanionFiles.MetaSuffix];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context) =>
        !context.IsDirectory && context.Zip is null && context.Path is { } path && File.Exists(path)
        && path.EndsWith(TfCompanionFiles.MetaSuffix, StringComparison.Ordinal)
        && context.Header.Length > 0 && context.Header.Span[0] is 0x0a or 0x12;

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        string path = context.Path!;
        var graph = SavedModelGraph.ReadMetaGraph(path, FormatName, options.Limits);
        return GraphConstants.Read(graph, path, options.Limits, FormatName);
    }
}
