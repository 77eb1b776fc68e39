using WeightScope.Tensors;
using WeightScope.Threading;

namespace WeightScope.Analysis;

/// <summary>
/// A tensor's values as float32, in row-major order, a chunk at a time: what every analysis (statistics, histograms,
/// diffs) reads, for every dtype, without a full-size float32 copy of a large tensor. A contiguous little-endian
/// float32 tensor is handed out as spans of the mapped file itself (zero-copy); any other dtype (float16, bfloat16,
/// float8, integers, quantized, GGUF blocks) is converted one chunk at a time into a reused buffer.
/// </summary>
public static class TensorChunks
{
    /// <summary>Elements per chunk: 1 Mi (4 MiB of float32), large enough to amortise the per-chunk work, small enough to stay in cache-sized pieces.</summary>
    public const int DefaultChunkElements = 1 << 20;

    /// <summary>
    /// Calls <paramref name="body"/> with consecutive chunks of <paramref name="tensor"/>'s values and the index of each
    /// chunk's first element. The span is only valid during the call.
    /// </summary>
    /// <param name="tensor">The tensor to read.</param>
    /// <param name="body">Receives each chunk.</param>
    /// <param name="chunkElements">Elements per chunk.</param>
    /// <param name="cancellationToken">Checked before each chunk (a strided view is one chunk).</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; no further chunk is read.</exception>
    public static void ForEach(TensorEntry tensor, ChunkAction body, int chunkElements = DefaultChunkElements, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkElements, 1);
        long count = tensor.ElementCount;
        if (count == 0) return;
        cancellationToken.ThrowIfCancellationRequested();
        if (!IsFlat(tensor))
        {
            body(tensor.ToFloat32(), 0);
            return;
        }
        float[]? buffer = null;
        foreach (var (start, length) in Ranges(count, chunkElements))
        {
            cancellationToken.ThrowIfCancellationRequested();
            Read(tensor, start, length, ref buffer, body);
        }
    }

    /// <summary>
    /// Like <see cref="ForEach"/>, with chunks handed to up to <paramref name="maxThreads"/> threads at once (default: one
    /// per core); <paramref name="body"/> must be safe to call concurrently. Chunk order across threads is not defined.
    /// </summary>
    /// <param name="tensor">The tensor to read.</param>
    /// <param name="body">Receives each chunk, from several threads.</param>
    /// <param name="chunkElements">Elements per chunk.</param>
    /// <param name="maxThreads">Most threads at once; -1 for one per core.</param>
    /// <param name="cancellationToken">Checked before each chunk: once cancelled, no new chunk starts.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static void ForEachParallel(TensorEntry tensor, ChunkAction body, int chunkElements = DefaultChunkElements, int maxThreads = -1,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(body);
        long count = tensor.ElementCount;
        if (count <= chunkElements || Environment.ProcessorCount == 1 || maxThreads == 1 || !IsFlat(tensor))
        {
            ForEach(tensor, body, chunkElements, cancellationToken);
            return;
        }
        var ranges = Ranges(count, chunkElements).ToArray();
        // A chunk that cannot be decoded fails with its own error, the first in order whatever the scheduling.
        OrderedParallel.For(ranges.Length, maxThreads, () => (float[]?)null, (i, buffer) =>
        {
            Read(tensor, ranges[i].Start, ranges[i].Length, ref buffer, body);
            return buffer;
        }, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Calls <paramref name="body"/> with aligned chunks of two tensors of the same element count: the same row-major
    /// element range of each (what a diff reads), zero-copy where each side allows, converted per chunk otherwise.
    /// </summary>
    /// <param name="a">The first tensor.</param>
    /// <param name="b">The second tensor, of as many elements.</param>
    /// <param name="body">Receives each pair of chunks.</param>
    /// <param name="chunkElements">Elements per chunk.</param>
    /// <param name="cancellationToken">Checked before each pair of chunks.</param>
    /// <exception cref="ArgumentException">The tensors hold different numbers of elements.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static void ForEachPair(TensorEntry a, TensorEntry b, PairAction body, int chunkElements = DefaultChunkElements,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkElements, 1);
        if (a.ElementCount != b.ElementCount)
            throw new ArgumentException($"{a.Name} has {a.ElementCount} elements and {b.Name} {b.ElementCount}; chunks cannot be aligned");
        long count = a.ElementCount;
        if (count == 0) return;
        cancellationToken.ThrowIfCancellationRequested();
        if (!IsFlat(a) || !IsFlat(b))
        {
            body(a.ToFloat32(), b.ToFloat32(), 0);
            return;
        }
        float[]? bufferA = null, bufferB = null;
        foreach (var (start, length) in Ranges(count, chunkElements))
        {
            cancellationToken.ThrowIfCancellationRequested();
            body(Values(a, start, length, ref bufferA), Values(b, start, length, ref bufferB), start);
        }
    }

    /// <summary>Receives the same element range of two tensors and the row-major index of its first element.</summary>
    public delegate void PairAction(ReadOnlySpan<float> a, ReadOnlySpan<float> b, long firstElement);

    // Elements [start, start+length) of a flat tensor as float32: the mapped bytes when they already are, else converted into buffer.
    private static ReadOnlySpan<float> Values(TensorEntry tensor, long start, int length, ref float[]? buffer)
    {
        var part = Part(tensor, start, length);
        if (part.DType == DType.Float32 && part.TryGetSpan<float>(out var mapped)) return mapped;
        if (buffer is null || buffer.Length < length) buffer = new float[length];
        var dest = buffer.AsSpan(0, length);
        ElementConverter.ToFloat32(part, dest);
        return dest;
    }

    /// <summary>Receives one chunk of values and the row-major index of its first element.</summary>
    public delegate void ChunkAction(ReadOnlySpan<float> values, long firstElement);

    /// <summary>
    /// The element ranges <see cref="ForEach"/> visits for <paramref name="tensor"/>: consecutive runs of at most
    /// <paramref name="chunkElements"/>, or the whole tensor as one range when it is a strided view or per-channel
    /// quantized. Read each with <see cref="ReadRange"/>; lets a caller schedule the chunks of many tensors at once.
    /// </summary>
    public static IEnumerable<(long Start, int Length)> RangesOf(TensorEntry tensor, int chunkElements = DefaultChunkElements)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.ElementCount == 0) return [];
        if (!IsFlat(tensor)) return [(0, checked((int)tensor.ElementCount))];
        return Ranges(tensor.ElementCount, chunkElements);
    }

    /// <summary>
    /// Reads elements [<paramref name="start"/>, +<paramref name="length"/>) (a range from <see cref="RangesOf"/>) and
    /// calls <paramref name="body"/> with them; <paramref name="buffer"/> is reused across calls on one thread.
    /// </summary>
    public static void ReadRange(TensorEntry tensor, long start, int length, ref float[]? buffer, ChunkAction body)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(body);
        if (!IsFlat(tensor))
        {
            body(tensor.ToFloat32(), 0);
            return;
        }
        Read(tensor, start, length, ref buffer, body);
    }

    private static IEnumerable<(long Start, int Length)> Ranges(long count, int chunkElements)
    {
        for (long start = 0; start < count; start += chunkElements)
            yield return (start, (int)Math.Min(chunkElements, count - start));
    }

    private static void Read(TensorEntry tensor, long start, int length, ref float[]? buffer, ChunkAction body)
    {
        var part = Part(tensor, start, length);
        if (part.DType == DType.Float32 && part.TryGetSpan<float>(out var mapped))
        {
            body(mapped, start);
            return;
        }
        if (buffer is null || buffer.Length < length) buffer = new float[length];
        var dest = buffer.AsSpan(0, length);
        ElementConverter.ToFloat32(part, dest);
        body(dest, start);
    }

    // Chunks are flat views; a strided view (a transposed PyTorch tensor) or a per-channel quantized tensor (whose
    // channel axis a flat view would lose) is read whole instead — both are rare and never the multi-gigabyte case.
    private static bool IsFlat(TensorEntry t) => t.IsContiguous && t.Quantization is not { Scheme: QuantizationScheme.PerChannelAffine };

    // Elements [start, start+length) of a flat tensor as a tensor of their own.
    private static TensorEntry Part(TensorEntry t, long start, int length) =>
        start == 0 && length == t.ElementCount ? t : t.Reshape(t.ElementCount).Slice($"[{start}:{start + length}]");
}
