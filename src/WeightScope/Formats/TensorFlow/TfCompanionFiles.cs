using System.Text.RegularExpressions;
using WeightScope.Formats.TensorFlow.Bundle;

namespace WeightScope.Formats.TensorFlow;

/// <summary>
/// Files that are part of a TensorFlow model but are not where its weights are listed. Opening one opens the model it
/// belongs to, as a user pointing at any file of a checkpoint or SavedModel means: <c>saved_model.pb</c>,
/// <c>keras_metadata.pb</c> and <c>fingerprint.pb</c> open their SavedModel folder; a data shard
/// <c>X.data-00000-of-00001</c> and a meta graph <c>X.meta</c> open the checkpoint <c>X.index</c> (or the V1 checkpoint
/// <c>X</c> / <c>X-00000-of-00001</c>); a <c>checkpoint</c>
/// state file opens its folder.
/// </summary>
internal static partial class TfCompanionFiles
{
    private static readonly string[] SavedModelFiles = ["saved_model.pb", "keras_metadata.pb", "fingerprint.pb"];

    [GeneratedRegex(@"^(?<prefix>.+)\.data-\d{5}-of-\d{5}$", RegexOptions.CultureInvariant)]
    private static partial Regex DataShard();

    /// <summary>The path to open instead of <paramref name="path"/> (an existing file), or null to open it as it is.</summary>
    public static string? Redirect(string path)
    {
        string full = Path.GetFullPath(path);
        string name = Path.GetFileName(full);
        string dir = Path.GetDirectoryName(full)!;
        if (SavedModelFiles.Contains(name, StringComparer.Ordinal) && File.Exists(Path.Combine(dir, "saved_model.pb"))) return dir;
        if (name == TfCheckpointFormat.StateFileName && new FileInfo(full).Length < 1 << 20
            && TfCheckpointFormat.ReadStatePath(File.ReadAllText(full)) is not null) return dir;
        // (The plain test first: the generated regex's first use costs milliseconds, paid by every file opened.)
        if (name.Contains(".data-", StringComparison.Ordinal) && DataShard().Match(name) is { Success: true } m && File.Exists(Path.Combine(dir, m.Groups["prefix"].Value + BundleReader.IndexSuffix)))
            return Path.Combine(dir, m.Groups["prefix"].Value + BundleReader.IndexSuffix);
        if (name.EndsWith(MetaSuffix, StringComparison.Ordinal)) return CheckpointOfMeta(full[..^MetaSuffix.Length]);
        return null;
    }

    // X.meta belongs to the V2 checkpoint X.index, or to a V1 checkpoint: the file X, or its shards X-00000-of-00001.
    private static string? CheckpointOfMeta(string prefix)
    {
        if (File.Exists(prefix + BundleReader.IndexSuffix)) return prefix + BundleReader.IndexSuffix;
        if (File.Exists(prefix)) return prefix;
        var dir = Path.GetDirectoryName(prefix)!;
        var shards = Directory.EnumerateFiles(dir, Path.GetFileName(prefix) + "-*-of-*")
            .Where(f => V1Shard().IsMatch(Path.GetFileName(f)[Path.GetFileName(prefix).Length..])).ToList();
        return shards.Count == 1 ? shards[0] : null;
    }

    [GeneratedRegex(@"^-\d{5}-of-\d{5}$", RegexOptions.CultureInvariant)]
    private static partial Regex V1Shard();

    /// <summary>The suffix of the meta graph a TF1 <c>Saver</c> writes beside each checkpoint (<c>model.ckpt-100.meta</c>).</summary>
    public const string MetaSuffix = ".meta";

    /// <summary>The meta graph beside a checkpoint index (<c>X.meta</c> for <c>X.index</c>), when there is one.</summary>
    public static string? MetaGraphBeside(string? indexPath)
    {
        if (indexPath is null || !indexPath.EndsWith(BundleReader.IndexSuffix, StringComparison.Ordinal)) return null;
        string meta = indexPath[..^BundleReader.IndexSuffix.Length] + MetaSuffix;
        return File.Exists(meta) ? meta : null;
    }
}
