using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.TorchSharp.Layout;

/// <summary>
/// One Keras layer's weights under the names and in the layouts torch's equivalent module has: a Dense kernel (in, out)
/// becomes a Linear weight (out, in); convolution kernels (k…, in, out) become (out, in, k…); a depthwise kernel
/// (k…, in, multiplier) becomes Conv(groups=in)'s (in·multiplier, 1, k…); LSTM/GRU/SimpleRNN kernels are transposed, GRU
/// gate blocks z, r, h reordered to torch's r, z, n, a GRU's (2, 3·units) reset_after bias split into bias_ih and
/// bias_hh, and the bias_hh torch's LSTM and RNN have and Keras's do not filled with zeros (Keras adds one bias where
/// torch adds two). Layouts from Keras's <c>Dense/BaseConv/DepthwiseConv/LSTMCell/GRUCell.build</c> and torch's
/// <c>nn.Linear</c>, <c>nn._ConvNd</c>, <c>nn.LSTM/GRU/RNN</c> docs (the same knowledge <see cref="LayoutNotes"/> states).
/// </summary>
internal static class KerasLayers
{
    /// <summary>A Keras layer and what it gives torch: local torch names (<c>weight</c>, <c>weight_ih_l0</c>) and values.</summary>
    public sealed record Layer(string Path, string KerasType, string TorchKind, IReadOnlyList<(string Local, SourceTensor Values)> Tensors, IReadOnlyList<TensorEntry> Used);

    /// <summary>
    /// Every layer of <paramref name="model"/> (a Keras model) with weights it knows how to convert, in model order; what
    /// the conversion cannot vouch for (a layer without a recorded class, a Keras setting torch's layer computes
    /// differently) goes to <paramref name="warnings"/>.
    /// </summary>
    public static List<Layer> Convert(ModelFile model, List<string> warnings)
    {
        var layers = new List<Layer>();
        var untyped = new List<string>();
        foreach (var node in model.Modules.Descendants())
        {
            var weights = node.Parameters.Concat(node.Buffers).Where(kv => kv.Value is not null && kv.Value.Role != TensorRole.OptimizerState)
                .Select(kv => (Local: kv.Key, Tensor: kv.Value!)).ToList();
            if (weights.Count == 0) continue;
            if (node.Type is null) { untyped.Add(node.Path); continue; }
            if (ConvertLayer(node, weights) is { } layer)
            {
                layers.Add(layer);
                warnings.AddRange(ComputationNotes(node, layer));
            }
        }
        if (untyped.Count > 0)
            warnings.Add($"the file records no class for Keras layer(s) {string.Join(", ", untyped.Select(p => $"'{p}'"))} (a weights-only file): "
                + "their layouts were not converted and their tensors keep the file's names");
        return layers;
    }

    // Settings with which a Keras layer computes something else than torch's default layer of the same weights: worth a
    // word, since loading succeeds either way (values are right; the module must be built to match).
    private static IEnumerable<string> ComputationNotes(ModuleNode node, Layer layer)
    {
        if (layer.TorchKind is "BatchNorm" or "LayerNorm" && node.Attributes.TryGetValue("epsilon", out var e) && e is double eps && eps != 1e-5)
            yield return $"Keras layer '{layer.Path}' has epsilon = {eps.ToString(System.Globalization.CultureInfo.InvariantCulture)}; "
                + $"torch's {layer.TorchKind} uses 1e-5 unless built with eps: {eps.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        foreach (var attributes in new[] { node.Attributes }.Concat(node.Children.Select(c => c.Attributes)))
        {
            if (attributes.TryGetValue("recurrent_activation", out var ra) && ra is string r && r != "sigmoid")
                yield return $"Keras layer '{layer.Path}' has recurrent_activation = '{r}'; torch's {layer.TorchKind} gates use sigmoid, so outputs will differ";
            if (layer.TorchKind is "LSTM" or "GRU" && attributes.TryGetValue("activation", out var a) && a is string act && act != "tanh")
                yield return $"Keras layer '{layer.Path}' has activation = '{act}'; torch's {layer.TorchKind} uses tanh, so outputs will differ";
        }
    }

    // A layer's variables by their own name (kernel, bias…: the last segment of a local name like lstm_cell/kernel or
    // forward_lstm/kernel), remembering which ones the conversion read: the others are left to pair, or to be
    // reported, under their own names.
    private sealed class VarTable
    {
        private readonly Dictionary<string, TensorEntry> _vars = new(StringComparer.Ordinal);

        public VarTable(IEnumerable<(string Local, TensorEntry Tensor)> weights)
        {
            foreach (var (local, t) in weights) _vars.TryAdd(local[(local.LastIndexOf('/') + 1)..], t);
        }

        public HashSet<TensorEntry> Read { get; } = new(ReferenceEqualityComparer.Instance);

        public bool TryGetValue(string name, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TensorEntry tensor)
        {
            if (!_vars.TryGetValue(name, out tensor)) return false;
            Read.Add(tensor);
            return true;
        }
    }

