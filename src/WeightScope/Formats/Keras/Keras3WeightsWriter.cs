using System.Globalization;
using System.Text.RegularExpressions;
using WeightScope.Formats.Hdf5.Writer;
using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Formats.Keras;

/// <summary>
/// Writes a Keras 3 <c>model.save_weights("m.weights.h5")</c> file (<c>saving_lib.H5IOStore</c>): no attributes, the
/// model's own variables in <c>vars/&lt;i&gt;</c>, each layer's in <c>layers/&lt;layer&gt;/vars/&lt;i&gt;</c> (sub-layers
/// below it: <c>layers/lstm/cell/vars/0</c>), the optimizer's in <c>optimizer/vars/&lt;i&gt;</c>; every saveable has its
/// <c>vars</c> group even when empty, as <c>H5Entry</c> creates it.
/// <para>
/// <b>Names.</b> The file records no names, only positions, so tensor names are mapped to positions:
/// <list type="bullet">
/// <item>The layer is the part of the name before the first <c>/</c> (<c>dense/kernel</c> → <c>dense</c>, the names
/// <see cref="Keras3Reader"/> gives), or, without <c>/</c>, the part before the last <c>.</c> (a PyTorch state dict:
/// <c>fc1.weight</c> → <c>fc1</c>), or the whole name.</item>
/// <item>When the layer's name is a Keras class's snake_case group name (<c>dense</c>, <c>batch_normalization_1</c>,
/// <c>lstm</c>) and the rest of the names (a Keras 2 <c>:0</c> suffix dropped) are exactly that class's variables
/// (<c>kernel</c>, <c>bias</c>; <c>lstm_cell/kernel</c>…, with or without the optional ones), each goes to the
/// position the class's <c>build()</c> gives it — so <see cref="Keras3Reader"/> reads the same names back.</item>
/// <item>Otherwise, when every rest is already a position (<c>vars/0</c>, <c>cell/vars/1</c>: the reader's names for
/// layers it cannot map) it is kept; else the layer's tensors take <c>vars/0</c>, <c>vars/1</c>… in order (read back
/// as <c>fc1/vars/0</c>, <c>fc1/vars/1</c>).</item>
/// <item>The model's own variables (<c>vars/&lt;i&gt;</c>) stay at the root; optimizer state (role
/// <see cref="TensorRole.OptimizerState"/>, or a name under <c>optimizer/vars/</c>) goes to <c>optimizer/vars/&lt;i&gt;</c>
/// in order.</item>
/// </list>
/// No config is written (a <c>.weights.h5</c> has none), so a reader names the layers from these groups.
/// </para>
/// </summary>
public sealed partial class Keras3WeightsWriter : ITensorWriter
{
    private const string OptimizerVars = "optimizer/vars";

    [GeneratedRegex(@"^(?:(.+)/)?vars/(0|[1-9][0-9]{0,8})$")]
    private static partial Regex VarPath();

    [GeneratedRegex(@":[0-9]+$")]
    private static partial Regex Keras2Suffix();

    /// <inheritdoc />
    public string Name => Keras3WeightsFormat.FormatName;

