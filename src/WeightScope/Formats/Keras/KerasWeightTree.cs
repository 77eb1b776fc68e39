using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Formats.Keras;

/// <summary>
/// The layer tree of a Keras model config for weights named the tf.keras way, <c>layer/weight</c>
/// (<c>dense/kernel</c>, <c>lstm/lstm_cell/kernel</c>), nested models adding their own prefix. Used where the names come
/// from a converter or a variable's own name rather than from HDF5 groups: TensorFlow.js layers-models and tf.keras
/// SavedModels.
/// </summary>
internal sealed class KerasWeightTree
{
    private readonly Dictionary<ModuleNode, KerasLayer> _layers = [];

    private KerasWeightTree(KerasLayer config)
    {
        Root = new ModuleNode("", "", config.ClassName);
        foreach (var (k, v) in KerasConfig.ScalarEntries(config.Config)) Root.Attributes[k] = v;
        _layers[Root] = config;
        foreach (var layer in config.Layers) AddNode(Root, layer, "");
    }

    /// <summary>The model: one node per layer, with the layer's scalar config entries as attributes.</summary>
    public ModuleNode Root { get; }

    /// <summary>The tree of <paramref name="config"/>, without weights yet.</summary>
    public static KerasWeightTree Build(KerasLayer config) => new(config);

    private void AddNode(ModuleNode parent, KerasLayer layer, string parentPath)
    {
        string path = parentPath.Length == 0 ? layer.Name : parentPath + "/" + layer.Name;
        var node = new ModuleNode(layer.Name, path, layer.ClassName);
        foreach (var (k, v) in KerasConfig.ScalarEntries(layer.Config)) node.Attributes[k] = v;
        _layers[node] = layer;
        foreach (var child in layer.Layers) AddNode(node, child, path);
        parent.Children.Add(node);
    }

    /// <summary>
    /// The deepest layer whose path prefixes the weight name, the rest of the name as the weight's key there, and
    /// whether every layer on the way is trainable (Keras's <c>layer.trainable = False</c> freezes all it holds).
    /// </summary>
    public (ModuleNode Node, string Key, bool Trainable) Owner(string name)
    {
        var node = Root;
        string key = name;
        bool trainable = _layers[Root].Trainable;
        while (true)
        {
            int slash = key.IndexOf('/');
            if (slash <= 0) break;
            var child = node.Child(key[..slash]);
            if (child is null) break;
            node = child;
            key = key[(slash + 1)..];
            trainable &= _layers[node].Trainable;
        }
        return (node, key, trainable);
    }

    /// <summary>Hangs a weight on its layer: a parameter when its role is Parameter, otherwise a buffer. The first of a repeated key wins.</summary>
    public static void Attach(ModuleNode owner, string key, TensorEntry entry)
    {
        var slot = entry.Role == TensorRole.Parameter ? owner.Parameters : owner.Buffers;
        slot.TryAdd(key, entry);
    }

    /// <summary>BatchNormalization's moving statistics are non-trainable weights in every Keras version.</summary>
    public static bool IsMovingStatistic(string key) =>
        key.EndsWith("moving_mean", StringComparison.Ordinal) || key.EndsWith("moving_variance", StringComparison.Ordinal);
}
