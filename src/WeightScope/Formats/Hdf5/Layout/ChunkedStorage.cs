using WeightScope.Tensors;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>Writes a chunked dataset's bytes, in row-major order, into a span of exactly its size.</summary>
internal delegate void ChunkedAssembler(Span<byte> output);

/// <summary>
/// A chunked dataset's bytes, assembled from its chunks when first read. A read of the whole dataset (what
/// <c>ToArray</c> and <c>ReadBytes</c> ask for) is assembled straight into the caller's buffer and not kept, as h5py's
/// <c>ds[()]</c> reads into a fresh array; partial reads and zero-copy spans assemble once and keep the bytes.
/// </summary>
internal sealed class ChunkedStorage(long byteLength, ChunkedAssembler assemble, string key) : TensorStorage(key)
{
    private byte[]? _cache;
    private object? _lock;

    /// <inheritdoc />
    public override long ByteLength => byteLength;

    /// <inheritdoc />
    protected override void ReadCore(long offset, Span<byte> destination)
    {
        if (offset == 0 && destination.Length == byteLength && Volatile.Read(ref _cache) is null)
        {
            assemble(destination);
            return;
        }
        Cached().AsSpan((int)offset, destination.Length).CopyTo(destination);
    }

    /// <inheritdoc />
    protected override bool TryGetSpanCore(long offset, int length, out ReadOnlySpan<byte> span)
    {
        span = Cached().AsSpan((int)offset, length);
        return true;
    }

    private byte[] Cached() => LazyInitializer.EnsureInitialized(ref _cache, ref _lock, () =>
    {
        var bytes = new byte[byteLength];
        assemble(bytes);
        return bytes;
    });
}
