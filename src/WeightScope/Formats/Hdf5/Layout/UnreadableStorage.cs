using WeightScope.Tensors;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>
/// The values of a dataset that cannot be read (a layout, filter or chunk index this reader does not handle, external
/// files that are missing or refused, a damaged storage message): the dataset is listed like any other — its name,
/// dtype and shape are known — and every read of its values fails with <see cref="Reason"/>, which names the file, the
/// format, the dataset, the offset and what is wrong. One dataset never makes the whole file unreadable.
/// </summary>
internal sealed class UnreadableStorage(long byteLength, ModelFormatException reason, string key) : TensorStorage(key)
{
    /// <summary>Why the values cannot be read.</summary>
    public ModelFormatException Reason { get; } = reason;

    /// <inheritdoc />
    public override long ByteLength => byteLength;

    /// <inheritdoc />
    protected override void ReadCore(long offset, Span<byte> destination)
    {
        throw Reason;
    }

    /// <inheritdoc />
    protected override bool TryGetSpanCore(long offset, int length, out ReadOnlySpan<byte> span)
    {
        throw Reason;
    }
}
