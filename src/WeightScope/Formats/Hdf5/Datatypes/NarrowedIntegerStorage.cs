using WeightScope.Tensors;

namespace WeightScope.Formats.Hdf5.Datatypes;

/// <summary>
/// A dataset of integers that use fewer bits than their size (precision and bit offset, §IV.A.2.d fixed-point
/// properties), as h5py reads them: each value shifted and sign-extended when read (<see cref="BitLayout.NormalizeIntegers"/>).
/// Any range is served by reading the whole elements it touches, so datasets of any size read in slices.
/// </summary>
internal sealed class NarrowedIntegerStorage(TensorStorage stored, BitLayout bits, int itemSize, bool bigEndian, bool signed, string key)
    : TensorStorage(key)
{
    /// <inheritdoc />
    public override long ByteLength => stored.ByteLength;

    /// <inheritdoc />
    protected override void ReadCore(long offset, Span<byte> destination)
    {
        long first = offset / itemSize * itemSize;
        long end = (offset + destination.Length + itemSize - 1) / itemSize * itemSize;
        if (first == offset && end == offset + destination.Length)
        {
            stored.Read(offset, destination);
            bits.NormalizeIntegers(destination, itemSize, bigEndian, signed);
            return;
        }
        // A range that starts or ends inside an element: convert the whole elements, hand out the part asked for.
        var whole = new byte[end - first];
        stored.Read(first, whole);
        bits.NormalizeIntegers(whole, itemSize, bigEndian, signed);
        whole.AsSpan((int)(offset - first), destination.Length).CopyTo(destination);
    }
}
