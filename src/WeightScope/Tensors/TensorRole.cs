namespace WeightScope.Tensors;

/// <summary>What a tensor is to the model, as far as the file tells.</summary>
public enum TensorRole
{
    /// <summary>A trainable parameter (<c>nn.Parameter</c>, Keras trainable weight).</summary>
    Parameter,
    /// <summary>A buffer: state that is saved but not trained (BatchNorm running stats, <c>num_batches_tracked</c>).</summary>
    Buffer,
    /// <summary>Optimizer state (momentum, Adam moments).</summary>
    OptimizerState,
    /// <summary>Anything else, or unknown (a bare state dict does not say which tensors are parameters).</summary>
    Other,
    /// <summary>
    /// Weights a module keeps packed, unpacked for reading: the weight, bias, scale and zero point of quantized
    /// modules (TorchScript packed-parameter objects, a quantized conv's <c>__getstate__</c> tuple). A TorchScript
    /// module's <c>state_dict()</c> leaves them out, so <c>list</c> shows them only with <c>--all</c>.
    /// </summary>
    Packed,
    /// <summary>
    /// A tensor a module holds as a plain attribute, neither parameter nor buffer (a TorchScript <c>Tensor</c> or
    /// <c>List[Tensor]</c> attribute): outside <c>state_dict()</c>, listed only with <c>list --all</c>.
    /// </summary>
    Attribute,
    /// <summary>
    /// A constant of the model's code (TorchScript's constants table: every weight of a frozen module):
    /// outside <c>state_dict()</c>, listed only with <c>list --all</c>.
    /// </summary>
    Constant,
}

/// <summary>Facts about <see cref="TensorRole"/> values.</summary>
public static class TensorRoles
{
    /// <summary>
    /// True for the roles of tensors a file holds outside the model's <c>state_dict()</c> (<see cref="TensorRole.Packed"/>,
    /// <see cref="TensorRole.Attribute"/>, <see cref="TensorRole.Constant"/>): readable by name, left out of default listings.
    /// </summary>
    public static bool IsOutsideStateDict(this TensorRole role) => role is TensorRole.Packed or TensorRole.Attribute or TensorRole.Constant;
}

/// <summary>How a quantized tensor maps its integers to real values.</summary>
public enum QuantizationScheme
{
    /// <summary>One scale and zero point for the whole tensor.</summary>
    PerTensorAffine,
    /// <summary>One scale and zero point per slice along <see cref="QuantizationInfo.Axis"/>.</summary>
    PerChannelAffine,
    /// <summary>
    /// Values stored in blocks that carry their own scales (GGUF/ggml <c>q4_0</c>, <c>q6_k</c>…): the tensor's dtype is
    /// the dequantized float32 view, <see cref="QuantizationInfo.BlockType"/> names the encoding, and
    /// <see cref="QuantizationInfo.Scales"/> and <see cref="QuantizationInfo.ZeroPoints"/> are empty.
    /// </summary>
    Block,
}

/// <summary>Quantization parameters: real value = (q − zero_point) × scale.</summary>
public sealed record QuantizationInfo
{
    /// <summary>Per tensor or per channel.</summary>
    public required QuantizationScheme Scheme { get; init; }

    /// <summary>Scales: one element per tensor, or one per channel.</summary>
    public required double[] Scales { get; init; }

    /// <summary>Zero points, matching <see cref="Scales"/>.</summary>
    public required long[] ZeroPoints { get; init; }

    /// <summary>Channel axis for <see cref="QuantizationScheme.PerChannelAffine"/>; -1 otherwise.</summary>
    public int Axis { get; init; } = -1;

    /// <summary>For <see cref="QuantizationScheme.Block"/>: the stored block type (<c>q4_0</c>, <c>q6_k</c>, …); null otherwise.</summary>
    public string? BlockType { get; init; }
}
