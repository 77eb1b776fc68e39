using WeightScope.Tensors;

namespace WeightScope.Modules;

/// <summary>
/// Where Keras and PyTorch lay out the same kind of weight differently, the note a reader needs before copying the
/// numbers across: a Keras <c>Dense</c> kernel is (in, out) where a PyTorch <c>nn.Linear</c> weight is (out, in);
/// convolution kernels put the channels last; GRU gates come in another order. Layouts are from the two frameworks'
/// layer definitions (Keras <c>Dense.build</c>, <c>BaseConv.build</c>, <c>LSTMCell/GRUCell.build</c>; torch
/// <c>nn.Linear</c>, <c>nn._ConvNd</c>, <c>nn.LSTM</c>/<c>nn.GRU</c> docs).
/// </summary>
public static class LayoutNotes
{
    /// <summary>The note for <paramref name="tensor"/> of <paramref name="model"/>, or null when its layout is the same as PyTorch's (or unknown).</summary>
    public static string? For(ModelFile model, TensorEntry tensor)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensor);
        if (!IsKerasModel(model.Format)) return null;
        foreach (var node in model.Modules.Descendants())
        {
            foreach (var (local, t) in node.Parameters.Concat(node.Buffers))
                if (ReferenceEquals(t, tensor)) return ForKeras(node.Type ?? "", LastSegment(local), tensor.Shape);
        }
        return null;
    }

    /// <summary>
    /// True for files that hold a Keras model, whose layers keep Keras's layouts and are read through
    /// <c>model.summary()</c>: Keras 1/2 <c>.h5</c>, Keras 3 <c>.keras</c>/<c>.weights.h5</c>, TensorFlow.js
    /// layers-models (a Keras model converted by tfjs), and tf.keras SavedModels.
    /// </summary>
    public static bool IsKerasModel(ModelFormatInfo format)
    {
        ArgumentNullException.ThrowIfNull(format);
        return format.Name.StartsWith("keras", StringComparison.Ordinal)
            || (format.Name == "tfjs" && format.Version?.StartsWith("layers-model", StringComparison.Ordinal) == true)
            || (format.Name == Formats.TensorFlow.SavedModel.TfSavedModelFormat.FormatName
                && format.Producer?.StartsWith(Formats.TensorFlow.SavedModel.TfSavedModelFormat.KerasProducer, StringComparison.Ordinal) == true);
    }

    private static string LastSegment(string local) => local[(local.LastIndexOf('/') + 1)..];

    internal static string? ForKeras(string type, string local, Shape shape)
    {
        int rank = shape.Rank;
        string dims = Tuple(shape);
        bool transposeConv = type.Contains("Transpose", StringComparison.Ordinal);
        if (local == "kernel" && rank == 2 && type.EndsWith("Dense", StringComparison.Ordinal) && type != "EinsumDense")
            return $"a Keras {type} kernel is (in, out) = {dims}; a PyTorch nn.Linear weight is (out, in): "
                 + "add --transpose (-T) to see it in PyTorch's layout.";
        if (local == "kernel" && rank is >= 3 and <= 5 && type.Contains("Conv", StringComparison.Ordinal) && !type.Contains("LSTM", StringComparison.Ordinal))
        {
            int n = rank - 2;
            string spatial = string.Join(", ", Enumerable.Range(0, n).Select(i => "k" + (i + 1)));
            string permute = $"permute({rank - 1}, {rank - 2}, {string.Join(", ", Enumerable.Range(0, n))})";
            return transposeConv
                ? $"a Keras {type} kernel is ({spatial}, out, in) = {dims}; a PyTorch ConvTranspose{n}d weight is "
                  + $"(in, out, {spatial}): w.{permute}."
                : $"a Keras {type} kernel is ({spatial}, in, out) = {dims}; a PyTorch Conv{n}d weight is "
                  + $"(out, in, {spatial}): w.{permute}.";
        }
        if (local == "depthwise_kernel" && rank == 4)
            return $"a Keras {type} depthwise kernel is (k1, k2, in, multiplier) = {dims}; a PyTorch Conv2d(groups=in) "
                 + "weight is (in·multiplier, 1, k1, k2): w.permute(2, 3, 0, 1).reshape(-1, 1, k1, k2).";
        if (local is "kernel" or "recurrent_kernel" && rank == 2 && Recurrent(type) is { } gates)
        {
            string torchName = local == "kernel" ? "weight_ih_l0" : "weight_hh_l0";
            string keras = local == "kernel" ? "(in, " : "(units, ";
            return gates == 4
                ? $"a Keras LSTM {local} is {keras}4·units) = {dims}, gates i, f, c, o along the columns; PyTorch's LSTM "
                  + $"{torchName} is (4·hidden, …) with gates i, f, g, o along the rows: transpose (-T), same gate order."
                : $"a Keras GRU {local} is {keras}3·units) = {dims}, gates z, r, h along the columns; PyTorch's GRU "
                  + $"{torchName} is (3·hidden, …) with gates r, z, n along the rows: transpose (-T) and swap the first two gate blocks.";
        }
        return null;
    }

    // Gate blocks: LSTM 4, GRU 3. (A Bidirectional wrapper's node has the wrapper's type; no note there rather than a guess.)
    private static int? Recurrent(string type)
    {
        if (type.Contains("LSTM", StringComparison.Ordinal)) return 4;
        if (type.Contains("GRU", StringComparison.Ordinal)) return 3;
        return null;
    }

    private static string Tuple(Shape shape) => shape.Rank == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
}
