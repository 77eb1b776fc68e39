using WeightScope.Formats.Keras;
using WeightScope.Formats.TensorFlow.Bundle;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Formats.TensorFlow.SavedModel;

/// <summary>
/// Completes a SavedModel's variables checkpoint with what the graph knows: roles from each variable's
/// <c>trainable</c> flag, and for tf.keras models the layer tree, frozen layers and order of <c>model.weights</c>.
/// </summary>
/// <remarks>
/// Roles: optimizer state stays <see cref="TensorRole.OptimizerState"/> (found by key, as for checkpoints); a trainable
/// variable is a <see cref="TensorRole.Parameter"/>; Keras metric state (<c>keras_api/metrics/…</c>) is
/// <see cref="TensorRole.Other"/>, as Keras leaves it out of <c>model.weights</c>; other non-trainable variables are
/// <see cref="TensorRole.Buffer"/>s (BatchNorm statistics, <c>global_step</c>). Variables the graph does not describe
/// keep the checkpoint's role. With a Keras config, a weight is trainable only if its layer and every enclosing model
/// are (<c>layer.trainable = False</c> does not change the variables' own flags), and BatchNorm moving statistics never are.
/// </remarks>
internal static class SavedModelRoles
{
    private const string KerasMetricsPrefix = "keras_api/metrics/";

    public static BundleContents Apply(BundleContents contents, SavedModelGraph? graph, KerasLayer? kerasConfig)
    {
        var variables = graph?.Variables() ?? [];
        var infos = new SavedModelGraph.VariableInfo?[contents.Tensors.Count];
        var tensors = new List<TensorEntry>(contents.Tensors.Count);
        for (int i = 0; i < contents.Tensors.Count; i++)
        {
            var t = contents.Tensors[i];
            string key = contents.Keys[i];
            infos[i] = variables.GetValueOrDefault(key);
            var role = t.Role == TensorRole.OptimizerState || infos[i] is not { } info ? t.Role
                : info.Trainable ? TensorRole.Parameter
                : key.StartsWith(KerasMetricsPrefix, StringComparison.Ordinal) ? TensorRole.Other
                : TensorRole.Buffer;
            tensors.Add(role == t.Role ? t : t.With(role: role));
        }
        if (kerasConfig is null) return contents with { Tensors = tensors };

        var tree = KerasWeightTree.Build(kerasConfig);
        var order = new Dictionary<ModuleNode, int>();
        int n = 0;
        foreach (var node in tree.Root.Descendants()) order.TryAdd(node, n++);

        var placed = new List<(int Group, int Layer, int Order, int Index, TensorEntry Tensor, string Key)>(tensors.Count);
        var owners = new (ModuleNode Node, string Key)?[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            var (owner, weightKey, layerTrainable) = tree.Owner(t.Name);
            bool inModel = t.Role is TensorRole.Parameter or TensorRole.Buffer && (owner != tree.Root || infos[i] is not null);
            if (!inModel)
            {
                placed.Add((1, 0, infos[i]?.Order ?? int.MaxValue, i, t, contents.Keys[i]));
                continue;
            }
            var role = t.Role == TensorRole.Parameter && layerTrainable && !KerasWeightTree.IsMovingStatistic(weightKey) ? TensorRole.Parameter : TensorRole.Buffer;
            var entry = role == t.Role ? t : t.With(role: role);
            owners[i] = (owner, weightKey);
            placed.Add((0, order[owner], infos[i]?.Order ?? int.MaxValue, i, entry, contents.Keys[i]));
        }
        // model.weights order: layer by layer, each layer's weights in creation order (their object-graph node ids);
        // then metrics and optimizer variables, also in creation order.
        placed.Sort((a, b) => (a.Group, a.Layer, a.Order, a.Index).CompareTo((b.Group, b.Layer, b.Order, b.Index)));
        foreach (var p in placed)
            if (owners[p.Index] is { } o) KerasWeightTree.Attach(o.Node, o.Key, p.Tensor);
        return contents with { Tensors = [.. placed.Select(p => p.Tensor)], Keys = [.. placed.Select(p => p.Key)], Modules = tree.Root };
    }
}
