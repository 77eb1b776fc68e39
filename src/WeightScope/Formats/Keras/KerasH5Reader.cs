using System.Text;
using WeightScope.Formats.Hdf5;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Formats.Keras;

/// <summary>
/// Maps a Keras 1/2 HDF5 file to the uniform model, following Keras's <c>legacy/saving/hdf5_format.py</c>
/// (<c>load_weights_from_hdf5_group</c>): the HDF5 reader walks the file once, then the tensors are re-listed as Keras
/// lists them — for each layer in <c>layer_names</c> order, its <c>weight_names</c> in order (the dataset at
/// <c>&lt;group&gt;/&lt;layer&gt;/&lt;weight_name&gt;</c>), which is <c>model.get_weights()</c> order — followed by
/// <c>optimizer_weights</c> (role OptimizerState) and any dataset neither list names (kept under its HDF5 path).
/// </summary>
internal static class KerasH5Reader
{
    private const string OptimizerWeightsGroup = "optimizer_weights";
    private const string WeightNamesAttribute = "weight_names";
    private const string TopLevelWeightsGroup = "top_level_model_weights";

    public static ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        // The plain HDF5 view owns nothing the registry does not already own (the mapped file), so it is not disposed.
        var plain = Hdf5Reader.Read(context, options);
        var meta = plain.Metadata;
        string group = LoadList(meta, KerasH5Format.ModelWeightsGroup, KerasH5Format.LayerNamesAttribute) is not null ? KerasH5Format.ModelWeightsGroup : "";
        var layerNames = LoadList(meta, group, KerasH5Format.LayerNamesAttribute) ?? [];
        var config = meta.TryGetValue("model_config", out var mc) && AsString(mc) is { } json ? ParseConfig(json, options.Limits) : null;
        var configLayers = config?.Layers.ToDictionary(l => l.Name, StringComparer.Ordinal) ?? [];

        var tensors = new List<TensorEntry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var root = new ModuleNode("", "", config?.ClassName);
        if (config is not null) AddAttributes(root, config);
        var nodes = new Dictionary<string, ModuleNode>(StringComparer.Ordinal);
        foreach (var layer in config?.Layers ?? []) nodes[layer.Name] = AddNode(root, layer, "");

        foreach (string layer in layerNames)
        {
            string layerPath = Join(group, layer);
            configLayers.TryGetValue(layer, out var layerConfig);
            if (!nodes.TryGetValue(layer, out var node))
            {
                node = new ModuleNode(layer, layer, layerConfig?.ClassName);
                root.Children.Add(node);
                nodes[layer] = node;
            }
            foreach (string weightName in LoadList(meta, layerPath, WeightNamesAttribute) ?? [])
            {
                string datasetPath = layerPath + "/" + weightName;
                if (!plain.Tensors.TryGet(datasetPath, out var dataset)) throw KerasErrors.MissingWeight(layer, weightName, datasetPath);
                used.Add(datasetPath);
                string shortName = ShortName(layer, weightName);
                var (owner, key, trainable) = Owner(node, layerConfig, shortName);
                var role = trainable && !IsMovingStatistic(key) ? TensorRole.Parameter : TensorRole.Buffer;
                var entry = dataset.With(Unique(names, weightName, layer + "/" + weightName), role);
                tensors.Add(entry);
                (role == TensorRole.Parameter ? owner.Parameters : owner.Buffers)[key] = entry;
            }
        }

        // tf.keras ≥ 2.5 also saves weights the model owns directly (not through a layer) in this group; they load last.
        string topLevel = Join(group, TopLevelWeightsGroup);
        foreach (string weightName in LoadList(meta, topLevel, WeightNamesAttribute) ?? [])
        {
            string datasetPath = topLevel + "/" + weightName;
            if (!plain.Tensors.TryGet(datasetPath, out var dataset)) throw KerasErrors.MissingWeight(TopLevelWeightsGroup, weightName, datasetPath);
            used.Add(datasetPath);
            var entry = dataset.With(Unique(names, weightName, TopLevelWeightsGroup + "/" + weightName), IsMovingStatistic(ShortName("", weightName)) ? TensorRole.Buffer : TensorRole.Parameter);
            tensors.Add(entry);
            (entry.Role == TensorRole.Parameter ? root.Parameters : root.Buffers)[ShortName("", weightName)] = entry;
        }

        foreach (string weightName in LoadList(meta, OptimizerWeightsGroup, WeightNamesAttribute) ?? [])
        {
            string datasetPath = OptimizerWeightsGroup + "/" + weightName;
            if (!plain.Tensors.TryGet(datasetPath, out var dataset)) throw KerasErrors.MissingWeight(OptimizerWeightsGroup, weightName, datasetPath);
            used.Add(datasetPath);
            tensors.Add(dataset.With(Unique(names, weightName, datasetPath), TensorRole.OptimizerState));
        }

