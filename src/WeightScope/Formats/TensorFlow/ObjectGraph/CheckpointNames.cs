using WeightScope.Formats.TensorFlow.Bundle;
using WeightScope.Formats.TensorFlow.Proto;
using WeightScope.Tensors;

namespace WeightScope.Formats.TensorFlow.ObjectGraph;

/// <summary>
/// Readable names for the tensors of a TF2 object-based checkpoint. Its keys spell the path through the object graph
/// (<c>layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE</c>); the <c>_CHECKPOINTABLE_OBJECT_GRAPH</c> entry (a
/// serialized <c>TrackableObjectGraph</c>) also records each value's <c>full_name</c>, the variable's own name
/// (<c>dense/kernel</c>, <c>Adam/m/dense/kernel</c>), which is what Keras and <c>tf.Variable.name</c> show.
/// </summary>
/// <remarks>
/// Rule: a tensor is named by its <c>full_name</c> when that is non-empty and no other tensor has the same one (two
/// Keras metrics both own a <c>total</c> and a <c>count</c>; unnamed <c>tf.Variable</c>s are all <c>Variable</c>).
/// Otherwise by its object path (<see cref="ObjectKeys.ReadablePath"/>), and failing that by its key. Every renamed
/// tensor's checkpoint key is kept in the metadata entry <see cref="KeysMetadata"/> (name → key), so
/// <c>tf.train.load_variable(path, key)</c> stays one lookup away.
/// </remarks>
internal static class CheckpointNames
{
    /// <summary>Metadata entry mapping each renamed tensor to its checkpoint key.</summary>
    public const string KeysMetadata = "checkpoint_keys";

    /// <summary>The object graph stored in the checkpoint; null when there is none (TF1 <c>Saver</c> checkpoints).</summary>
    public static TrackableObjectGraph? ReadGraph(IReadOnlyDictionary<string, object?> metadata)
    {
        if (!metadata.TryGetValue(TfKeys.ObjectGraphKey, out var value) || value is not byte[] bytes) return null;
        return BundleIndex.Parse(TrackableObjectGraph.Parser, bytes, "object graph", TfKeys.ObjectGraphKey, 0);
    }

    /// <summary><c>full_name</c> by checkpoint key, for every attribute the graph lists with one.</summary>
    public static Dictionary<string, string> FullNames(TrackableObjectGraph graph)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
            foreach (var a in node.Attributes)
                if (a.CheckpointKey.Length > 0 && a.FullName.Length > 0) names.TryAdd(a.CheckpointKey, a.FullName);
        return names;
    }

    /// <summary>
    /// Renames <paramref name="tensors"/> (named by their keys) by the rule above, using <paramref name="preferred"/>
    /// (key → preferred name), and records the keys in <paramref name="metadata"/>. Tensors whose key is not
    /// object-based keep it.
    /// </summary>
    public static List<TensorEntry> Rename(List<TensorEntry> tensors, IReadOnlyDictionary<string, string> preferred, Dictionary<string, object?> metadata)
    {
        var candidates = tensors.Select(t => preferred.GetValueOrDefault(t.Name) ?? ObjectKeys.ReadablePath(t.Name) ?? t.Name).ToList();
        var counts = candidates.GroupBy(c => c, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        for (int i = 0; i < candidates.Count; i++)
            if (counts[candidates[i]] > 1) candidates[i] = ObjectKeys.ReadablePath(tensors[i].Name) ?? tensors[i].Name;

        // A path may still meet another tensor's full name; those keep their keys, which are unique.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var clash = candidates.Where(c => !seen.Add(c)).ToHashSet(StringComparer.Ordinal);
        var keys = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        var result = new List<TensorEntry>(tensors.Count);
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            string name = clash.Contains(candidates[i]) ? t.Name : candidates[i];
            if (name != t.Name) keys[name] = t.Name;
            result.Add(name == t.Name ? t : t.With(name: name));
        }
        if (keys.Count > 0) metadata[KeysMetadata] = keys;
        return result;
    }
}
