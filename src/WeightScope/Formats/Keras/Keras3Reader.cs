using System.Text.Json;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Formats.Keras;

/// <summary>
/// Maps the plain HDF5 view of a Keras 3 weights file (<c>model.weights.h5</c> inside a <c>.keras</c>, or a
/// <c>.weights.h5</c>) to Keras's view: the layer groups are matched to the config's layers by re-running
/// <c>saving_lib</c>'s class-name walk (<see cref="Keras3Walk"/>), each layer's <c>vars/&lt;i&gt;</c> are named by the
/// class table (<see cref="Keras3LayerVariables"/>), listed in <c>model.weights</c> order, then the optimizer's
/// variables (<see cref="Keras3Optimizer"/>), then anything else (metrics, a model's own variables) under its h5 path.
/// </summary>
internal static class Keras3Reader
{
    /// <summary>Metadata key listing the layers whose variables keep their h5 names, and why.</summary>
    public const string UnmappedKey = "unmapped_layers";

    /// <summary>Metadata key saying why the optimizer's variables keep their h5 names.</summary>
    public const string OptimizerNoteKey = "optimizer_variables";

    private const string OptimizerGroup = "optimizer";

    /// <summary>Builds the Keras view. <paramref name="config"/> null: names come from the h5 paths alone.</summary>
    /// <exception cref="InvalidModelContentException">The config and the h5 groups disagree in a way Keras's loader refuses.</exception>
    public static ModelFile Map(ModelFile plain, ModelFormatInfo info, KerasLayer? config, JsonElement compileConfig,
        Dictionary<string, object?> metadata, IEnumerable<IDisposable> owned)
    {
        var state = new State(plain, info.Name);
        var root = new ModuleNode("", "", config?.ClassName);
        if (config is not null)
        {
            foreach (var (k, v) in KerasConfig.ScalarEntries(config.Config)) root.Attributes[k] = v;
            state.WalkModel(config, "", "", config.Trainable, root);
            state.CheckNothingLeftUnder();
        }
        else
        {
            state.WalkPaths("", "", root);
        }
        state.MapOptimizer(compileConfig, info.Version, metadata);
        state.AddRest();
        if (state.Unmapped.Count > 0) metadata[UnmappedKey] = state.Unmapped;
        return new ModelFile(info, new TensorCollection(state.Output), root, metadata, owned, nameSeparator: '/');
    }

    private sealed class State
    {
        private readonly Dictionary<string, TensorEntry> _byPath = new(StringComparer.Ordinal);
        private readonly List<string> _order = [];
        private readonly HashSet<string> _claimed = new(StringComparer.Ordinal);
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        private readonly List<string> _containers = [];
        private readonly List<Keras3Optimizer.Tracked> _trainable = [];
        private readonly List<TensorEntry> _extra = [];
        private readonly string _format;

        // Paths sorted ordinally, so the datasets below a group are one contiguous run found by binary search (every
        // lookup is O(log n + found), never a scan per layer), and each path's rank in h5 visit order.
        private readonly string[] _sorted;
        private readonly Dictionary<string, int> _rank = new(StringComparer.Ordinal);

        public State(ModelFile plain, string format)
        {
            _format = format;
            foreach (var t in plain.Tensors)
            {
                string path = Keras3Walk.Normalize(t.Name);
                if (_byPath.TryAdd(path, t))
                {
                    _rank[path] = _order.Count;
                    _order.Add(path);
                }
                else _extra.Add(t); // both "a\b" and "a/b" exist: the second is kept under its own name
            }
            _sorted = [.. _order];
            Array.Sort(_sorted, StringComparer.Ordinal);
        }

        public List<TensorEntry> Output { get; } = [];

        public List<object?> Unmapped { get; } = [];

        /// <summary>The dataset paths below <paramref name="path"/>, in h5 visit order.</summary>
        private List<string> Under(string path)
        {
            string prefix = path + "/";
            var found = new List<string>();
            for (int i = LowerBound(prefix); i < _sorted.Length && _sorted[i].StartsWith(prefix, StringComparison.Ordinal); i++) found.Add(_sorted[i]);
            found.Sort((a, b) => _rank[a].CompareTo(_rank[b]));
            return found;
        }

        private bool AnyUnder(string path)
        {
            string prefix = path + "/";
            int i = LowerBound(prefix);
            return i < _sorted.Length && _sorted[i].StartsWith(prefix, StringComparison.Ordinal);
        }

        private int LowerBound(string prefix)
        {
            int i = Array.BinarySearch(_sorted, prefix, StringComparer.Ordinal);
            return i >= 0 ? i : ~i;
        }

        private string Container(string modelPath)
        {
            string layers = Keras3Walk.Join(modelPath, Keras3Walk.LayersGroup);
            string legacy = Keras3Walk.Join(modelPath, Keras3Walk.LegacyLayersGroup);
            return !AnyUnder(layers) && AnyUnder(legacy) ? legacy : layers;
        }