        // Datasets Keras does not list (hand-added, or groups of a format variant) are kept, under their HDF5 path.
        foreach (var t in plain.Tensors)
            if (!used.Contains(t.Name)) tensors.Add(t.With(Unique(names, t.Name, "hdf5:" + t.Name)));

        var info = new ModelFormatInfo(KerasH5Format.FormatName, AsString(meta.GetValueOrDefault("keras_version")), AsString(meta.GetValueOrDefault("backend")));
        return new ModelFile(info, new TensorCollection(tensors), root, meta, nameSeparator: '/');
    }

    /// <summary>
    /// Keras's <c>load_attributes_from_hdf5_group</c>: the attribute itself, or, when the list was too long for one
    /// HDF5 attribute (64 KiB object header limit), the chunks <c>name0</c>, <c>name1</c>… joined in order.
    /// </summary>
    internal static List<string>? LoadList(IReadOnlyDictionary<string, object?> meta, string groupPath, string name)
    {
        string Key(string n) => groupPath.Length == 0 ? n : groupPath + Hdf5Reader.AttributeSeparator + n;
        if (meta.TryGetValue(Key(name), out var whole)) return Strings(whole);
        List<string>? result = null;
        for (int chunk = 0; meta.TryGetValue(Key(name + chunk), out var part); chunk++)
            (result ??= []).AddRange(Strings(part));
        return result;
    }

    private static List<string> Strings(object? value) => value switch
    {
        null => [],
        List<object?> list => [.. list.SelectMany(Strings)],
        _ => [AsString(value) ?? value.ToString() ?? ""],
    };

    private static string? AsString(object? value) => value switch
    {
        string s => s,
        byte[] b => Encoding.UTF8.GetString(b),
        _ => null,
    };

    private static KerasLayer ParseConfig(string json, ReaderLimits limits)
    {
        try { return KerasConfig.Parse(json, limits); }
        catch (System.Text.Json.JsonException e) { throw KerasErrors.BadConfig("model_config", e.Message); }
    }

    private static ModuleNode AddNode(ModuleNode parent, KerasLayer layer, string parentPath)
    {
        string path = parentPath.Length == 0 ? layer.Name : parentPath + "/" + layer.Name;
        var node = new ModuleNode(layer.Name, path, layer.ClassName);
        AddAttributes(node, layer);
        foreach (var child in layer.Layers) AddNode(node, child, path);
        parent.Children.Add(node);
        return node;
    }

    private static void AddAttributes(ModuleNode node, KerasLayer layer)
    {
        foreach (var (k, v) in KerasConfig.ScalarEntries(layer.Config)) node.Attributes[k] = v;
    }

    /// <summary>A weight name without the layer prefix and the TensorFlow <c>:0</c> suffix: <c>kernel</c>, <c>forward_lstm_4/kernel</c>.</summary>
    internal static string ShortName(string layer, string weightName)
    {
        string s = weightName;
        int colon = s.LastIndexOf(':');
        if (colon > 0 && s[(colon + 1)..].All(char.IsAsciiDigit) && colon < s.Length - 1) s = s[..colon];
        if (s.StartsWith(layer + "/", StringComparison.Ordinal)) s = s[(layer.Length + 1)..];
        return s;
    }

    /// <summary>
    /// The node a weight belongs to: in a nested model, the inner layer its name starts with; and whether Keras counts
    /// it as trainable (every enclosing layer's config has <c>trainable</c> not false).
    /// </summary>
    private static (ModuleNode Node, string Key, bool Trainable) Owner(ModuleNode node, KerasLayer? layer, string shortName)
    {
        bool trainable = layer?.Trainable ?? true;
        string key = shortName;
        while (layer is { IsModel: true })
        {
            int slash = key.IndexOf('/');
            if (slash <= 0) break;
            var inner = layer.Layers.FirstOrDefault(l => l.Name == key[..slash]);
            var innerNode = node.Child(key[..slash]);
            if (inner is null || innerNode is null) break;
            layer = inner;
            node = innerNode;
            key = key[(slash + 1)..];
            trainable &= inner.Trainable;
        }
        return (node, key, trainable);
    }

    /// <summary>BatchNormalization's moving statistics are non-trainable weights in every Keras version.</summary>
    private static bool IsMovingStatistic(string key) =>
        key.EndsWith("moving_mean", StringComparison.Ordinal) || key.EndsWith("moving_variance", StringComparison.Ordinal);

    private static string Join(string group, string name) => group.Length == 0 ? name : group + "/" + name;

    private static string Unique(HashSet<string> names, string preferred, string fallback)
    {
        if (names.Add(preferred)) return preferred;
        if (names.Add(fallback)) return fallback;
        for (int i = 1; ; i++)
            if (names.Add($"{fallback}#{i}")) return $"{fallback}#{i}";
    }
}
