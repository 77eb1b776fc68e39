using System.Runtime.InteropServices;
using TorchSharp;
using WeightScope.Tensors;

namespace WeightScope.TorchSharp;

/// <summary>
/// Copies a <see cref="SourceTensor"/>'s values into a module tensor. When the file's type is the parameter's and the
/// parameter is a contiguous CPU tensor (the usual case), the bytes go straight from the mapped file into the
/// parameter's storage: no managed array, no intermediate tensor. Otherwise one staging CPU tensor of the file's type
/// (float32 for types torch lacks: quantized, float8, uint16; float64 for uint32/uint64) is filled the same way and
/// torch's <c>copy_</c> converts it to the parameter's type and device.
/// </summary>
internal static class ValueCopy
{
    // Blocks are copied in pieces of at most this many bytes: TorchSharp's spans stop at 2 GB, and pieces keep any
    // temporary buffer of a strided read small.
    // (Settable by the tests, which make it tiny so that small fixtures take the piece paths.)
    internal static long PieceBytes = 256L << 20;

    public static void Copy(SourceTensor source, torch.Tensor target)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        bool dequantize = source.Blocks.Any(b => b.Quantization is not null || b.DType.IsQuantized());
        var natural = dequantize ? null : TorchDTypes.ToScalarType(source.DType);
        var stagingType = natural ?? (source.DType is DType.UInt32 or DType.UInt64 ? torch.ScalarType.Float64 : torch.ScalarType.Float32);
        // A large permuted tensor (a Keras Dense kernel of a vocabulary head): read as stored, in row pieces, and let
        // torch permute it — gathering through the strided view would read the whole stored extent once per piece.
        if (source.Stored is { } stored && source.Order is { } order && stored.ByteSize > PieceBytes)
        {
            var whole = torch.empty(stored.Shape.ToArray(), stagingType);
            var plain = SourceTensor.Of(stored);
            if (natural is not null) WriteRaw(plain, whole);
            else WriteConverted(plain, whole);
            target.copy_(whole.permute(order.Select(i => (long)i).ToArray()));
            return;
        }
        if (natural == target.dtype && target.device_type == DeviceType.CPU && target.is_contiguous())
        {
            WriteRaw(source, target);
            return;
        }
        var staging = torch.empty(source.Shape.ToArray(), stagingType);
        if (natural is not null) WriteRaw(source, staging);
        else WriteConverted(source, staging);
        target.copy_(staging);
    }

    private static void WriteRaw(SourceTensor source, torch.Tensor dest)
    {
        long offset = 0;
        foreach (var (piece, bytes) in Pieces(source))
        {
            piece.CopyBytesTo(Destination(dest, offset, bytes));
            offset += bytes;
        }
    }

    private static void WriteConverted(SourceTensor source, torch.Tensor dest)
    {
        long offset = 0;
        int item = (int)dest.ElementSize;
        foreach (var (piece, _) in Pieces(source))
        {
            long bytes = piece.ElementCount * item;
            var span = Destination(dest, offset, bytes);
            if (item == 4) ElementConverter.ToFloat32(piece, MemoryMarshal.Cast<byte, float>(span));
            else ElementConverter.ToFloat64(piece, MemoryMarshal.Cast<byte, double>(span));
            offset += bytes;
        }
    }

    // The blocks, each cut along its first dimension into pieces of at most PieceBytes, in row-major order.
    private static IEnumerable<(TensorEntry Piece, long Bytes)> Pieces(SourceTensor source)
    {
        foreach (var block in source.Blocks)
        {
            // (Per-channel quantized pieces are slice views with their own channels' scales; block-quantized values
            // decode whole ggml blocks, which a row piece need not start at: those are read whole.)
            if (block.ByteSize <= PieceBytes || block.Shape.Rank == 0 || block.Quantization is { Scheme: QuantizationScheme.Block })
            {
                yield return (block, block.ByteSize);
                continue;
            }
            long rowBytes = block.ByteSize / block.Shape[0];
            long rows = Math.Max(1, PieceBytes / Math.Max(1, rowBytes));
            if (rowBytes > int.MaxValue) throw new NotSupportedException($"tensor '{block.Name}' has rows of more than 2 GB");
            for (long r = 0; r < block.Shape[0]; r += rows)
            {
                var piece = SourceTensor.Rows(block, r, Math.Min(rows, block.Shape[0] - r));
                yield return (piece, piece.ByteSize);
            }
        }
    }

    // Bytes [offset, offset + length) of a contiguous CPU tensor, as a span over its storage.
    private static Span<byte> Destination(torch.Tensor dest, long offset, long length)
    {
        long total = dest.NumberOfElements * dest.ElementSize;
        if (total <= int.MaxValue) return dest.bytes.Slice((int)offset, (int)length);
        long item = dest.ElementSize;
        return dest.view(-1).narrow(0, offset / item, length / item).bytes;
    }
}
