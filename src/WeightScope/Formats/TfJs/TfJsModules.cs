using System.Text.Json;
using WeightScope.Formats.Keras;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Formats.TfJs;

/// <summary>
/// The module tree of a layers-model: its <c>modelTopology</c> is a Keras model config (the converter's
/// <c>{"keras_version", "backend", "model_config": {...}}</c>, or tfjs-layers' own <c>model.toJSON()</c>, which is the
/// config itself), read with the Keras config parser. Weights are named <c>layer/weight</c> (<c>dense/kernel</c>),
/// nested models adding their own prefix, and hang on the layer their name starts with.
/// </summary>
internal static class TfJsModules
{
    public static (ModuleNode Root, List<TensorEntry> Tensors)? FromTopology(string? topologyJson, List<TensorEntry> tensors, ReaderLimits limits)
    {
        if (topologyJson is null) return null;
        KerasLayer config;
        try
        {
            using var doc = JsonDocument.Parse(topologyJson);
            var top = doc.RootElement;
            var modelConfig = top.TryGetProperty("model_config", out var mc) && mc.ValueKind == JsonValueKind.Object ? mc : top;
            if (!modelConfig.TryGetProperty("class_name", out _)) return null; // not a Keras config: the tree is built from names
            config = KerasConfig.Parse(modelConfig.GetRawText(), limits);
        }
        catch (ModelFormatException e)
        {
            throw new InvalidModelContentException(TfJsErrors.Format, $"modelTopology is not a Keras model config: {e.Message}", null, "modelTopology", e);
        }

        var root = new ModuleNode("", "", config.ClassName);
        foreach (var (k, v) in KerasConfig.ScalarEntries(config.Config)) root.Attributes[k] = v;
        var layers = new Dictionary<ModuleNode, KerasLayer> { [root] = config };
        foreach (var layer in config.Layers) AddNode(root, layer, "", layers);

        var result = new List<TensorEntry>(tensors.Count);
        foreach (var t in tensors)
        {
            var (owner, key, trainable) = Owner(root, layers, t.Name);
            var role = trainable && !IsMovingStatistic(key) ? TensorRole.Parameter : TensorRole.Buffer;
            var entry = t.With(role: role);
            var slot = role == TensorRole.Parameter ? owner.Parameters : owner.Buffers;
            if (!slot.ContainsKey(key)) slot[key] = entry;
            result.Add(entry);
        }
        return (root, result);
    }

    private static void AddNode(ModuleNode parent, KerasLayer layer, string parentPath, Dictionary<ModuleNode, KerasLayer> layers)
    {
        string path = parentPath.Length == 0 ? layer.Name : parentPath + "/" + layer.Name;
        var node = new ModuleNode(layer.Name, path, layer.ClassName);
        foreach (var (k, v) in KerasConfig.ScalarEntries(layer.Config)) node.Attributes[k] = v;
        layers[node] = layer;
        foreach (var child in layer.Layers) AddNode(node, child, path, layers);
        parent.Children.Add(node);
    }

    /// <summary>The deepest layer whose path prefixes the weight name; the rest of the name is the weight's key there.</summary>
    private static (ModuleNode Node, string Key, bool Trainable) Owner(ModuleNode root, Dictionary<ModuleNode, KerasLayer> layers, string name)
    {
        var node = root;
        string key = name;
        bool trainable = layers[root].Trainable;
        while (true)
        {
            int slash = key.IndexOf('/');
            if (slash <= 0) break;
            var child = node.Child(key[..slash]);
            if (child is null) break;
            node = child;
            key = key[(slash + 1)..];
            trainable &= layers[node].Trainable;
        }
        return (node, key, trainable);
    }

    /// <summary>BatchNormalization's moving statistics are non-trainable weights in every Keras version.</summary>
    private static bool IsMovingStatistic(string key) =>
        key.EndsWith("moving_mean", StringComparison.Ordinal) || key.EndsWith("moving_variance", StringComparison.Ordinal);
}
