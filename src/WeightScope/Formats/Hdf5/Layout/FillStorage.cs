using WeightScope.Tensors;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>
/// A dataset whose storage was never allocated (late allocation, nothing written): every element is the fill value,
/// synthesised for whatever range is read, so a never-written dataset of any size costs nothing until read and never
/// more than the bytes asked for.
/// </summary>
internal sealed class FillStorage(long byteLength, byte[]? fill, string key) : TensorStorage(key)
{
    /// <inheritdoc />
    public override long ByteLength => byteLength;

    /// <inheritdoc />
    protected override void ReadCore(long offset, Span<byte> destination)
    {
        if (fill is null || fill.Length == 0)
        {
            destination.Clear();
            return;
        }
        // The range may start inside an element: finish that element, then whole values from the next one on.
        int phase = (int)(offset % fill.Length);
        int head = phase == 0 ? 0 : Math.Min(fill.Length - phase, destination.Length);
        fill.AsSpan(phase, head).CopyTo(destination);
        FillValue.Apply(destination[head..], fill);
    }
}
