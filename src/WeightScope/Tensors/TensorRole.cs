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
