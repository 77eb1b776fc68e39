using WeightScope.Formats.TensorFlow.Bundle;
using WeightScope.IO;

namespace WeightScope.Formats.TensorFlow.SavedModel;

/// <summary>
/// A TensorFlow SavedModel folder (<c>saved_model.pb</c> + <c>variables/variables.index</c> + its data shards): its
/// weights are the variables checkpoint, read as a V2 checkpoint. The graph (<c>saved_model.pb</c>) is not read yet:
/// no module tree, no signatures, and a graph-only SavedModel (weights frozen into constants) is reported as not supported.
/// </summary>
internal sealed class TfSavedModelFormat : IModelFormat
{
    /// <summary>Format name.</summary>
    public const string FormatName = "tf-savedmodel";

    private const string GraphFile = "saved_model.pb";
    private const string TextGraphFile = "saved_model.pbtxt";
    private static readonly string VariablesIndex = Path.Combine("variables", "variables" + BundleReader.IndexSuffix);

    /// <inheritdoc />
    public string Name => FormatName;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context)
    {
        try
        {
            return context.IsDirectory && context.Path is { } dir
                   && (File.Exists(Path.Combine(dir, GraphFile)) || File.Exists(Path.Combine(dir, TextGraphFile)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        string dir = context.Path!;
        string indexPath = Path.Combine(dir, VariablesIndex);
        if (!File.Exists(indexPath))
            throw new UnsupportedModelFeatureException(FormatName,
                $"a SavedModel without '{VariablesIndex}' (its weights, if any, are constants inside the graph, which is not read yet)", null, GraphFile);
        var file = MappedFile.Open(indexPath);
        try
        {
            var model = BundleReader.Read(file, indexPath, options.Limits, FormatName);
            model.Own(file);
            foreach (var graph in new[] { GraphFile, TextGraphFile })
                if (File.Exists(Path.Combine(dir, graph))) model.AddSourceFile(Path.Combine(dir, graph));
            return model;
        }
        catch (ModelFormatException e)
        {
            file.Dispose();
            e.FilePath ??= indexPath;
            throw;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