    private static Layer? ConvertLayer(ModuleNode node, List<(string Local, TensorEntry Tensor)> weights)
    {
        string type = node.Type!;
        var result = new List<(string, SourceTensor)>();
        string path = node.Path.Replace('/', '.');
        if (type == "Bidirectional")
        {
            var read = new List<TensorEntry>();
            foreach (var (direction, suffix) in new[] { ("forward", ""), ("backward", "_reverse") })
            {
                var half = weights.Where(w => w.Local.Split('/').Any(s => s.StartsWith(direction, StringComparison.Ordinal))).ToList();
                string inner = InnerRecurrentType(half.Select(w => w.Local)) ?? "";
                if (half.Count == 0 || inner.Length == 0) return null;
                var table = new VarTable(half);
                result.AddRange(Recurrent(node, inner, table, suffix));
                read.AddRange(table.Read);
            }
            return new Layer(path, type, RecurrentKind(InnerRecurrentType(weights.Select(w => w.Local))!), result, read);
        }
        var vars = new VarTable(weights);
        string? kind = null;
        if (type.EndsWith("Dense", StringComparison.Ordinal) && type != "EinsumDense" && vars.TryGetValue("kernel", out var dense) && dense.Shape.Rank == 2)
        {
            kind = "Linear";
            result.Add(("weight", SourceTensor.Permuted(dense, [1, 0], "transposed: Keras Dense kernel (in, out) → Linear weight (out, in)")));
            AddPlain(result, vars, "bias", "bias");
        }
        else if (type.Contains("Depthwise", StringComparison.Ordinal)
                 && (vars.TryGetValue("depthwise_kernel", out var dw) || vars.TryGetValue("kernel", out dw)) && dw.Shape.Rank is 3 or 4)
        {
            kind = "Conv" + (dw.Shape.Rank - 2) + "d";
            // Keras 2 names it depthwise_kernel, Keras 3 kernel.
            result.Add(("weight", SourceTensor.Stacked(dw.Name, [Depthwise(dw)], "depthwise kernel (k…, in, multiplier) → (in·multiplier, 1, k…)")));
            AddPlain(result, vars, "bias", "bias");
        }
        else if (type.Contains("Conv", StringComparison.Ordinal) && !type.Contains("LSTM", StringComparison.Ordinal) && !type.Contains("Separable", StringComparison.Ordinal)
                 && vars.TryGetValue("kernel", out var conv) && conv.Shape.Rank is >= 3 and <= 5)
        {
            int rank = conv.Shape.Rank, n = rank - 2;
            bool transpose = type.Contains("Transpose", StringComparison.Ordinal);
            kind = transpose ? $"ConvTranspose{n}d" : $"Conv{n}d";
            int[] order = [rank - 1, rank - 2, .. Enumerable.Range(0, n)];
            result.Add(("weight", SourceTensor.Permuted(conv, order, transpose
                ? $"permuted: Keras {type} kernel (k…, out, in) → ConvTranspose weight (in, out, k…)"
                : $"permuted: Keras {type} kernel (k…, in, out) → Conv weight (out, in, k…)")));
            AddPlain(result, vars, "bias", "bias");
        }
        else if (type == "BatchNormalization" || type == "LayerNormalization")
        {
            kind = type == "BatchNormalization" ? "BatchNorm" : "LayerNorm";
            AddPlain(result, vars, "gamma", "weight");
            AddPlain(result, vars, "beta", "bias");
            AddPlain(result, vars, "moving_mean", "running_mean");
            AddPlain(result, vars, "moving_variance", "running_var");
        }
        else if (type == "Embedding" && vars.TryGetValue("embeddings", out var emb))
        {
            kind = "Embedding";
            result.Add(("weight", SourceTensor.Of(emb)));
        }
        else if (RecurrentKindOrNull(type) is { } rk)
        {
            kind = rk;
            result.AddRange(Recurrent(node, type, vars, ""));
        }
        return kind is null || result.Count == 0 ? null : new Layer(path, type, kind, result, [.. vars.Read]);
    }

    private static void AddPlain(List<(string, SourceTensor)> result, VarTable vars, string keras, string torch)
    {
        if (vars.TryGetValue(keras, out var t)) result.Add((torch, SourceTensor.Of(t)));
    }

    // (k…, in, multiplier) → (in·multiplier, 1, k…): permuted to (in, multiplier, k…), then reshaped (a small copy: the
    // permuted view is not contiguous).
    private static TensorEntry Depthwise(TensorEntry t)
    {
        int rank = t.Shape.Rank, n = rank - 2;
        var permuted = Indexing.Permute(t, [rank - 2, rank - 1, .. Enumerable.Range(0, n)]);
        return permuted.Reshape([t.Shape[rank - 2] * t.Shape[rank - 1], 1, .. Enumerable.Range(0, n).Select(i => t.Shape[i])]);
    }

    // torch's second recurrent bias, which Keras does not have.
    private static TensorEntry Zeros(string name, DType dtype, long length) =>
        new(name, dtype, new Shape(length), new ArrayStorage(new byte[length * dtype.ItemSize()], name + " (zeros)"));

