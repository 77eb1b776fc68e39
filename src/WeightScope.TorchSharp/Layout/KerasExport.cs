using System.Runtime.InteropServices;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.TorchSharp.Layout;

/// <summary>
/// A module's weights as the equivalent Keras model holds them, for <c>model.load_weights("m.weights.h5")</c>: each
/// torch layer becomes the Keras layer Keras would name by its class (<c>dense</c>, <c>dense_1</c>, <c>conv2d</c>,
/// <c>batch_normalization</c>, <c>lstm</c>, <c>gru</c>, <c>embedding</c>, in module order) with Keras's variable names
/// and layouts — the inverse of <see cref="KerasLayers"/>: Linear weight (out, in) → Dense kernel (in, out); Conv
/// (out, in, k…) → (k…, in, out); LSTM bias_ih + bias_hh → one bias; GRU r, z, n → z, r, h, its two biases → the
/// (2, 3·units) reset_after bias. <see cref="Formats.Keras.Keras3WeightsWriter"/> puts them at Keras's positions.
/// </summary>
internal static class KerasExport
{
    public static List<TensorEntry> Convert(ModelFile live)
    {
        var result = new List<TensorEntry>();
        var used = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in live.Modules.Descendants())
        {
            var own = node.Parameters.Concat(node.Buffers).Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!, StringComparer.Ordinal);
            if (own.Count == 0) continue;
            var (group, tensors) = Layer(node, own);
            int n = used.GetValueOrDefault(group);
            used[group] = n + 1;
            string name = n == 0 ? group : $"{group}_{n}";
            result.AddRange(tensors.Select(t => t.Tensor.With(name: $"{name}/{t.Name}")));
        }
        return result;
    }

    private static (string Group, List<(string Name, TensorEntry Tensor)>) Layer(ModuleNode node, Dictionary<string, TensorEntry> own)
    {
        string type = node.Type ?? "";
        string where = $"module '{node.Path}' ({type})";
        TensorEntry Need(string local) => own.TryGetValue(local, out var t) ? t
            : throw new NotSupportedException($"{where} has no '{local}', which its Keras layer needs");
        switch (type)
        {
            case "Linear":
                return ("dense", [("kernel", Need("weight").Transpose()), .. Optional(own, "bias", "bias")]);
            case "Conv1d" or "Conv2d" or "Conv3d":
            {
                var w = Need("weight");
                int rank = w.Shape.Rank;
                return ("conv" + (rank - 2) + "d", [("kernel", Indexing.Permute(w, [.. Enumerable.Range(2, rank - 2), 1, 0])), .. Optional(own, "bias", "bias")]);
            }
            case "BatchNorm1d" or "BatchNorm2d" or "BatchNorm3d":
                return ("batch_normalization", [.. Optional(own, "weight", "gamma"), .. Optional(own, "bias", "beta"),
                    ("moving_mean", Need("running_mean")), ("moving_variance", Need("running_var"))]);
            case "LayerNorm":
                return ("layer_normalization", [.. Optional(own, "weight", "gamma"), .. Optional(own, "bias", "beta")]);
            case "Embedding":
                return ("embedding", [("embeddings", Need("weight"))]);
            case "LSTM" or "GRU":
            {
                if (own.Keys.Any(k => !k.EndsWith("_l0", StringComparison.Ordinal)))
                    throw new NotSupportedException($"{where} is stacked or bidirectional; Keras writes each direction and layer as its own layer, so save it in torch's layout");
                bool gru = type == "GRU";
                string cell = gru ? "gru_cell" : "lstm_cell";
                var list = new List<(string, TensorEntry)>
                {
                    ($"{cell}/kernel", Kernel(Need("weight_ih_l0"), gru)),
                    ($"{cell}/recurrent_kernel", Kernel(Need("weight_hh_l0"), gru)),
                };
                if (own.ContainsKey("bias_ih_l0"))
                    list.Add(($"{cell}/bias", gru ? GruBias(Need("bias_ih_l0"), Need("bias_hh_l0")) : LstmBias(Need("bias_ih_l0"), Need("bias_hh_l0"))));
                return (gru ? "gru" : "lstm", list);
            }
            default:
                throw new NotSupportedException($"{where} has weights but no Keras layer WeightScope knows to express it as "
                    + "(Linear, Conv1d/2d/3d, BatchNorm, LayerNorm, Embedding, LSTM, GRU); save it in torch's layout");
        }
    }

    private static IEnumerable<(string, TensorEntry)> Optional(Dictionary<string, TensorEntry> own, string torch, string keras) =>
        own.TryGetValue(torch, out var t) ? [(keras, t)] : [];

    // torch (gates·units, cols) → Keras (cols, gates·units); GRU blocks r, z, n → z, r, h (the swap is its own inverse).
    private static TensorEntry Kernel(TensorEntry w, bool gru)
    {
        var values = Float32(w);
        long rows = w.Shape[0], cols = w.Shape[1], units = rows / (gru ? 3 : 4);
        var result = new float[values.Length];
        for (long r = 0; r < rows; r++)
        {
            long source = gru ? Swap(r, units) : r;
            for (long c = 0; c < cols; c++) result[c * rows + r] = values[source * cols + c];
        }
        return Array(w.Name, result, cols, rows);
    }

    private static TensorEntry LstmBias(TensorEntry ih, TensorEntry hh)
    {
        var a = Float32(ih);
        var b = Float32(hh);
        for (int i = 0; i < a.Length; i++) a[i] += b[i]; // Keras adds one bias where torch adds two
        return Array(ih.Name, a, a.Length);
    }

    private static TensorEntry GruBias(TensorEntry ih, TensorEntry hh)
    {
        var a = Float32(ih);
        var b = Float32(hh);
        long units = a.Length / 3;
        var result = new float[a.Length * 2];
        for (long i = 0; i < a.Length; i++)
        {
            result[i] = a[Swap(i, units)];
            result[a.Length + i] = b[Swap(i, units)];
        }
        return Array(ih.Name, result, 2, a.Length);
    }

    private static long Swap(long row, long units) => row < units ? row + units : row < 2 * units ? row - units : row;

    private static float[] Float32(TensorEntry t) => t.DType == DType.Float32 ? t.ToArray<float>()
        : throw new NotSupportedException($"'{t.Name}' is {t.DType.Name()}; Keras layout is written from float32 recurrent weights");

    private static TensorEntry Array(string name, float[] values, params long[] shape) =>
        new(name, DType.Float32, new Shape(shape), new ArrayStorage(MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), name + " (Keras layout)"), role: TensorRole.Parameter);
}