        /// <summary>A Sequential/Functional config: its layer list against <c>&lt;path&gt;/layers/&lt;snake&gt;</c>.</summary>
        public void WalkModel(KerasLayer model, string h5Path, string namePrefix, bool trainable, ModuleNode node)
        {
            string container = Container(h5Path);
            _containers.Add(container);
            var used = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var layer in model.Layers)
            {
                string path = container + "/" + Keras3Walk.Dedup(used, Keras3Walk.ToSnakeCase(layer.ClassName));
                var child = new ModuleNode(layer.Name, node.Path.Length == 0 ? layer.Name : node.Path + "/" + layer.Name, layer.ClassName);
                foreach (var (k, v) in KerasConfig.ScalarEntries(layer.Config)) child.Attributes[k] = v;
                node.Children.Add(child);
                bool t = trainable && layer.Trainable;
                if (layer.IsModel) WalkModel(layer, path, namePrefix + layer.Name + "/", t, child);
                else WalkLayer(layer.ClassName, layer.Config, IsKerasOwn(layer), path, namePrefix + layer.Name, t, child);
            }
        }

        /// <summary>No config: layers from the h5 groups, classes from their snake_case names.</summary>
        public void WalkPaths(string h5Path, string namePrefix, ModuleNode node)
        {
            string container = Container(h5Path);
            var keys = Under(container).Select(p => p[(container.Length + 1)..].Split('/')[0]).Distinct(StringComparer.Ordinal).ToList();
            keys.Sort(Keras3Walk.NaturalCompare);
            foreach (string key in keys)
            {
                string path = container + "/" + key;
                string baseName = Keras3Walk.SplitSuffix(key).Base;
                bool isModel = AnyUnder(Keras3Walk.Join(path, Keras3Walk.LayersGroup));
                string? cls = isModel ? (baseName == "sequential" ? "Sequential" : baseName == "functional" ? "Functional" : null)
                    : Keras3LayerVariables.BySnakeName.GetValueOrDefault(baseName);
                var child = new ModuleNode(key, node.Path.Length == 0 ? key : node.Path + "/" + key, cls);
                node.Children.Add(child);
                if (isModel) WalkPaths(path, namePrefix + key + "/", child);
                else WalkLayer(cls, default, false, path, namePrefix + key, true, child);
            }
        }

        private void WalkLayer(string? cls, JsonElement config, bool kerasOwn, string path, string name, bool trainable, ModuleNode node)
        {
            var present = Under(path).Where(p => Keras3Walk.TryVar(p, out _, out _)).ToList();
            var slots = ChooseSlots(cls, config, present.Count, path, out string? reason);
            if (slots is { Count: > 0 } && present.Count == 0)
            {
                // Nothing saved for the layer: a model saved before it was built, or a layer shared with another model
                // that _save_state visited first (visited_saveables). Not an error here; said so.
                Unmapped.Add($"{name} ({cls}): no variables saved (the layer was not built, or is shared and saved elsewhere)");
                return;
            }
            if (slots is not null)
            {
                var found = new List<(Keras3Slot Slot, string Path, TensorEntry Entry)>();
                foreach (var slot in slots)
                {
                    string vpath = Keras3Walk.Join(Keras3Walk.Join(path, slot.Group), Keras3Walk.VarsGroup) + "/" + slot.Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    if (!_byPath.TryGetValue(vpath, out var entry))
                    {
                        // Keras's load_own_variables refuses a layer whose variable count differs; for its own classes so does this.
                        if (kerasOwn) throw Keras3Errors.MissingVariable(_format, name, cls!, slot.Name, vpath, slots.Count, present.Count);
                        reason = $"no dataset {vpath} for '{slot.Name}'";
                        break;
                    }
                    if (slot.Check is { } check && !check([.. entry.Shape]))
                    {
                        reason = $"'{slot.Name}' has shape ({string.Join(", ", entry.Shape)}), which its config does not imply";
                        break;
                    }
                    found.Add((slot, vpath, entry));
                }
                if (reason is null && present.Count != slots.Count)
                    reason = $"has {present.Count} variables, the table lists {slots.Count} ({Keras3Walk.Few(slots.Select(s => s.Name))})";
                if (reason is null)
                {
                    foreach (var (slot, vpath, entry) in found)
                    {
                        var role = slot.Trainable && trainable ? TensorRole.Parameter : TensorRole.Buffer;
                        var t = Add(vpath, entry, name + "/" + slot.Name, role);
                        (role == TensorRole.Parameter ? node.Parameters : node.Buffers)[slot.Name] = t;
                        if (role == TensorRole.Parameter) _trainable.Add(new(t.Name, [.. t.Shape]));
                    }
                    return;
                }
            }
            if (present.Count == 0) return;
            // The documented fallback: <layer>/<path below the layer> (vars/0, cell/vars/1…). Trainability is unknown,
            // so the role is Other — unless an enclosing config froze the layer, which makes every variable non-trainable.
            Unmapped.Add($"{name} ({cls ?? "?"}): {reason}; variables keep their h5 names below the layer");
            foreach (string vpath in present)
            {
                string key = vpath[(path.Length + 1)..];
                var t = Add(vpath, _byPath[vpath], name + "/" + key, trainable ? TensorRole.Other : TensorRole.Buffer);
                (trainable ? node.Parameters : node.Buffers)[key] = t;
            }
        }

