using WeightScope.Tensors;

namespace WeightScope.Export;

/// <summary>How <see cref="GateSplit"/> finds and orders gates.</summary>
public sealed class GateSplitOptions
{
    /// <summary>
    /// The framework whose layout the weights have; null detects it from the names (PyTorch <c>weight_hh_l0</c>, Keras
    /// <c>recurrent_kernel</c>) and, for ONNX, from the model's <c>GRU</c>/<c>LSTM</c> nodes. Set, only that layout is looked for.
    /// </summary>
    public GateLayout? Layout { get; init; }

    /// <summary>
    /// The order the gate tensors come out in: letters such as <c>"i,f,g,o"</c>, <c>"z,r,n"</c> or <c>"zrh"</c> (any
    /// framework's letters: n = h, g = c), which apply to the cells of that kind (a GRU order leaves LSTMs in storage
    /// order); or a framework name (<c>pytorch</c>, <c>keras</c>, <c>onnx</c>) for that framework's order of both.
    /// Null keeps the order the weights are stored in.
    /// </summary>
    public string? GateOrder { get; init; }
}

/// <summary>One tensor that was split into gates.</summary>
/// <param name="Source">The stacked tensor's name.</param>
/// <param name="Layout">The framework layout it was read as.</param>
/// <param name="Cell">GRU or LSTM.</param>
/// <param name="Gates">The gate letters (the source framework's) in output order, e.g. <c>rzn</c>.</param>
/// <param name="Outputs">The gate tensors' names, in output order.</param>
public sealed record GateSplitRecord(string Source, GateLayout Layout, RecurrentCell Cell, string Gates, IReadOnlyList<string> Outputs);

/// <summary>What <see cref="GateSplit.Run(IReadOnlyList{TensorEntry}, GateSplitOptions, Modules.ModuleNode?)"/> did.</summary>
/// <param name="Tensors">The tensors, each split one replaced in place by its gate views; the rest unchanged.</param>
/// <param name="Split">The tensors that were split, in input order.</param>
/// <param name="Notes">Recurrent weights that were recognised but left whole, and why.</param>
public sealed record GateSplitResult(IReadOnlyList<TensorEntry> Tensors, IReadOnlyList<GateSplitRecord> Split, IReadOnlyList<string> Notes);
