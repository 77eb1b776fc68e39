using TorchSharp;
using WeightScope.Analysis;
using WeightScope.Modules;
using WeightScope.Tensors;
using WeightScope.TorchSharp.Layout;

namespace WeightScope.TorchSharp;

/// <summary>
/// <c>load_state_dict</c> for any file: pairs the file's tensors with the module's <c>state_dict()</c> keys (the user's
/// rename rules and callback, then a prefix one side carries, then — for Keras models — layers in order), converts
/// layouts, checks shapes, and copies values converted to each parameter's dtype and device.
/// </summary>
internal static class WeightLoader
{
    // A file tensor, or a converted view of one, under the name it pairs by.
    internal sealed class Candidate(string key, SourceTensor values, KerasLayers.Layer? kerasLayer)
    {
        public string Key { get; set; } = key;
        public SourceTensor Values { get; } = values;
        /// <summary>The Keras layer the values come from, when the file is a Keras model.</summary>
        public KerasLayers.Layer? KerasLayer { get; } = kerasLayer;
        public bool SetAside { get; set; }
    }

    public static LoadResult Load(torch.nn.Module module, ModelFile file, LoadOptions options, string source)
    {
        var warnings = new List<string>();
        var targets = module.state_dict();
        var targetKeys = targets.Keys.ToList();
        bool keras = options.ConvertLayouts && LayoutNotes.IsKerasModel(file.Format);
        var candidates = Candidates(file, options, keras, warnings);

        // 1. The user's names: rename rules, then the callback.
        var rules = options.Rename.Select(RenameRule.Parse).ToList();
        var dropped = new List<Candidate>();
        foreach (var c in candidates)
        {
            string name = rules.Aggregate(c.Key, (n, r) => r.Apply(n));
            string? mapped = options.MapName is null ? name : options.MapName(name);
            if (mapped is null) dropped.Add(c);
            else c.Key = mapped;
        }
        candidates.RemoveAll(dropped.Contains);

        // 2. A prefix the file's names carry (module., model_state_dict.…) or the module's do.
        var targetSet = targetKeys.ToHashSet(StringComparer.Ordinal);
        StripFilePrefix(candidates, targetSet, warnings);
        var renamedTargets = TargetPrefix(candidates, targetKeys, warnings);

        // 3. Pair by name; Keras layers left over pair with the module's layers in order.
        var byKey = new Dictionary<string, Candidate>(StringComparer.Ordinal);
        foreach (var c in candidates.Where(c => !c.SetAside))
        {
            if (!byKey.TryAdd(c.Key, c))
                warnings.Add($"the file has two tensors named '{c.Key}' after renaming ('{byKey[c.Key].Values.SourceName}' and '{c.Values.SourceName}'); the first is used");
        }
        string TargetName(string key) => renamedTargets.GetValueOrDefault(key, key);
        if (keras) KerasPairing.Pair(candidates, byKey, targetKeys, TargetName, ModuleTypes(module), warnings);

        // 4. Check every pair; nothing is copied yet.
        // Target null: a tied key whose memory an earlier key writes.
        var loaded = new List<(LoadedTensor Info, SourceTensor Values, torch.Tensor? Target)>();
        var missing = new List<string>();
        var mismatches = new List<ShapeMismatch>();
        var used = new HashSet<Candidate>(ReferenceEqualityComparer.Instance);
        var writtenBy = new Dictionary<object, (string Key, SourceTensor Values)>();
        foreach (var key in targetKeys)
        {
            var target = targets[key];
            if (!byKey.TryGetValue(TargetName(key), out var c))
            {
                missing.Add(key);
                continue;
            }
            used.Add(c);
            var moduleShape = new Shape(target.shape);
            if (!c.Values.Shape.Equals(moduleShape))
            {
                mismatches.Add(new ShapeMismatch(key, c.Values.SourceName, c.Values.Shape, moduleShape, c.Values.Transform));
                continue;
            }
            // A tied Parameter under two keys is written once, from the first; the file's other tensor for it is not.
            var identity = LiveTensorStorage.IdentityOf(target);
            if (writtenBy.TryGetValue(identity, out var first) && !SameValues(first.Values, c.Values))
                warnings.Add($"{key} is tied to {first.Key} in the module, and the file holds different tensors for them: "
                    + $"'{first.Values.SourceName}' was loaded, '{c.Values.SourceName}' was not");
            bool firstWrite = writtenBy.TryAdd(identity, (key, c.Values));
            if (!TorchDTypes.IsExact(c.Values.DType, target.dtype))
                warnings.Add($"{key}: {c.Values.DType.Name()} values from '{c.Values.SourceName}' rounded to {TorchDTypes.Name(target.dtype)}");
            loaded.Add((new LoadedTensor(key, c.Values.SourceName, c.Values.DType, TorchDTypes.Name(target.dtype), c.Values.Transform), c.Values,
                firstWrite ? target : null));
        }
        ForgiveTiedAndCounters(missing, targets, loaded.Select(l => l.Info.Name).ToHashSet(StringComparer.Ordinal), keras, warnings);
        var unexpected = candidates.Where(c => !c.SetAside && !used.Contains(c)).Select(c => c.Values.SourceName).Distinct().ToList();

        var result = new LoadResult(source, loaded.Select(l => l.Info).ToList(), missing, unexpected, mismatches, warnings);
        if (options.Strict && !result.IsComplete) throw new WeightLoadException(TorchTypeNames.Of(module), result);
        // A tied tensor (GPT-2's lm_head.weight is wte.weight) is one Parameter under two keys: written once.
        foreach (var (_, values, target) in loaded)
            if (target is not null) ValueCopy.Copy(values, target);
        return result;
    }

