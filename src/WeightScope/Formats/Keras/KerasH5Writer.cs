using WeightScope.Formats.Hdf5.Writer;
using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Formats.Keras;

/// <summary>
/// Writes what Keras 2 / tf.keras <c>model.save_weights("w.h5")</c> writes (<c>save_weights_to_hdf5_group</c>): root
/// attributes <c>layer_names</c> (the layers, in order), <c>backend</c> and <c>keras_version</c>; one group per layer
/// with a <c>weight_names</c> attribute (its weights, in order) and each weight as the dataset
/// <c>&lt;layer&gt;/&lt;weight name&gt;</c> (<c>dense/dense/kernel:0</c>). Strings are fixed-length byte arrays, as
/// Keras 2.2–2.4 wrote them (<c>[n.encode("utf8") …]</c>); long lists are chunked as Keras chunks them.
/// <para>
/// <b>Names.</b> A tensor's name is its weight name, unchanged, so <see cref="KerasH5Reader"/> (which names tensors by
/// <c>weight_names</c>) reads the same names back. Its layer is the part before the first <c>/</c>
/// (<c>dense/kernel:0</c> → <c>dense</c>, Keras's own naming); a name without <c>/</c> belongs to the part before its
/// last <c>.</c> (a PyTorch state dict: <c>fc1.weight</c> → layer <c>fc1</c>, dataset <c>fc1/fc1.weight</c>), or to a
/// layer of its own name. Layers are listed in order of their first tensor; a layer's tensors keep their order (tensors
/// of one layer that are not adjacent are brought together). <c>backend</c> and <c>keras_version</c> come from
/// <see cref="WriteOptions.Metadata"/> when given there, else <c>tensorflow</c> and <c>2.15.0</c> (any 2.x makes Keras
/// load the file without its Keras 1 conversions); other metadata has no place and is dropped with a warning.
/// </para>
/// </summary>
public sealed class KerasH5Writer : ITensorWriter
{
    private const string DefaultBackend = "tensorflow";
    private const string DefaultKerasVersion = "2.15.0";

    /// <inheritdoc />
    public string Name => KerasH5Format.FormatName;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".h5"];

    /// <inheritdoc />
    public void Validate(IReadOnlyList<TensorEntry> tensors, WriteOptions options)
    {
        H5WriteChecks.Names(Name, tensors);
        H5WriteChecks.DTypes(Name, tensors);
        Build(tensors, options);
        TensorWriters.ApplySharedStoragePolicy(tensors, options with { Warning = null }, Name);
    }

    /// <inheritdoc />
    public void Write(IReadOnlyList<TensorEntry> tensors, Stream output, WriteOptions options)
    {
        TensorWriters.ApplySharedStoragePolicy(tensors, options, Name);
        var extra = options.Metadata?.Keys.Where(k => k is not ("backend" or "keras_version")).ToList();
        if (extra is { Count: > 0 })
            options.Warning?.Invoke($"{Name}: metadata {string.Join(", ", extra)} has no place in a Keras weights file and is not written");
        H5FileWriter.Write(Build(tensors, options), output, options.Progress);
    }

    /// <summary>The layer a tensor is saved under (see the class summary).</summary>
    public static string LayerOf(string tensorName)
    {
        int slash = tensorName.IndexOf('/');
        if (slash > 0) return tensorName[..slash];
        int dot = tensorName.LastIndexOf('.');
        return dot > 0 ? tensorName[..dot] : tensorName;
    }

    private H5Tree Build(IReadOnlyList<TensorEntry> tensors, WriteOptions options)
    {
        var layers = new List<(string Layer, List<TensorEntry> Weights)>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            string layer = LayerOf(t.Name);
            if (!index.TryGetValue(layer, out int i)) { index[layer] = i = layers.Count; layers.Add((layer, [])); }
            layers[i].Weights.Add(t);
        }
        var tree = new H5Tree();
        KerasH5Attributes.Save(tree.Root, "layer_names", [.. layers.Select(l => l.Layer)], Name);
        tree.Root.Attributes.Add(H5Attribute.ScalarString("backend", options.Metadata?.GetValueOrDefault("backend") ?? DefaultBackend));
        tree.Root.Attributes.Add(H5Attribute.ScalarString("keras_version", options.Metadata?.GetValueOrDefault("keras_version") ?? DefaultKerasVersion));
        foreach (var (layer, weights) in layers)
        {
            var g = tree.Group(layer, weights[0]);
            KerasH5Attributes.Save(g, "weight_names", [.. weights.Select(w => w.Name)], Name);
            foreach (var w in weights) tree.AddDataset(layer + "/" + w.Name, w);
        }
        return tree;
    }
}