    /// <inheritdoc />
    public bool KeepsNames => false;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".weights.h5"];

    /// <inheritdoc />
    public void Validate(IReadOnlyList<TensorEntry> tensors, WriteOptions options)
    {
        H5WriteChecks.Names(Name, tensors);
        H5WriteChecks.DTypes(Name, tensors);
        Build(tensors);
        TensorWriters.ApplySharedStoragePolicy(tensors, options with { Warning = null }, Name);
    }

    /// <inheritdoc />
    public void Write(IReadOnlyList<TensorEntry> tensors, Stream output, WriteOptions options)
    {
        TensorWriters.ApplySharedStoragePolicy(tensors, options, Name);
        if (options.Metadata is { Count: > 0 })
            options.Warning?.Invoke($"{Name}: a Keras 3 weights file has no place for metadata; {string.Join(", ", options.Metadata.Keys)} not written");
        H5FileWriter.Write(Build(tensors), output, options.Progress);
    }

    /// <summary>The HDF5 path of each tensor, in the order given (see the class summary for the rules).</summary>
    public static IReadOnlyList<string> Paths(IReadOnlyList<TensorEntry> tensors)
    {
        var paths = new string[tensors.Count];
        var layers = new List<(string Layer, List<int> Members)>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        int optimizer = 0;
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            if (t.Role == TensorRole.OptimizerState || t.Name.StartsWith(OptimizerVars + "/", StringComparison.Ordinal))
                paths[i] = $"{OptimizerVars}/{optimizer++}";
            else if (VarPath().Match(t.Name) is { Success: true } m && !m.Groups[1].Success)
                paths[i] = t.Name;
            else
            {
                string layer = KerasH5Writer.LayerOf(t.Name);
                if (!index.TryGetValue(layer, out int li)) { index[layer] = li = layers.Count; layers.Add((layer, [])); }
                layers[li].Members.Add(i);
            }
        }
        foreach (var (layer, members) in layers)
        {
            string prefix = Keras3Walk.LayersGroup + "/" + layer + "/";
            var rests = members.Select(i => Rest(tensors[i].Name, layer)).ToList();
            if (TableSlots(layer, rests) is { } slots)
            {
                for (int k = 0; k < members.Count; k++)
                    paths[members[k]] = prefix + Keras3Walk.Join(slots[k].Group, Keras3Walk.VarsGroup) + "/" + slots[k].Index.ToString(CultureInfo.InvariantCulture);
            }
            else if (rests.All(r => VarPath().IsMatch(r)))
            {
                for (int k = 0; k < members.Count; k++) paths[members[k]] = prefix + rests[k];
            }
            else
            {
                for (int k = 0; k < members.Count; k++) paths[members[k]] = prefix + Keras3Walk.VarsGroup + "/" + k.ToString(CultureInfo.InvariantCulture);
            }
        }
        return paths;
    }

    // The name below the layer: after "<layer>/" for Keras names; the part after the last '.' for dotted names.
    private static string Rest(string name, string layer) =>
        name.Length > layer.Length && (name[layer.Length] == '/' || name[layer.Length] == '.') ? name[(layer.Length + 1)..] : name;

    // The class's variables matched to the names, when the layer's group name is a known class and the names are
    // exactly its variables (with all optional ones, or without them).
    private static IReadOnlyList<Keras3Slot>? TableSlots(string layer, List<string> rests)
    {
        if (!Keras3LayerVariables.BySnakeName.TryGetValue(Keras3Walk.SplitSuffix(layer).Base, out var cls)) return null;
        var names = rests.Select(r => Keras2Suffix().Replace(r, "")).ToList();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count) return null;
        foreach (bool optional in new[] { true, false })
        {
            var slots = Keras3LayerVariables.Slots(cls, default, optional);
            if (slots is null || slots.Count != names.Count) continue;
            var byName = slots.ToDictionary(s => s.Name, StringComparer.Ordinal);
            if (names.All(byName.ContainsKey)) return [.. names.Select(n => byName[n])];
        }
        return null;
    }

    private static H5Tree Build(IReadOnlyList<TensorEntry> tensors)
    {
        var paths = Paths(tensors);
        var tree = new H5Tree();
        tree.Group(Keras3Walk.VarsGroup);
        tree.Group(Keras3Walk.LayersGroup);
        for (int i = 0; i < tensors.Count; i++)
        {
            // H5Entry makes "<saveable>/vars" for every saveable on the way, the layer itself included.
            var p = paths[i];
            if (p.StartsWith(Keras3Walk.LayersGroup + "/", StringComparison.Ordinal))
            {
                int end = p.IndexOf('/', Keras3Walk.LayersGroup.Length + 1);
                tree.Group(p[..end] + "/" + Keras3Walk.VarsGroup, tensors[i]);
            }
            tree.AddDataset(p, tensors[i]);
        }
        return tree;
    }
}
