using System.Buffers;
using WeightScope.Tensors;

namespace WeightScope.Writing;

/// <summary>Streams a tensor's values, row-major and little-endian, into a writer's output without a full-size copy where it can.</summary>
public static class TensorBytes
{
    private const int ChunkBytes = 4 << 20;
    private const int SmallBytes = 1 << 20;

    /// <summary>
    /// Writes <paramref name="tensor"/>'s bytes to <paramref name="output"/>: a contiguous little-endian tensor in 4 MiB
    /// pieces straight from its storage; any other view (strided, big-endian) gathered first.
    /// </summary>
    /// <param name="tensor">The tensor.</param>
    /// <param name="output">Where the bytes go.</param>
    /// <param name="progress">Receives the running total; <paramref name="written"/> is its starting value.</param>
    /// <param name="written">Bytes written before this tensor (for <paramref name="progress"/>); updated.</param>
    public static void WriteTo(TensorEntry tensor, Stream output, IProgress<long>? progress, ref long written)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(output);
        long size = tensor.ByteSize;
        if (size == 0) return;
        if (!tensor.IsContiguous || tensor.IsBigEndian)
        {
            output.Write(tensor.ReadBytes());
            written += size;
            progress?.Report(written);
            return;
        }
        long start = tensor.StorageOffset * tensor.DType.ItemSize();
        // Small tensors straight from the mapping; large ones through Storage.Read into a reused buffer, which for a
        // mapped file is a positional read: the kernel's copy is ~3x faster than faulting the mapping in page by page
        // (measured for HDF5 reads, bench/RESULTS.md), and the file's pages are not counted in our resident set.
        if (size <= SmallBytes && tensor.Storage.TryGetSpan(start, (int)size, out var span))
        {
            output.Write(span);
            written += size;
            progress?.Report(written);
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(size, ChunkBytes));
        try
        {
            for (long off = 0; off < size; off += ChunkBytes)
            {
                int n = (int)Math.Min(ChunkBytes, size - off);
                tensor.Storage.Read(start + off, buffer.AsSpan(0, n));
                output.Write(buffer, 0, n);
                written += n;
                progress?.Report(written);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