    // Each module path's torch.nn type name (the root's path is empty).
    private static Dictionary<string, string> ModuleTypes(torch.nn.Module module)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal) { [""] = TorchTypeNames.Of(module) };
        foreach (var (path, m) in module.named_modules()) types[path] = TorchTypeNames.Of(m);
        return types;
    }

    // The same stored values: one view of one storage (a tied pair saved by torch.save), not merely equal names.
    private static bool SameValues(SourceTensor a, SourceTensor b) =>
        a.Blocks.Count == b.Blocks.Count && a.Blocks.Zip(b.Blocks).All(p => ReferenceEquals(p.First.Storage, p.Second.Storage)
            && p.First.StorageOffset == p.Second.StorageOffset && p.First.Shape.Equals(p.Second.Shape) && p.First.Strides.SequenceEqual(p.Second.Strides));

    private static List<Candidate> Candidates(ModelFile file, LoadOptions options, bool keras, List<string> warnings)
    {
        var list = new List<Candidate>();
        var covered = new HashSet<TensorEntry>(ReferenceEqualityComparer.Instance);
        if (keras)
        {
            foreach (var layer in KerasLayers.Convert(file, warnings))
            {
                foreach (var (local, values) in layer.Tensors) list.Add(new Candidate(layer.Path + "." + local, values, layer));
                foreach (var t in layer.Used) covered.Add(t);
            }
        }
        var onnx = options.ConvertLayouts && file.Format.Name == OnnxLayouts.FormatName ? OnnxLayouts.Transposed(file, warnings) : null;
        int optimizer = 0;
        foreach (var t in file.Tensors)
        {
            if (covered.Contains(t)) continue;
            if (t.Role == TensorRole.OptimizerState) { optimizer++; continue; }
            if (t.Role.IsOutsideStateDict()) continue;
            list.Add(new Candidate(t.Name, onnx?.GetValueOrDefault(t) ?? SourceTensor.Of(t), null));
        }
        if (optimizer > 0) warnings.Add($"{optimizer} optimizer-state tensor(s) in the file were left aside");
        return list;
    }

    private static void StripFilePrefix(List<Candidate> candidates, HashSet<string> targets, List<string> warnings)
    {
        int exact = candidates.Count(c => targets.Contains(c.Key));
        if (exact == targets.Count) return;
        var best = NamePairing.BestPrefix(candidates.Where(c => !targets.Contains(c.Key)).Select(c => c.Key), targets);
        if (best is not { } b || b.Pairs <= exact) return;
        if (b.Tie is { } tie)
        {
            warnings.Add($"the file's names pair with the module's under two prefixes, '{b.Prefix}' and '{tie}' ({b.Pairs} names each); "
                + $"say which with a rename rule, e.g. Rename = [\"s/^{System.Text.RegularExpressions.Regex.Escape(b.Prefix)}//\"]");
            return;
        }
        var keys = candidates.Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        int aside = 0;
        foreach (var c in candidates)
        {
            if (c.Key.StartsWith(b.Prefix, StringComparison.Ordinal))
            {
                var stripped = c.Key[b.Prefix.Length..];
                if (!keys.Contains(stripped) || !targets.Contains(c.Key)) c.Key = stripped;
            }
            else if (!targets.Contains(c.Key)) { c.SetAside = true; aside++; } // the checkpoint's other entries (optimizer, epoch…)
        }
        warnings.Add($"the file's names carry the prefix '{b.Prefix}', removed to pair them with the module's"
            + (aside > 0 ? $"; {aside} tensor(s) outside it were left aside" : ""));
    }

    // The module's names carry a prefix the file's lack (the model is wrapped, e.g. under "model."): module key → file name.
    private static Dictionary<string, string> TargetPrefix(List<Candidate> candidates, List<string> targetKeys, List<string> warnings)
    {
        var keys = candidates.Where(c => !c.SetAside).Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        int exact = targetKeys.Count(keys.Contains);
        if (exact == targetKeys.Count) return [];
        var best = NamePairing.BestPrefix(targetKeys.Where(k => !keys.Contains(k)), keys);
        if (best is not { } b || b.Pairs <= exact) return [];
        if (b.Tie is { } tie)
        {
            warnings.Add($"the module's names pair with the file's without either of two prefixes, '{b.Prefix}' and '{tie}' "
                + $"({b.Pairs} names each); say which with MapName");
            return [];
        }
        warnings.Add($"the module's names carry the prefix '{b.Prefix}' that the file's lack; paired without it");
        return targetKeys.Where(k => k.StartsWith(b.Prefix, StringComparison.Ordinal) && !keys.Contains(k))
            .ToDictionary(k => k, k => k[b.Prefix.Length..], StringComparer.Ordinal);
    }

    // A key tied to one that was loaded (lm_head.weight is wte.weight) has its values; a BatchNorm's num_batches_tracked
    // that the file lacks keeps its value. Neither is missing.
    private static void ForgiveTiedAndCounters(List<string> missing, Dictionary<string, torch.Tensor> targets, HashSet<string> loaded,
        bool keras, List<string> warnings)
    {
        if (missing.Count == 0) return;
        var loadedIdentities = loaded.Select(k => LiveTensorStorage.IdentityOf(targets[k])).ToHashSet();
        missing.RemoveAll(key =>
        {
            if (loadedIdentities.Contains(LiveTensorStorage.IdentityOf(targets[key])))
            {
                warnings.Add($"{key}: tied to a loaded tensor (the same memory), so it has the file's values");
                return true;
            }
            if (key.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            {
                // Keras has no counter, nor did torch before 0.4.1; torch's BatchNorm accepts such a state dict
                // (_load_from_state_dict's version check). The counter matters only to momentum=None.
                if (!keras) warnings.Add($"{key}: not in the file (saved before torch 0.4.1?); the module's value was kept");
                return true;
            }
            return false;
        });
    }
}
