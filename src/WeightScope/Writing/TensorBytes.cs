using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
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
        if (!tensor.IsContiguous)
        {
            // A strided view is gathered whole (CopyBytesTo walks its strides); views beyond one array are refused
            // clearly rather than failing inside the gather.
            if (size > Array.MaxLength)
                throw new ModelWriteException($"tensor '{tensor.Name}' is a strided view of {size} bytes; views over 2 GB cannot be written yet " +
                                              "(write the tensor it views, or a slice of this one)");
            var gathered = GC.AllocateUninitializedArray<byte>((int)size);
            tensor.CopyBytesTo(gathered);
            output.Write(gathered);
            written += size;
            progress?.Report(written);
            return;
        }
        WriteRange(tensor.Storage, tensor.StorageOffset * tensor.DType.ItemSize(), size, tensor.DType, tensor.IsBigEndian, output, progress, ref written);
    }

    /// <summary>
    /// Writes <paramref name="size"/> bytes of <paramref name="storage"/> from <paramref name="start"/>, elements of
    /// <paramref name="dtype"/>, as little-endian (swapped when <paramref name="bigEndian"/>) with bools as 0 and 1
    /// (<see cref="BoolBytes"/>): the one place a writer copies a storage's bytes.
    /// </summary>
    public static void WriteRange(TensorStorage storage, long start, long size, DType dtype, bool bigEndian, Stream output, IProgress<long>? progress, ref long written)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(output);
        if (size == 0) return;
        // Small ranges straight from the mapping; large ones through Storage.Read into a reused buffer, which for a
        // mapped file is a positional read: the kernel's copy is ~3x faster than faulting the mapping in page by page
        // (measured for HDF5 reads, bench/RESULTS.md), and the file's pages are not counted in our resident set.
        if (size <= SmallBytes && !bigEndian && storage.TryGetSpan(start, (int)size, out var span)
            && (dtype != DType.Bool || BoolBytes.AreCanonical(span)))
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
                storage.Read(start + off, buffer.AsSpan(0, n));
                if (bigEndian) ToLittleEndian(buffer.AsSpan(0, n), dtype);
                if (dtype == DType.Bool) BoolBytes.Canonicalize(buffer.AsSpan(0, n)); // written as numpy reads it: 0 or 1
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

    // Chunks are multiples of 4 MiB, so they never split an element (at most 16 bytes).
    private static void ToLittleEndian(Span<byte> data, DType dtype)
    {
        int item = dtype.IsComplex() ? dtype.ItemSize() / 2 : dtype.ItemSize(); // complex: each component swapped
        switch (item)
        {
            case 2: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ushort>(data), MemoryMarshal.Cast<byte, ushort>(data)); break;
            case 4: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, uint>(data), MemoryMarshal.Cast<byte, uint>(data)); break;
            case 8: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ulong>(data), MemoryMarshal.Cast<byte, ulong>(data)); break;
        }
    }
}
