using WeightScope.Formats.TensorFlow.Bundle;
using WeightScope.IO;

namespace WeightScope.Formats.TensorFlow.SavedModel;

/// <summary>
/// A TensorFlow SavedModel folder (<c>saved_model.pb</c> + <c>variables/variables.index</c> + its data shards): its
/// weights are the variables checkpoint, read as a V2 checkpoint, completed by the graph (<see cref="SavedModelGraph"/>:
/// tags, signatures, roles from <c>trainable</c>) and, for tf.keras models, the layer tree from
/// <c>keras_metadata.pb</c> (<see cref="KerasSavedMetadata"/>, <see cref="SavedModelRoles"/>). A SavedModel without
/// <c>variables/</c> lists its graph's constants (<see cref="GraphConstants"/>).
/// </summary>
internal sealed class TfSavedModelFormat : IModelFormat
{
    /// <summary>Format name.</summary>
    public const string FormatName = "tf-savedmodel";

    /// <summary>How the producer of a tf.keras SavedModel starts (<c>tf.keras 2.12.0; variables: …</c>): its layers are Keras layers.</summary>
    public const string KerasProducer = "tf.keras";

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
        string graphPath = Path.Combine(dir, GraphFile);
        // saved_model.pbtxt (text format) is not parsed: its variables are read, without what the graph would add.
        var graph = File.Exists(graphPath) ? SavedModelGraph.Read(graphPath, options.Limits) : null;
        string indexPath = Path.Combine(dir, VariablesIndex);
        if (!File.Exists(indexPath))
        {
            if (graph is null)
                throw new UnsupportedModelFeatureException(FormatName, $"a text-format SavedModel ({TextGraphFile}) without '{VariablesIndex}'", null, TextGraphFile);
            return GraphConstants.Read(graph, graphPath, options.Limits);
        }

        var file = MappedFile.Open(indexPath);
        BundleContents? contents = null;
        try
        {
            ModelFile model;
            contents = BundleReader.ReadContents(file, indexPath, options.Limits, FormatName);
            if (contents is null)
            {
                model = BundleReader.Read(file, indexPath, options.Limits, FormatName); // a V1 variables table
            }
            else
            {
                var kerasPath = Path.Combine(dir, KerasSavedMetadata.FileName);
                string? kerasJson = File.Exists(kerasPath) ? KerasSavedMetadata.ReadRoot(kerasPath, options.Limits) : null;
                string kerasSource = kerasJson is not null ? KerasSavedMetadata.FileName : GraphFile;
                kerasJson ??= graph?.RootKerasMetadata();
                var kerasConfig = kerasJson is null ? null : KerasSavedMetadata.ModelConfig(kerasJson, kerasSource, options.Limits, contents.Metadata);
                graph?.AddMetadata(contents.Metadata);
                contents = SavedModelRoles.Apply(contents, graph, kerasConfig);
                if (graph?.TensorFlowVersion is { } v) contents = contents with { Format = contents.Format with { Version = $"TF {v}" } };
                if (kerasConfig is not null)
                    contents = contents with { Format = contents.Format with { Producer = $"{KerasProducer}{(contents.Metadata.GetValueOrDefault("keras_version") is string kv ? " " + kv : "")}; {contents.Format.Producer}" } };
                model = contents.ToModel();
                contents = null; // the model owns the shards now
                if (File.Exists(kerasPath)) model.AddSourceFile(kerasPath);
            }
            model.Own(file);
            foreach (var g in new[] { GraphFile, TextGraphFile })
                if (File.Exists(Path.Combine(dir, g))) model.AddSourceFile(Path.Combine(dir, g));
            return model;
        }
        catch (ModelFormatException e)
        {
            contents?.DisposeOwned();
            file.Dispose();
            e.FilePath ??= indexPath;
            throw;
        }
        catch
        {
            contents?.DisposeOwned();
            file.Dispose();
            throw;
        }
    }
}
