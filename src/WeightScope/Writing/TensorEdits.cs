using System.Runtime.InteropServices;
using WeightScope.Analysis;
using WeightScope.Tensors;

namespace WeightScope.Writing;

/// <summary>
/// Edits of a set of tensors, as <c>weightscope edit</c> makes them: every edit returns a new lazy tensor (the input file
/// is not touched; values are computed when the result is written), with the name, shape, dtype and role of the one it
/// replaces. The PyTorch and Keras operations they stand for are named on each.
/// </summary>
public static class TensorEdits
{
    /// <summary><c>param.zero_()</c>: the same tensor filled with zeros.</summary>
    /// <exception cref="ModelWriteException">The tensor is quantized (its zero is (0 − zero_point) × scale, not 0).</exception>
    public static TensorEntry Zeroed(TensorEntry tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        RefuseQuantized(tensor, "zero");
        // All-zero bytes are 0 in every IEEE and integer dtype, and false for bool; nothing is allocated for them.
        var storage = new ZeroStorage(tensor.ByteSize, $"zeros:{tensor.Name}");
        return new TensorEntry(tensor.Name, tensor.DType, tensor.Shape, storage, role: tensor.Role);
    }

    /// <summary>
    /// <c>param.mul_(k)</c>: each value times <paramref name="factor"/>, computed as torch 1.13 computes it: the factor is
    /// first rounded to the tensor's dtype (so 0.1 on a float16 tensor is 0.0999755859375, and 1e30 is inf), the product
    /// is taken in float32 (float64 for float64) and rounded back to the dtype, to nearest even.
    /// </summary>
    /// <exception cref="ModelWriteException">The tensor is not floating-point (torch refuses to write a float product into an integer tensor).</exception>
    public static TensorEntry Scaled(TensorEntry tensor, double factor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        RefuseQuantized(tensor, "scale");
        if (tensor.DType is not (DType.Float32 or DType.Float16 or DType.BFloat16 or DType.Float64))
            throw new ModelWriteException($"cannot scale '{tensor.Name}': it is {tensor.DType.Name()}, and a scaled value would not fit that dtype " +
                                          "(torch: result type Float can't be cast to the desired output type)");
        long bytes = tensor.ByteSize;
        if (bytes > Array.MaxLength)
            throw new ModelWriteException($"cannot scale '{tensor.Name}': {bytes} bytes is more than one array holds (2 GB); scaling larger tensors is not supported yet");
        var storage = new DecodedStorage(bytes, () => Scale(tensor, factor), $"scaled:{tensor.Name}");
        return new TensorEntry(tensor.Name, tensor.DType, tensor.Shape, storage, role: tensor.Role);
    }

    /// <summary>
    /// Keras <c>set_weights</c> / <c>param.copy_(value)</c> with the strictness of <c>load_state_dict</c>: the values of
    /// <paramref name="replacement"/> under <paramref name="tensor"/>'s name and role. Shape and dtype must both match.
    /// </summary>
    /// <exception cref="ModelWriteException">Shape or dtype differ; the message shows both.</exception>
    public static TensorEntry Replaced(TensorEntry tensor, TensorEntry replacement)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(replacement);
        if (!tensor.Shape.Equals(replacement.Shape) || tensor.DType != replacement.DType)
            throw new ModelWriteException(
                $"cannot set '{tensor.Name}': it is {tensor.DType.Name()}{tensor.Shape}, the new value '{replacement.Name}' is " +
                $"{replacement.DType.Name()}{replacement.Shape}; shape and dtype must match" +
                (tensor.Shape.Equals(replacement.Shape) ? $" (save the new value as {tensor.DType.Name()})" : ""));
        return new TensorEntry(tensor.Name, replacement.DType, replacement.Shape, replacement.Storage, replacement.StorageOffset,
            [.. replacement.Strides], tensor.Role, replacement.IsBigEndian, replacement.Quantization);
    }

    private static void RefuseQuantized(TensorEntry t, string what)
    {
        if (t.DType.IsQuantized() || t.Quantization is not null)
            throw new ModelWriteException($"cannot {what} '{t.Name}': it is quantized ({t.DType.Name()}); convert it to float first (--dtype float32)");
    }

    private static byte[] Scale(TensorEntry tensor, double factor)
    {
        var result = GC.AllocateUninitializedArray<byte>(checked((int)tensor.ByteSize));
        if (tensor.DType == DType.Float64)
        {
            var d = MemoryMarshal.Cast<byte, double>(result.AsSpan());
            ElementConverter.ToFloat64(tensor, d);
            System.Numerics.Tensors.TensorPrimitives.Multiply(d, factor, d);
            return result;
        }
        // c10 converts a double scalar to Half/BFloat16 through float, as its constructors take a float.
        float k = tensor.DType switch
        {
            DType.Float16 => (float)(Half)(float)factor,
            DType.BFloat16 => ElementConverter.BFloat16ToSingle(TensorCast.ToBFloat16((float)factor)),
            _ => (float)factor,
        };
        int item = tensor.DType.ItemSize();
        TensorChunks.ForEach(tensor, (chunk, start) =>
        {
            var scaled = new float[chunk.Length];
            System.Numerics.Tensors.TensorPrimitives.Multiply(chunk, k, scaled);
            TensorCast.Narrow(scaled, tensor.DType, result.AsSpan((int)(start * item), chunk.Length * item));
        });
        return result;
    }
}

/// <summary>A storage of zero bytes of any length: reads fill with zeros, nothing is kept in memory.</summary>
internal sealed class ZeroStorage(long byteLength, string key) : TensorStorage(key)
{
    /// <inheritdoc />
    public override long ByteLength => byteLength;

    /// <inheritdoc />
    protected override void ReadCore(long offset, Span<byte> destination)
    {
        destination.Clear();
    }
}
