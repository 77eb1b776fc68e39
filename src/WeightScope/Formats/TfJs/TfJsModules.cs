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
            using var doc = JsonDocument.Parse(topologyJson, IO.JsonDepth.Options(limits));
            var top = doc.RootElement;
            var modelConfig = top.TryGetProperty("model_config", out var mc) && mc.ValueKind == JsonValueKind.Object ? mc : top;
            if (!modelConfig.TryGetProperty("class_name", out _)) return null; // not a Keras config: the tree is built from names
            config = KerasConfig.Parse(modelConfig.GetRawText(), limits);
        }
        catch (ModelFormatException e) when (e is not ReaderLimitException)
        {
            throw new InvalidModelContentException(TfJsErrors.Format, $"modelTopology is not a Keras model config: {e.Message}", null, "modelTopology", e);
        }

        var tree = KerasWeightTree.Build(config);
        var result = new List<TensorEntry>(tensors.Count);
        foreach (var t in tensors)
        {
            var (owner, key, trainable) = tree.Owner(t.Name);
            var entry = t.With(role: trainable && !KerasWeightTree.IsMovingStatistic(key) ? TensorRole.Parameter : TensorRole.Buffer);
            KerasWeightTree.Attach(owner, key, entry);
            result.Add(entry);
        }
        return (tree.Root, result);
    }
}