        /// <summary>The table's variables for the layer, or null and why not (the fallback rule applies).</summary>
        private static IReadOnlyList<Keras3Slot>? ChooseSlots(string? cls, JsonElement config, int presentCount, string path, out string? reason)
        {
            reason = null;
            if (cls is null)
            {
                reason = config.ValueKind == JsonValueKind.Object ? "class not recorded"
                    : $"no config, and the h5 group '{path[(path.LastIndexOf('/') + 1)..]}' is the snake_case name of no class in the variable table";
                return null;
            }
            if (config.ValueKind == JsonValueKind.Object)
            {
                var slots = Keras3LayerVariables.Slots(cls, config) ?? Keras3LayerVariables.DenseLike(cls, config);
                if (slots is null) reason = $"class '{cls}' is not in the variable table";
                else if (IsQuantized(config)) (slots, reason) = (null, "quantized or LoRA layer (extra variables the table does not list)");
                return slots;
            }
            // No config: the optional variables (use_bias, center, scale) are whatever makes the count match.
            var all = Keras3LayerVariables.Slots(cls, default, assumeOptional: true);
            var required = Keras3LayerVariables.Slots(cls, default, assumeOptional: false);
            if (all?.Count == presentCount) return all;
            if (required?.Count == presentCount) return required;
            reason = all is null ? $"class '{cls}' is not in the variable table" : $"{presentCount} variables fit none of its variable lists";
            return null;
        }

        /// <summary>A variable group under a walked layer list that no config layer maps to: the config names fewer layers.</summary>
        public void CheckNothingLeftUnder()
        {
            foreach (string container in _containers)
            {
                var left = Under(container).Where(p => !_claimed.Contains(p) && Keras3Walk.TryVar(p, out _, out _)).ToList();
                if (left.Count > 0) throw Keras3Errors.UnmatchedGroups(_format, container, left);
            }
        }

        public void MapOptimizer(JsonElement compileConfig, string? version, Dictionary<string, object?> metadata)
        {
            var vars = new List<(int Index, string Path)>();
            foreach (string p in Under(OptimizerGroup))
                if (Keras3Walk.TryVar(p, out string g, out int i) && g == OptimizerGroup) vars.Add((i, p));
            if (vars.Count == 0) return;
            vars.Sort((a, b) => a.Index.CompareTo(b.Index));
            List<string>? names = null;
            string? note;
            if (vars.Select((v, i) => v.Index == i).All(b => b))
                names = Keras3Optimizer.Name([.. vars.Select(v => _byPath[v.Path])], _trainable, compileConfig, version, out note);
            else
                note = "optimizer variable indices are not 0…n-1; they keep their h5 names";
            if (note is not null) metadata[OptimizerNoteKey] = note;
            for (int i = 0; i < vars.Count; i++)
                Add(vars[i].Path, _byPath[vars[i].Path], names?[i] ?? vars[i].Path, TensorRole.OptimizerState);
        }

        /// <summary>Datasets neither the walk nor the optimizer names (metrics' totals and counts, a model's own
        /// variables): kept under their h5 path (separators normalised), role Other, so nothing in the file is hidden.</summary>
        public void AddRest()
        {
            foreach (string p in _order)
                if (!_claimed.Contains(p)) Add(p, _byPath[p], p, TensorRole.Other);
            foreach (var t in _extra) Output.Add(t.With(Unique(t.Name, "hdf5:" + t.Name), TensorRole.Other));
        }

        private TensorEntry Add(string path, TensorEntry entry, string name, TensorRole role)
        {
            _claimed.Add(path);
            var t = entry.With(Unique(name, "hdf5:" + path), role);
            Output.Add(t);
            return t;
        }

        private string Unique(string preferred, string fallback)
        {
            if (_names.Add(preferred)) return preferred;
            if (_names.Add(fallback)) return fallback;
            for (int i = 1; ; i++)
                if (_names.Add($"{fallback}#{i}")) return $"{fallback}#{i}";
        }
    }

    // Keras's own layers: module keras.* (Keras 3, tf-keras 2.13+) and no registered custom name.
    private static bool IsKerasOwn(KerasLayer layer) =>
        layer.RegisteredName is null && (layer.Module is null || layer.Module == "keras" || layer.Module.StartsWith("keras.", StringComparison.Ordinal));

    // Quantized dtype policies (int8/float8/int4) and LoRA add variables (kernel_scale, lora_kernel_a…) build() adds on top.
    private static bool IsQuantized(JsonElement config)
    {
        if (config.TryGetProperty("lora_rank", out var lora) && lora.ValueKind == JsonValueKind.Number) return true;
        if (!config.TryGetProperty("dtype", out var d)) return false;
        string text = d.ValueKind == JsonValueKind.String ? d.GetString()! : d.ValueKind == JsonValueKind.Object ? d.GetRawText() : "";
        return text.Contains("Quantized", StringComparison.Ordinal) || text.Contains("int8_from", StringComparison.Ordinal)
            || text.Contains("float8_from", StringComparison.Ordinal) || text.Contains("int4_from", StringComparison.Ordinal);
    }
}
