using WeightScope.Formats.TensorFlow.Bundle;
using WeightScope.Formats.TensorFlow.SavedModel;
using WeightScope.Formats.TensorFlow.Table;
using WeightScope.IO;

namespace WeightScope.Formats.TensorFlow;

/// <summary>
/// TensorFlow checkpoints: a V2 tensor bundle (<c>X.index</c>, a leveldb-style table of <c>BundleEntryProto</c>s, plus
/// <c>X.data-NNNNN-of-NNNNN</c> shards), or a V1 checkpoint (one table of SavedTensorSlices). Detected by the table
/// magic in the last 8 bytes; opened from the index, from a folder holding one checkpoint (following its
/// <c>checkpoint</c> state file), or from the prefix (see <see cref="ModelFormats"/>).
/// </summary>
internal sealed class TfCheckpointFormat : IModelFormat
{
    /// <summary>The state file <c>tf.train.CheckpointManager</c> / <c>Saver</c> write beside checkpoints.</summary>
    public const string StateFileName = "checkpoint";

    /// <inheritdoc />
    public string Name => TfCheckpointErrors.Format;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [BundleReader.IndexSuffix];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context)
    {
        try
        {
            if (context.IsDirectory)
                return context.Path is { } dir
                       && (File.Exists(Path.Combine(dir, StateFileName)) || Directory.EnumerateFiles(dir, "*" + BundleReader.IndexSuffix).Any());
            return context.File is { } file && context.Zip is null && SsTable.HasFooterMagic(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        if (!context.IsDirectory) return Read(context.File!, context.Path, options.Limits);

        string indexPath = FindInFolder(context.Path!);
        var file = MappedFile.Open(indexPath);
        try
        {
            var model = Read(file, indexPath, options.Limits);
            model.Own(file);
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

    /// <summary>
    /// A checkpoint; a TF1 <c>Saver</c> checkpoint <c>X.index</c> with its meta graph <c>X.meta</c> beside it takes its
    /// roles from the graph's <c>trainable_variables</c> collection, as a SavedModel's variables do.
    /// </summary>
    private static ModelFile Read(MappedFile file, string? indexPath, ReaderLimits limits)
    {
        var contents = BundleReader.ReadContents(file, indexPath, limits, TfCheckpointErrors.Format);
        if (contents is null) return BundleReader.Read(file, indexPath, limits); // V1: one table, read whole
        try
        {
            if (TfCompanionFiles.MetaGraphBeside(indexPath) is { } meta)
            {
                var graph = SavedModelGraph.ReadMetaGraph(meta, TfCheckpointErrors.Format, limits);
                contents = SavedModelRoles.Apply(contents, graph, null);
                contents.SourceFiles.Add(meta);
            }
            return contents.ToModel();
        }
        catch
        {
            contents.DisposeOwned();
            throw;
        }
    }

    /// <summary>
    /// The checkpoint a folder holds: the one its <c>checkpoint</c> state file names (<c>model_checkpoint_path</c>,
    /// followed only inside the folder: an absolute or escaping path falls back to its file name here), else the only
    /// <c>*.index</c> file.
    /// </summary>
    internal static string FindInFolder(string dir)
    {
        string full = Path.GetFullPath(dir);
        string state = Path.Combine(full, StateFileName);
        if (File.Exists(state) && new FileInfo(state).Length <= MaxStateFileBytes && ReadStatePath(File.ReadAllText(state)) is { } target)
        {
            foreach (var candidate in new[] { Path.GetFullPath(Path.Combine(full, target)), Path.Combine(full, Path.GetFileName(target)) })
            {
                if (!IsInside(candidate, full)) continue;
                if (File.Exists(candidate + BundleReader.IndexSuffix)) return candidate + BundleReader.IndexSuffix;
                if (File.Exists(candidate)) return candidate; // a V1 checkpoint is one file named by the prefix itself
            }
            throw TfCheckpointErrors.StatePointsNowhere(full, target);
        }
        var indexes = Directory.EnumerateFiles(full, "*" + BundleReader.IndexSuffix).Order(StringComparer.Ordinal).ToList();
        return indexes.Count switch
        {
            1 => indexes[0],
            0 => throw TfCheckpointErrors.NoCheckpointInFolder(full),
            _ => throw TfCheckpointErrors.SeveralCheckpoints(full, indexes),
        };
    }

    // A state file is a few lines of text proto; anything larger is not one.
    private const long MaxStateFileBytes = 1 << 20;

    private const string StatePathField = "model_checkpoint_path:";

    /// <summary>The <c>model_checkpoint_path</c> of a <c>CheckpointState</c> text proto, unescaped; null when absent.</summary>
    internal static string? ReadStatePath(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith(StatePathField, StringComparison.Ordinal)) continue;
            var value = line[StatePathField.Length..].Trim();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"') value = value[1..^1];
            value = value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
            return value.Length == 0 ? null : value;
        }
        return null;
    }

    private static bool IsInside(string path, string dir) =>
        Path.GetDirectoryName(Path.GetFullPath(path)) is { } parent
        && string.Equals(parent.TrimEnd(Path.DirectorySeparatorChar), dir.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal);
}
