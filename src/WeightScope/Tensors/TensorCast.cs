using System.Runtime.InteropServices;
using WeightScope.Analysis;

namespace WeightScope.Tensors;

/// <summary>
/// Floating-point dtype conversion as PyTorch's <c>tensor.to(dtype)</c> does it: float32 → float16 and → bfloat16 round to
/// nearest, ties to even (c10's <c>round_to_nearest_even</c>; NaN stays NaN, overflow becomes ±inf). Every source is read
/// as float32 first, as c10's <c>Half</c>/<c>BFloat16</c> constructors take a float, so a float64 source is rounded twice,
/// exactly as torch rounds it.
/// </summary>
public static class TensorCast
{
    /// <summary>The float types <see cref="Cast"/> converts to.</summary>
    public static bool IsTarget(DType t) => t is DType.Float16 or DType.BFloat16 or DType.Float32 or DType.Float64;

    /// <summary>True when <see cref="Cast"/> would convert <paramref name="t"/>: floating-point tensors (the ones
    /// <c>model.half()</c> converts, GGUF's block-quantized ones included, whose dtype is their float32 view) and
    /// affine-quantized ones, which are dequantized (<c>t.dequantize().to(dtype)</c>). Integers and bools are kept.</summary>
    public static bool Converts(TensorEntry t) => t.DType.IsFloatingPoint() || t.DType.IsQuantized();

    /// <summary>
    /// <paramref name="tensor"/> as <paramref name="target"/>, converted lazily (when its values are read), with the same
    /// name, shape and role; the tensor itself when it already has that dtype or is not floating-point.
    /// </summary>
    public static TensorEntry Cast(TensorEntry tensor, DType target)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!IsTarget(target)) throw new ArgumentException($"cannot convert to {target.Name()}: the targets are float16, bfloat16, float32 and float64", nameof(target));
        if (!Converts(tensor) || (tensor.DType == target && tensor.Quantization is null)) return tensor;
        long bytes = checked(tensor.ElementCount * target.ItemSize());
        if (bytes > Array.MaxLength)
            throw new NotSupportedException($"tensor '{tensor.Name}' as {target.Name()} would be {bytes} bytes, more than one array holds (2 GB); converting larger tensors is not supported yet");
        var storage = new DecodedStorage(bytes, () => Convert(tensor, target, bytes), $"{tensor.Storage.Key}->{target.Name()}");
        return new TensorEntry(tensor.Name, target, tensor.Shape, storage, role: tensor.Role);
    }

    private static byte[] Convert(TensorEntry tensor, DType target, long bytes)
    {
        if (bytes > Array.MaxLength) throw new NotSupportedException($"tensor '{tensor.Name}' as {target.Name()} would need {bytes} bytes, more than one array holds");
        var result = GC.AllocateUninitializedArray<byte>((int)bytes);
        if (target == DType.Float64 && tensor.DType == DType.Float64)
        {
            tensor.CopyBytesTo(result); // dequantization aside, nothing to convert
            return result;
        }
        if (target == DType.Float64)
        {
            // Widening is exact: read as float64 directly (float32 first would lose nothing, but float64 sources stay exact).
            ElementConverter.ToFloat64(tensor, MemoryMarshal.Cast<byte, double>(result.AsSpan()));
            return result;
        }
        int item = target.ItemSize();
        TensorChunks.ForEach(tensor, (chunk, start) => Narrow(chunk, target, result.AsSpan((int)(start * item), chunk.Length * item)));
        return result;
    }

    /// <summary>
    /// Writes float32 values as <paramref name="target"/> (float32, float16 or bfloat16) into <paramref name="destination"/>,
    /// rounding to nearest even as c10 does; shared by casts and <see cref="Writing.TensorEdits.Scaled"/>.
    /// </summary>
    internal static void Narrow(ReadOnlySpan<float> values, DType target, Span<byte> destination)
    {
        switch (target)
        {
            case DType.Float32:
                values.CopyTo(MemoryMarshal.Cast<byte, float>(destination));
                break;
            case DType.Float16:
                System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(values, MemoryMarshal.Cast<byte, Half>(destination));
                break;
            case DType.BFloat16:
                var bf = MemoryMarshal.Cast<byte, ushort>(destination);
                for (int i = 0; i < values.Length; i++) bf[i] = ToBFloat16(values[i]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(target), target, "float32, float16 or bfloat16");
        }
    }

    /// <summary>float32 → bfloat16 bits, rounding to nearest even; NaN → 0x7FC0 (c10's <c>round_to_nearest_even</c>).</summary>
    public static ushort ToBFloat16(float value)
    {
        if (float.IsNaN(value)) return 0x7FC0;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint bias = ((bits >> 16) & 1) + 0x7FFF;
        return (ushort)((bits + bias) >> 16);
    }
}
