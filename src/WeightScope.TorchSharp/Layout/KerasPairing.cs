using System.Text.RegularExpressions;

namespace WeightScope.TorchSharp.Layout;

/// <summary>
/// Pairs Keras layers with a module's layers when their names differ (Keras's <c>dense</c>, <c>dense_1</c> against
/// <c>fc1</c>, <c>fc2</c>), as Keras's own <c>set_weights</c> pairs by position: layers of the same kind (a Dense with a
/// Linear, a BatchNormalization with a BatchNorm1d/2d, an LSTM with an LSTM…) in the order each side has them, and only
/// when each side has as many of that kind and each pair has the same tensors. Keras's automatic names
/// (<c>dense</c>, <c>dense_1</c>, <c>dense_10</c>) are ordered by their number, which is the order Keras created the
/// layers in, whatever order the file lists its groups in (a weights-only file has no config to give the model's order).
/// </summary>
internal static partial class KerasPairing
{
    [GeneratedRegex(@"^(.*?)(?:_(\d+))?$")]
    private static partial Regex AutoName();

    public static void Pair(List<WeightLoader.Candidate> candidates, Dictionary<string, WeightLoader.Candidate> byKey, List<string> targetKeys,
        Func<string, string> targetName, IReadOnlyDictionary<string, string> moduleTypes, List<string> warnings)
    {
        var keyed = byKey.Keys.ToHashSet(StringComparer.Ordinal);
        var pairedTargets = targetKeys.Where(k => keyed.Contains(targetName(k))).Select(targetName).ToHashSet(StringComparer.Ordinal);
        var kerasLayers = candidates.Where(c => c.KerasLayer is not null && !c.SetAside).GroupBy(c => c.KerasLayer!)
            .Where(g => g.All(c => !pairedTargets.Contains(c.Key))).Select(g => (Layer: g.Key, Tensors: g.ToList())).ToList();
        var moduleLayers = targetKeys.Where(k => !keyed.Contains(targetName(k)) && !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            .GroupBy(Parent).Select(g => (Path: g.Key, Type: moduleTypes.GetValueOrDefault(g.Key, ""), Keys: g.ToList())).ToList();
        if (kerasLayers.Count == 0 || moduleLayers.Count == 0) return;

        var pairs = new List<string>();
        foreach (var kind in kerasLayers.Select(l => l.Layer.TorchKind).Distinct())
        {
            var keras = Ordered(kerasLayers.Where(l => l.Layer.TorchKind == kind).ToList());
            var module = moduleLayers.Where(m => SameKind(kind, m.Type)).ToList();
            string Describe() => $"Keras {string.Join(", ", keras.Select(k => $"'{k.Layer.Path}'"))}; module {string.Join(", ", module.Select(m => $"'{m.Path}'"))}";
            if (keras.Count != module.Count)
            {
                warnings.Add($"{keras.Count} Keras {kind} layer(s) and {module.Count} module {kind} layer(s) did not pair by name, "
                    + $"nor in order, since their numbers differ ({Describe()}); name them alike or map them with Rename/MapName");
                continue;
            }
            var mismatch = Enumerable.Range(0, keras.Count).FirstOrDefault(i => !Locals(keras[i].Tensors.Select(c => c.Key)).SequenceEqual(Locals(module[i].Keys)), -1);
            if (mismatch >= 0)
            {
                warnings.Add($"Keras layer '{keras[mismatch].Layer.Path}' ({string.Join(", ", Locals(keras[mismatch].Tensors.Select(c => c.Key)))}) "
                    + $"does not have the tensors of module layer '{module[mismatch].Path}' ({string.Join(", ", Locals(module[mismatch].Keys))}), "
                    + $"so the {kind} layers were not paired in order ({Describe()})");
                continue;
            }
            for (int i = 0; i < keras.Count; i++)
            {
                foreach (var c in keras[i].Tensors)
                {
                    byKey.Remove(c.Key);
                    c.Key = targetName(module[i].Keys.First(k => Local(k) == Local(c.Key)));
                    byKey[c.Key] = c;
                }
                pairs.Add($"{keras[i].Layer.Path} → {module[i].Path}");
            }
        }
        if (pairs.Count > 0) warnings.Add("Keras layers paired with the module's in order: " + string.Join(", ", pairs));
    }

    private static string Parent(string key) => key.Contains('.') ? key[..key.LastIndexOf('.')] : "";

    private static string Local(string key) => key[(key.LastIndexOf('.') + 1)..];

    private static IEnumerable<string> Locals(IEnumerable<string> keys) => keys.Select(Local).Order(StringComparer.Ordinal);

    private static bool SameKind(string kerasKind, string moduleType) =>
        moduleType == kerasKind || (kerasKind == "BatchNorm" && moduleType.StartsWith("BatchNorm", StringComparison.Ordinal));

    // Keras's automatic names share one stem and count up (dense, dense_1, dense_2, dense_10): their number is the
    // creation order. Names chosen by hand keep the file's order.
    private static List<(KerasLayers.Layer Layer, List<WeightLoader.Candidate> Tensors)> Ordered(List<(KerasLayers.Layer Layer, List<WeightLoader.Candidate> Tensors)> layers)
    {
        var parsed = layers.Select(l => AutoName().Match(l.Layer.Path.Split('.')[^1])).ToList();
        if (parsed.Select(m => m.Groups[1].Value).Distinct().Count() != 1) return layers;
        // Numbers compared by length, then digits: no overflow however long the suffix.
        return [.. layers.Select((l, i) => (l, n: parsed[i].Groups[2].Success ? parsed[i].Groups[2].Value.TrimStart('0') : ""))
            .OrderBy(x => x.n.Length).ThenBy(x => x.n, StringComparer.Ordinal).Select(x => x.l)];
    }
}