    private static string? InnerRecurrentType(IEnumerable<string> locals)
    {
        foreach (var l in locals)
        {
            var lower = l.ToLowerInvariant();
            if (lower.Contains("lstm", StringComparison.Ordinal)) return "LSTM";
            if (lower.Contains("gru", StringComparison.Ordinal)) return "GRU";
            if (lower.Contains("simple_rnn", StringComparison.Ordinal)) return "SimpleRNN";
        }
        return null;
    }

    private static string? RecurrentKindOrNull(string type) =>
        type.Contains("LSTM", StringComparison.Ordinal) && !type.Contains("Conv", StringComparison.Ordinal) ? "LSTM"
        : type.Contains("GRU", StringComparison.Ordinal) ? "GRU"
        : type.Contains("SimpleRNN", StringComparison.Ordinal) ? "RNN"
        : null;

    private static string RecurrentKind(string inner) => RecurrentKindOrNull(inner) ?? "RNN";

    private static IEnumerable<(string, SourceTensor)> Recurrent(ModuleNode node, string type, VarTable vars, string suffix)
    {
        string kind = RecurrentKind(type);
        int gates = kind switch { "LSTM" => 4, "GRU" => 3, _ => 1 };
        // torch's GRU computes n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)): Keras's reset_after=True. With
        // reset_after=False Keras computes tanh(W x + U (r ⊙ h) + b), which no torch GRU can.
        if (kind == "GRU" && !ResetAfter(node, vars))
            throw new NotSupportedException($"Keras GRU layer '{node.Path}' has reset_after=False: its candidate state is "
                + "tanh(W·x + U·(r ⊙ h) + b), which torch's GRU (r ⊙ (W_hn·h + b_hn)) cannot compute; load its arrays as they are "
                + "with ConvertLayouts = false, or use a GRU with reset_after=True");
        string order = kind == "GRU" ? ", gates z, r, h → r, z, n" : "";
        if (vars.TryGetValue("kernel", out var k))
            yield return ("weight_ih_l0" + suffix, Gates(k, gates, kind, $"transposed: Keras {type} kernel (in, {gates}·units) → weight_ih (…, in){order}"));
        if (vars.TryGetValue("recurrent_kernel", out var r))
            yield return ("weight_hh_l0" + suffix, Gates(r, gates, kind, $"transposed: Keras {type} recurrent_kernel (units, {gates}·units) → weight_hh (…, units){order}"));
        if (vars.TryGetValue("bias", out var b))
        {
            if (kind == "GRU" && b.Shape.Rank == 2)
            {
                yield return ("bias_ih_l0" + suffix, GateBlocks(b.Slice("[0]"), 3, kind, "row 0 of Keras's (2, 3·units) reset_after bias" + order));
                yield return ("bias_hh_l0" + suffix, GateBlocks(b.Slice("[1]"), 3, kind, "row 1 of Keras's (2, 3·units) reset_after bias" + order));
            }
            else
            {
                yield return ("bias_ih_l0" + suffix, GateBlocks(b, gates, kind, "Keras's one bias" + order));
                yield return ("bias_hh_l0" + suffix, SourceTensor.Stacked(b.Name, [Zeros(b.Name, b.DType, b.Shape[0])],
                    "zeros: Keras adds one bias where torch adds bias_ih + bias_hh"));
            }
        }
    }

    private static bool ResetAfter(ModuleNode node, VarTable vars)
    {
        if (node.Attributes.TryGetValue("reset_after", out var v) && v is bool flag) return flag;
        foreach (var child in node.Children)
            if (child.Attributes.TryGetValue("reset_after", out var cv) && cv is bool cf) return cf;
        if (vars.TryGetValue("bias", out var b)) return b.Shape.Rank == 2;
        throw new NotSupportedException($"Keras GRU layer '{node.Path}' records no reset_after flag and has no bias to tell it by; "
            + "torch's GRU equals Keras's only with reset_after=True");
    }

    // A (rows, gates·units) Keras matrix as torch's (gates·units, rows), GRU blocks reordered z, r, h → r, z, n.
    private static SourceTensor Gates(TensorEntry kernel, int gates, string kind, string transform)
    {
        var transposed = kernel.Transpose();
        return kind == "GRU" ? Reordered(transposed, kernel.Name, transform) : SourceTensor.Stacked(kernel.Name, [transposed], transform);
    }

    private static SourceTensor GateBlocks(TensorEntry vector, int gates, string kind, string transform) =>
        kind == "GRU" ? Reordered(vector, vector.Name, transform) : SourceTensor.Stacked(vector.Name, [vector], transform);

    private static SourceTensor Reordered(TensorEntry rows, string name, string transform)
    {
        long units = rows.Shape[0] / 3;
        if (units * 3 != rows.Shape[0]) throw new NotSupportedException($"GRU tensor '{name}' has {rows.Shape[0]} rows, not 3·units");
        return SourceTensor.Stacked(name, [SourceTensor.Rows(rows, units, units), SourceTensor.Rows(rows, 0, units), SourceTensor.Rows(rows, 2 * units, units)], transform);
    }
}
