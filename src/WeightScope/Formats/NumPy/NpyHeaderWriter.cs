using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Formats.NumPy;

/// <summary>
/// The bytes <c>np.save</c> puts before an array's data (numpy/lib/format.py <c>_write_array_header</c>,
/// <c>_wrap_header</c>, <c>_wrap_header_guess_version</c>): the magic and version, the header length, and the header
/// dict <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c> (keys sorted, values as Python's
/// <c>repr</c>), followed by numpy's spare spaces for growing the first axis in place
/// (<c>GROWTH_AXIS_MAX_DIGITS</c> − digits of <c>shape[0]</c>), then spaces and a final <c>\n</c> so the data starts
/// on a multiple of <c>ARRAY_ALIGN</c> (64). Version 1.0 unless the header is too long for its 2-byte length field,
/// then 2.0 (the header is ASCII, so never 3.0). Like <c>header_data_from_array_1_0</c>, a view that is
/// Fortran-contiguous but not C-contiguous (a transposed matrix) is written column-major with
/// <c>'fortran_order': True</c>; anything else in C order. The data is always little-endian (<c>&lt;f4</c>, where
/// np.save would keep a big-endian array's <c>&gt;f4</c>): the values are the same.
/// </summary>
internal static class NpyHeaderWriter
{
    private const int ArrayAlign = 64;
    private const int GrowthAxisMaxDigits = 21;
    private const int MagicLength = 8; // "\x93NUMPY" + major + minor

    /// <summary>numpy's <c>dtype.str</c> for the dtypes numpy has, little-endian; null for the others.</summary>
    public static string? Descr(DType t) => t switch
    {
        DType.Bool => "|b1",
        DType.Int8 => "|i1",
        DType.UInt8 => "|u1",
        DType.Int16 => "<i2",
        DType.UInt16 => "<u2",
        DType.Int32 => "<i4",
        DType.UInt32 => "<u4",
        DType.Int64 => "<i8",
        DType.UInt64 => "<u8",
        DType.Float16 => "<f2",
        DType.Float32 => "<f4",
        DType.Float64 => "<f8",
        DType.Complex64 => "<c8",
        DType.Complex128 => "<c16",
        _ => null,
    };

    /// <summary>Throws <see cref="ModelWriteException"/> when numpy has no dtype for <paramref name="t"/>'s.</summary>
    public static void CheckDType(TensorEntry t, string format)
    {
        if (Descr(t.DType) is not null) return;
        string how = t.DType switch
        {
            DType.BFloat16 => "convert it first (--dtype float32; ml_dtypes' bfloat16 is not part of numpy)",
            _ when t.DType.IsQuantized() => "convert it first (--dtype float32), which dequantizes it",
            _ => "convert it first (--dtype float32)",
        };
        throw new ModelWriteException($"{format}: numpy has no dtype for '{t.Name}' ({t.DType.Name()}); {how}");
    }

    /// <summary>
    /// The prelude, header dict and padding for <paramref name="t"/> (its dtype checked by <see cref="CheckDType"/>), and
    /// the view whose row-major bytes are the data to write after it: <paramref name="t"/> itself in C order, or its
    /// reversed-axes view in Fortran order.
    /// </summary>
    public static byte[] Build(TensorEntry t, out TensorEntry data)
    {
        bool fortran = !t.IsContiguous && IsFortranContiguous(t);
        data = fortran ? Reversed(t) : t;
        var dict = new StringBuilder("{'descr': '").Append(Descr(t.DType)).Append("', 'fortran_order': ")
            .Append(fortran ? "True" : "False").Append(", 'shape': ").Append(ShapeRepr(t.Shape)).Append(", }");
        if (t.Shape.Rank > 0)
        {
            long growthAxis = t.Shape[fortran ? t.Shape.Rank - 1 : 0];
            dict.Append(' ', GrowthAxisMaxDigits - growthAxis.ToString(CultureInfo.InvariantCulture).Length);
        }
        var header = Encoding.ASCII.GetBytes(dict.ToString());
        return Wrap(header, 1) ?? Wrap(header, 2)!;
    }

    // numpy's F_CONTIGUOUS: column-major without gaps, dimensions of size 1 ignored; empty arrays count as C order.
    private static bool IsFortranContiguous(TensorEntry t)
    {
        if (t.ElementCount == 0) return false;
        long expected = 1;
        for (int i = 0; i < t.Shape.Rank; i++)
        {
            if (t.Shape[i] == 1) continue;
            if (t.Strides[i] != expected) return false;
            expected *= t.Shape[i];
        }
        return true;
    }

    // The same elements with the axes reversed: row-major order of this view is column-major order of t.
    private static TensorEntry Reversed(TensorEntry t)
    {
        var shape = t.Shape.AsSpan().ToArray();
        var strides = t.Strides.ToArray();
        Array.Reverse(shape);
        Array.Reverse(strides);
        return new TensorEntry(t.Name, t.DType, new Shape(shape), t.Storage, t.StorageOffset, strides, t.Role, t.IsBigEndian, t.Quantization);
    }

    // _wrap_header: hlen counts the final '\n'; padlen is 1..64 (a full 64 when already aligned, as numpy computes it).
    private static byte[]? Wrap(byte[] header, byte major)
    {
        int lengthField = major == 1 ? 2 : 4;
        long hlen = header.Length + 1;
        long padlen = ArrayAlign - ((MagicLength + lengthField + hlen) % ArrayAlign);
        long total = hlen + padlen;
        if (major == 1 && total > ushort.MaxValue) return null;
        var result = new byte[checked(MagicLength + lengthField + total)];
        NpyPrelude.Magic.CopyTo(result);
        result[NpyPrelude.MajorOffset] = major;
        result[NpyPrelude.MinorOffset] = 0;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(NpyPrelude.HeaderLengthOffset), (ushort)total);
        else BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(NpyPrelude.HeaderLengthOffset), checked((uint)total));
        int at = MagicLength + lengthField;
        header.CopyTo(result, at);
        result.AsSpan(at + header.Length, (int)padlen).Fill((byte)' ');
        result[^1] = (byte)'\n';
        return result;
    }

    // Python's repr of a tuple of ints: (), (5,), (2, 3).
    private static string ShapeRepr(Shape shape) => shape.Rank switch
    {
        0 => "()",
        1 => $"({shape[0].ToString(CultureInfo.InvariantCulture)},)",
        _ => "(" + string.Join(", ", Enumerable.Range(0, shape.Rank).Select(i => shape[i].ToString(CultureInfo.InvariantCulture))) + ")",
    };
}
