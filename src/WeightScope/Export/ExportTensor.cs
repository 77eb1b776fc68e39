using System.Buffers.Binary;
using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Export;

/// <summary>The order elements are written in.</summary>
public enum ElementOrder
{
    /// <summary>Row-major (C order): the last index varies fastest.</summary>
    Row,

    /// <summary>Column-major (Fortran/MATLAB order): the first index varies fastest. The written shape is the reversed shape.</summary>
    Column,
}

/// <summary>How a tensor's values become what is written.</summary>
public sealed record ExportEncoding
{
    /// <summary>Values as they are: floats as floats, integers as integers.</summary>
    public static ExportEncoding AsIs { get; } = new();

    /// <summary>Float tensors as the raw IEEE-754 bits of their elements (for memory files feeding float hardware).</summary>
    public bool FloatBits { get; init; }

    /// <summary>Signed fixed point (<c>--fixed Qm.n</c>); like the other quantizations, for float tensors only (integer tensors are kept).</summary>
    public QFormat? Fixed { get; init; }

    /// <summary>Integer quantization width, 8 or 16 (<c>--int8</c>, <c>--int16</c>); null for none.</summary>
    public int? IntegerBits { get; init; }

    /// <summary>Scale/zero-point rule for <see cref="IntegerBits"/>.</summary>
    public IntegerScheme Scheme { get; init; } = IntegerScheme.Symmetric;

    /// <summary>Per-channel axis for <see cref="IntegerBits"/>; null for per tensor.</summary>
    public int? PerChannelAxis { get; init; }

    /// <summary>Rounding for <see cref="Fixed"/> and <see cref="IntegerBits"/>.</summary>
    public Rounding Rounding { get; init; } = Rounding.NearestEven;

    /// <summary>Overflow handling for <see cref="Fixed"/> and <see cref="IntegerBits"/>.</summary>
    public Overflow Overflow { get; init; } = Overflow.Saturate;

    /// <summary>True when real values are turned into integers.</summary>
    public bool Quantizes => Fixed is not null || IntegerBits is not null;
}

/// <summary>
/// A tensor made ready to write: its values in output order, and — for integer tensors, quantized floats and raw float bits —
/// the integer words. Every exporter (C header, .mem, .coe, .mif, text) writes one of these.
/// </summary>
public sealed class ExportTensor
{
    private ExportTensor(string name, DType dtype, long[] shape, ElementOrder order, double[] values, long[]? words, int bits, bool signed,
        QuantizedValues? quantized, bool floatBits)
    {
        Name = name;
        SourceDType = dtype;
        Shape = shape;
        Order = order;
        Values = values;
        Words = words;
        WordBits = bits;
        Signed = signed;
        Quantized = quantized;
        IsFloatBits = floatBits;
    }

    /// <summary>The tensor's name (or the view's, e.g. <c>conv.weight[0]</c>).</summary>
    public string Name { get; }

    /// <summary>The source element type.</summary>
    public DType SourceDType { get; }

    /// <summary>The shape as written: the view's shape, reversed for <see cref="ElementOrder.Column"/>.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The order the elements were put in.</summary>
    public ElementOrder Order { get; }

    /// <summary>The source values (as float64; integers exactly up to 2^53; quantized dtypes dequantized) in output order.</summary>
    public double[] Values { get; }

    /// <summary>The integer words in output order; null for float values written as floats.</summary>
    public long[]? Words { get; }

    /// <summary>Bits per word (dtype size, quantization width or IEEE width); 0 without words.</summary>
    public int WordBits { get; }

    /// <summary>True when words are signed (two's complement).</summary>
    public bool Signed { get; }

    /// <summary>Quantization parameters and error report, when values were quantized.</summary>
    public QuantizedValues? Quantized { get; }

    /// <summary>True when <see cref="Words"/> are the integers a quantized tensor (qint8, quint8, qint32) stores, with its
    /// own scale and zero point in <see cref="Quantized"/> (the report compares them with their own dequantization).</summary>
    public bool IsStoredQuantization { get; private init; }

    /// <summary>True when <see cref="Words"/> are raw IEEE bits of float elements.</summary>
    public bool IsFloatBits { get; }

    /// <summary>True when the values are written as floating-point numbers.</summary>
    public bool IsFloat => Words is null;

    /// <summary>Element count.</summary>
    public long Count => Values.LongLength;

    /// <summary>
    /// Reads <paramref name="tensor"/> and applies <paramref name="encoding"/> and <paramref name="order"/>. Quantization and
    /// float bits apply to float (and stored quantized) tensors; integer and bool tensors keep their integers, so a whole
    /// model exports with its counters (<c>num_batches_tracked</c>) intact.
    /// </summary>
    /// <exception cref="ModelWriteException">The dtype cannot be exported this way (complex, string, float bits of a non-float…).</exception>
    public static ExportTensor Create(TensorEntry tensor, ExportEncoding? encoding = null, ElementOrder order = ElementOrder.Row)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        encoding ??= ExportEncoding.AsIs;
        var dt = tensor.DType;
        if (dt.IsComplex())
            throw new ModelWriteException($"{tensor.Name}: {dt.Name()} values cannot be exported; select real-valued tensors");
        bool isFloat = !(dt.IsInteger() || dt == DType.Bool);

