using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.Hdf5.Datatypes;

/// <summary>
/// Where a fixed- or floating-point value's bits lie in its bytes (§IV.A.2.d, class properties): bit offset and
/// precision, and for floats the sign, exponent and mantissa fields. h5py reads such a type as the numpy type of its
/// size, and libhdf5 converts on read: an integer keeps only its precision bits from the offset, sign-extended when
/// signed (<c>H5T__conv_i_i</c>); that is done here. A float whose fields are not IEEE 754's for its size would need
/// libhdf5's general float conversion, which this reader does not do: its values are refused.
/// </summary>
internal sealed record BitLayout(int Offset, int Precision, int SignLocation = 0, int ExponentLocation = 0, int ExponentSize = 0,
    int MantissaLocation = 0, int MantissaSize = 0, long ExponentBias = 0, int Normalization = 0)
{
    private const int NormalizationShift = 4;
    private const int NormalizationMask = 0x3;
    private const int ImpliedMsb = 2;

    /// <summary>Fixed-point properties: bit offset, bit precision (2 bytes each).</summary>
    public static BitLayout ReadFixed(ref SpanReader r) => new(r.ReadUInt16(), r.ReadUInt16());

    /// <summary>Floating-point properties: bit offset, precision, exponent location and size, mantissa location and size, exponent bias.</summary>
    public static BitLayout ReadFloat(ref SpanReader r, ReadOnlySpan<byte> classBits)
    {
        int offset = r.ReadUInt16(), precision = r.ReadUInt16();
        int eLoc = r.ReadByte(), eSize = r.ReadByte(), mLoc = r.ReadByte(), mSize = r.ReadByte();
        long bias = r.ReadUInt32();
        return new BitLayout(offset, precision, classBits[1], eLoc, eSize, mLoc, mSize, bias, (classBits[0] >> NormalizationShift) & NormalizationMask);
    }

    /// <summary>True when an integer of <paramref name="size"/> bytes uses all its bits from bit 0 (nothing to convert).</summary>
    public bool IsFullInteger(int size) => Offset == 0 && Precision == size * 8;

    /// <summary>True when a float of <paramref name="size"/> bytes is laid out as IEEE 754 binary16/32/64.</summary>
    public bool IsIeee(int size) => size switch
    {
        2 => this == Ieee(16, 15, 10, 5, 10, 15),
        4 => this == Ieee(32, 31, 23, 8, 23, 127),
        8 => this == Ieee(64, 63, 52, 11, 52, 1023),
        _ => false,
    };

    private static BitLayout Ieee(int precision, int sign, int eLoc, int eSize, int mSize, long bias) =>
        new(0, precision, sign, eLoc, eSize, 0, mSize, bias, ImpliedMsb);

    /// <summary>Describes the layout for messages.</summary>
    public string Describe() =>
        $"precision {Precision} at bit offset {Offset}, sign bit {SignLocation}, exponent {ExponentSize} bits at {ExponentLocation} (bias {ExponentBias}), mantissa {MantissaSize} bits at {MantissaLocation}";

    /// <summary>
    /// Converts integers in place as libhdf5 does on read: each value's <see cref="Precision"/> bits from
    /// <see cref="Offset"/>, sign-extended when <paramref name="signed"/>, written back in the same byte order.
    /// </summary>
    public void NormalizeIntegers(Span<byte> data, int size, bool bigEndian, bool signed)
    {
        ulong mask = Precision >= 64 ? ulong.MaxValue : (1UL << Precision) - 1;
        for (int i = 0; i + size <= data.Length; i += size)
        {
            var e = data.Slice(i, size);
            ulong v = 0;
            for (int b = 0; b < size; b++) v |= (ulong)e[bigEndian ? size - 1 - b : b] << (8 * b);
            v = (v >> Offset) & mask;
            if (signed && Precision is > 0 and < 64 && (v >> (Precision - 1) & 1) != 0) v |= ~mask;
            for (int b = 0; b < size; b++) e[bigEndian ? size - 1 - b : b] = (byte)(v >> (8 * b));
        }
    }

    /// <summary>
    /// The dataset's storage as h5py sees its values: as stored when the type uses every bit; integers narrowed by their
    /// precision or offset converted when read; floats with a non-IEEE layout refused when read (listing still works).
    /// </summary>
    public static TensorStorage Apply(TensorStorage storage, Datatype type, long bytes, long at, string path)
    {
        if (type.Bits is not { } bits) return storage;
        if (type.Class == DatatypeClass.FixedPoint && !bits.IsFullInteger(type.Size))
        {
            if (bits.Precision == 0 || bits.Offset + bits.Precision > type.Size * 8) // this dataset's values only: the file still lists
                return new DecodedStorage(bytes, () => throw Hdf5Errors.Invalid($"integer precision {bits.Precision} at bit offset {bits.Offset} does not fit {type.Size} bytes", at, path), path);
            return new NarrowedIntegerStorage(storage, bits, type.Size, type.BigEndian, type.Signed, path);
        }
        if (type.Class == DatatypeClass.FloatingPoint && !bits.IsIeee(type.Size))
            return new DecodedStorage(bytes, () => throw Hdf5Errors.Unsupported(
                $"a {type.Size}-byte floating-point type that is not IEEE 754 ({bits.Describe()}); h5py converts it with libhdf5's float conversion", at, path), path);
        return storage;
    }
}
