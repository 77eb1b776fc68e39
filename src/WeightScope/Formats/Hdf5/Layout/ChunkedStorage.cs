using WeightScope.Tensors;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>
/// A chunked dataset's bytes, decoded from its chunks when read. A read of the whole dataset (what <c>ToArray</c> and
/// <c>ReadBytes</c> ask for) is assembled straight into the caller's buffer and not kept, as h5py's <c>ds[()]</c> reads
/// into a fresh array. Other reads of a dataset up to <see cref="KeepWholeBytes"/> assemble it once and keep it (partial
/// reads and zero-copy spans); a larger dataset is never assembled whole: each read decodes only the chunks it overlaps
/// (<see cref="ChunkedDataset.ReadRange"/>), and it offers no spans. So printing the edges of a 1.8 GB dataset whose
/// chunks were never written reads a few fill-value chunks, not 1.8 GB (issue 17 §4).
/// </summary>
internal sealed class ChunkedStorage(ChunkedDataset dataset, string key) : TensorStorage(key)
{
    /// <summary>Largest dataset assembled whole for a partial read: above it, memory would grow with the dataset.</summary>
    internal const long KeepWholeBytes = 256L << 20;

    private byte[]? _cache;
    private object? _lock;

    /// <inheritdoc />
    public override long ByteLength => dataset.ByteLength;

    // Whether the whole dataset may be assembled into one array and kept.
    private bool KeptWhole => dataset.ByteLength <= KeepWholeBytes;

    /// <inheritdoc />
    protected override void ReadCore(long offset, Span<byte> destination)
    {
        if (offset == 0 && destination.Length == ByteLength && Volatile.Read(ref _cache) is null)
        {
            dataset.AssembleInto(destination);
            return;
        }
        if (!KeptWhole)
        {
            dataset.ReadRange(offset, destination);
            return;
        }
        Cached().AsSpan((int)offset, destination.Length).CopyTo(destination);
    }

    /// <inheritdoc />
    protected override bool TryGetSpanCore(long offset, int length, out ReadOnlySpan<byte> span)
    {
        if (!KeptWhole)
        {
            span = default;
            return false;
        }
        span = Cached().AsSpan((int)offset, length);
        return true;
    }

    private byte[] Cached() => LazyInitializer.EnsureInitialized(ref _cache, ref _lock, () =>
    {
        var bytes = new byte[ByteLength];
        dataset.AssembleInto(bytes);
        return bytes;
    });
}