        double[] values;
        long[]? words = null;
        int bits = 0;
        bool signed = true;
        QuantizedValues? q = null;
        if (dt == DType.Int64)
        {
            words = tensor.ToArray<long>();
            values = Array.ConvertAll(words, w => (double)w);
            bits = 64;
        }
        else if (dt == DType.UInt64)
        {
            words = Array.ConvertAll(tensor.ToArray<ulong>(), w => unchecked((long)w));
            values = Array.ConvertAll(tensor.ToArray<ulong>(), w => (double)w);
            (bits, signed) = (64, false);
        }
        else
        {
            values = tensor.ToFloat64();
            if (!isFloat)
            {
                words = Array.ConvertAll(values, v => (long)v);
                bits = dt == DType.Bool ? 1 : dt.ItemSize() * 8;
                signed = dt is DType.Int8 or DType.Int16 or DType.Int32;
            }
        }

        bool stored = false;
        if (!encoding.Quantizes && !encoding.FloatBits && dt.IsQuantized()
            && tensor.Quantization is { Scheme: QuantizationScheme.PerTensorAffine or QuantizationScheme.PerChannelAffine } sq)
        {
            // A stored quantized tensor (torch qint8/quint8/qint32): its own integers and parameters, as int_repr() gives them.
            words = dt switch
            {
                DType.QInt8 => Array.ConvertAll(tensor.ToArray<sbyte>(), w => (long)w),
                DType.QUInt8 => Array.ConvertAll(tensor.ToArray<byte>(), w => (long)w),
                _ => Array.ConvertAll(tensor.ToArray<int>(), w => (long)w),
            };
            int? axis = sq.Scheme == QuantizationScheme.PerChannelAffine ? sq.Axis : null;
            long stride = 1;
            for (int d = (axis ?? 0) + 1; axis is not null && d < tensor.Shape.Rank; d++) stride *= tensor.Shape[d];
            q = QuantizedValues.Create(values, words, dt.ItemSize() * 8, sq.Scales, sq.ZeroPoints, axis, null, 0, stride,
                axis is int a ? tensor.Shape[a] : 1);
            stored = true;
        }
        else if (encoding.Fixed is QFormat f && isFloat)
        {
            q = FixedPoint.Quantize(tensor.Name, values, f, encoding.Rounding, encoding.Overflow);
        }
        else if (encoding.IntegerBits is int ib && isFloat)
        {
            q = IntegerQuantizer.Quantize(tensor.Name, values, tensor.Shape.ToArray(), ib, encoding.Scheme, encoding.PerChannelAxis,
                encoding.Rounding, encoding.Overflow);
        }
        else if (encoding.FloatBits && isFloat)
        {
            if (dt.IsQuantized() || !dt.IsFloatingPoint())
                throw new ModelWriteException($"{tensor.Name}: {dt.Name()} has no IEEE bits to export; quantize it (--fixed, --int8, --int16) instead");
            bits = dt.ItemSize() * 8;
            signed = false;
            words = RawBits(tensor, bits);
        }
        if (q is not null)
        {
            words = q.Words;
            bits = q.Bits;
            signed = dt != DType.QUInt8 || !stored;
        }

        var shape = tensor.Shape.ToArray();
        if (order == ElementOrder.Column && shape.Length > 1)
        {
            values = ColumnMajor(values, shape);
            if (words is not null) words = ColumnMajor(words, shape);
            Array.Reverse(shape);
        }
        return new ExportTensor(tensor.Name, dt, shape, order, values, words, bits, signed, q, encoding.FloatBits && isFloat) { IsStoredQuantization = stored };
    }

    // The raw element bits from the little-endian bytes: ToArray<uint> is refused for float32 (it checks the element type).
    private static long[] RawBits(TensorEntry t, int bits)
    {
        var bytes = t.ReadBytes();
        var words = new long[t.ElementCount];
        int size = bits / 8;
        for (long i = 0; i < words.LongLength; i++)
        {
            var b = bytes.AsSpan((int)(i * size), size);
            words[i] = bits switch
            {
                8 => b[0],
                16 => BinaryPrimitives.ReadUInt16LittleEndian(b),
                32 => BinaryPrimitives.ReadUInt32LittleEndian(b),
                _ => BinaryPrimitives.ReadInt64LittleEndian(b),
            };
        }
        return words;
    }

    /// <summary>Row-major <paramref name="source"/> of <paramref name="shape"/> reordered so the first index varies fastest.</summary>
    internal static T[] ColumnMajor<T>(T[] source, long[] shape)
    {
        var result = new T[source.Length];
        var strides = new long[shape.Length];
        long s = 1;
        for (int d = shape.Length - 1; d >= 0; d--) { strides[d] = s; s *= shape[d]; }
        var index = new long[shape.Length];
        for (long k = 0; k < source.LongLength; k++)
        {
            long offset = 0;
            for (int d = 0; d < shape.Length; d++) offset += index[d] * strides[d];
            result[k] = source[offset];
            for (int d = 0; d < shape.Length; d++) // first index fastest
            {
                if (++index[d] < shape[d]) break;
                index[d] = 0;
            }
        }
        return result;
    }
}
