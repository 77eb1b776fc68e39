using System.Text;
using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Formats.TorchSharp;

/// <summary>
/// Writes TorchSharp's native format as <c>Module.save</c> does (<c>save_state_dict</c>: LEB128 entry count, then per
/// entry <c>BinaryWriter.Write(key)</c> and <c>Tensor.Save</c>: LEB128 <c>ScalarType</c>, LEB128 rank, LEB128
/// dimensions, the raw little-endian elements). A single tensor named <c>""</c> (what the reader gives for a file
/// written by <c>tensor.Save(writer)</c>) is written as that bare tensor, so such files round-trip byte for byte.
/// The format cannot record shared storage: tied weights are copied or refused (<see cref="WriteOptions.SharedStorage"/>).
/// </summary>
public sealed class TorchSharpWriter : ITensorWriter
{
    /// <inheritdoc />
    public string Name => "torchsharp";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".dat"];

    /// <inheritdoc />
    public void Validate(IReadOnlyList<TensorEntry> tensors, WriteOptions options)
    {
        if (tensors.Count == 0) throw new ModelWriteException("torchsharp: there is no tensor to write");
        foreach (var t in tensors)
        {
            if (ScalarType(t.DType) is null)
                throw new ModelWriteException($"torchsharp: TorchSharp has no element type for '{t.Name}' ({t.DType.Name()}); " +
                                              $"convert it first (--dtype float32){(t.DType.IsQuantized() ? ", which dequantizes it" : "")}");
            if (t.Shape.Rank > TorchSharpRecords.MaxRank)
                throw new ModelWriteException($"torchsharp: '{t.Name}' has {t.Shape.Rank} dimensions; TorchSharp files hold at most {TorchSharpRecords.MaxRank}");
            if (IsBareTensor(tensors)) continue;
            int bytes = Encoding.UTF8.GetByteCount(t.Name);
            if (bytes is < 1 or > TorchSharpRecords.MaxNameBytes || t.Name.Any(char.IsControl))
                throw new ModelWriteException($"torchsharp: state-dict key '{t.Name}' cannot be written: keys are 1 to " +
                                              $"{TorchSharpRecords.MaxNameBytes} bytes of UTF-8 text without control characters; rename it");
        }
        TensorWriters.ApplySharedStoragePolicy(tensors, options with { Warning = null }, Name);
    }

    /// <inheritdoc />
    public void Write(IReadOnlyList<TensorEntry> tensors, Stream output, WriteOptions options)
    {
        TensorWriters.ApplySharedStoragePolicy(tensors, options, Name);
        long written = 0;
        if (IsBareTensor(tensors))
        {
            WriteTensor(tensors[0], output, options.Progress, ref written);
            return;
        }
        WriteLeb128(output, tensors.Count);
        foreach (var t in tensors)
        {
            // BinaryWriter.Write(string): the UTF-8 byte count 7-bit encoded (LEB128), then the bytes.
            var name = Encoding.UTF8.GetBytes(t.Name);
            WriteLeb128(output, name.Length);
            output.Write(name);
            WriteTensor(t, output, options.Progress, ref written);
        }
    }

    private static bool IsBareTensor(IReadOnlyList<TensorEntry> tensors) => tensors is [{ Name: "" }];

    private static void WriteTensor(TensorEntry t, Stream output, IProgress<long>? progress, ref long written)
    {
        WriteLeb128(output, (long)ScalarType(t.DType)!.Value);
        WriteLeb128(output, t.Shape.Rank);
        for (int d = 0; d < t.Shape.Rank; d++) WriteLeb128(output, t.Shape[d]);
        TensorBytes.WriteTo(t, output, progress, ref written);
    }

    /// <summary>TorchSharp's <c>LEB128Codec.Encode</c>: 7 bits per byte, low group first, high bit set on all but the last.</summary>
    private static void WriteLeb128(Stream output, long value)
    {
        Span<byte> buffer = stackalloc byte[TorchSharpRecords.MaxLeb128Bytes];
        int n = 0;
        ulong v = (ulong)value;
        do
        {
            byte b = (byte)(v & 0x7F);
            v >>= 7;
            buffer[n++] = v != 0 ? (byte)(b | 0x80) : b;
        }
        while (v != 0);
        output.Write(buffer[..n]);
    }

    private static TorchSharpScalarType? ScalarType(DType t) => t switch
    {
        DType.UInt8 => TorchSharpScalarType.Byte,
        DType.Int8 => TorchSharpScalarType.Int8,
        DType.Int16 => TorchSharpScalarType.Int16,
        DType.Int32 => TorchSharpScalarType.Int32,
        DType.Int64 => TorchSharpScalarType.Int64,
        DType.Float16 => TorchSharpScalarType.Float16,
        DType.Float32 => TorchSharpScalarType.Float32,
        DType.Float64 => TorchSharpScalarType.Float64,
        DType.Complex64 => TorchSharpScalarType.ComplexFloat32,
        DType.Complex128 => TorchSharpScalarType.ComplexFloat64,
        DType.Bool => TorchSharpScalarType.Bool,
        DType.BFloat16 => TorchSharpScalarType.BFloat16,
        _ => null,
    };
}
