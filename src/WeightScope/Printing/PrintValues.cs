using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using WeightScope.Tensors;

namespace WeightScope.Printing;

/// <summary>What kind of values a tensor prints as.</summary>
internal enum PrintKind
{
    /// <summary>Real floating point (and dequantized) values: <see cref="PrintValues.Real"/>.</summary>
    Real,
    /// <summary>Complex values: <see cref="PrintValues.Real"/> and <see cref="PrintValues.Imag"/>.</summary>
    Complex,
    /// <summary>Integers and bools, already as Python's <c>str()</c> writes them: <see cref="PrintValues.Text"/>.</summary>
    Text,
}

/// <summary>
/// The elements torch looks at when it prints a tensor, in row-major order: all of them, or, when the tensor is
/// summarized, those <c>get_summarized_data</c> keeps (the first and last <c>edgeitems</c> of each dimension longer
/// than <c>2 × edgeitems</c>). Only those elements are read, so printing a huge tensor reads a few hundred values.
/// </summary>
internal sealed class PrintValues
{
    private PrintValues(PrintKind kind, long[] shape, int[] head, bool[] summarized)
    {
        Kind = kind;
        Shape = shape;
        Head = head;
        Summarized = summarized;
    }

    /// <summary>How the values print.</summary>
    public PrintKind Kind { get; }

    /// <summary>Sizes of the kept elements per dimension.</summary>
    public long[] Shape { get; }

    /// <summary>Per dimension: how many kept items come before the <c>...</c> when <see cref="Summarized"/>.</summary>
    public int[] Head { get; }

    /// <summary>Per dimension: whether it prints with a <c>...</c>.</summary>
    public bool[] Summarized { get; }

    /// <summary>Real parts (or the values) for <see cref="PrintKind.Real"/> and <see cref="PrintKind.Complex"/>.</summary>
    public double[] Real { get; private set; } = [];

    /// <summary>Imaginary parts for <see cref="PrintKind.Complex"/>.</summary>
    public double[] Imag { get; private set; } = [];

    /// <summary>Python's <c>str()</c> of each integer or bool for <see cref="PrintKind.Text"/>.</summary>
    public string[] Text { get; private set; } = [];

    /// <summary>Number of kept elements.</summary>
    public int Count => Kind == PrintKind.Text ? Text.Length : Real.Length;

    /// <summary>Reads the elements of <paramref name="t"/> that print, summarized or not.</summary>
    public static PrintValues Read(TensorEntry t, bool summarize, int edgeItems)
    {
        int rank = t.Shape.Rank;
        var kept = new List<long>[rank];
        var head = new int[rank];
        var summarized = new bool[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            long n = t.Shape[d];
            var list = new List<long>();
            if (summarize && n > 2L * edgeItems)
            {
                summarized[d] = true;
                if (edgeItems == 0 && d == rank - 1)
                {
                    // _vector_str prints self[:0] + [' ...'] + self[-0:], and self[-0:] is the whole row.
                    for (long i = 0; i < n; i++) list.Add(i);
                }
                else
                {
                    for (long i = 0; i < edgeItems; i++) list.Add(i);
                    for (long i = n - edgeItems; i < n; i++) list.Add(i);
                    head[d] = edgeItems;
                }
            }
            else
            {
                for (long i = 0; i < n; i++) list.Add(i);
            }
            kept[d] = list;
            count = checked(count * list.Count);
        }
        if (count > Array.MaxLength) throw new NotSupportedException($"tensor '{t.Name}' has too many elements to print in full ({count}); set a finite threshold");

        var shape = kept.Select(k => (long)k.Count).ToArray();
        var kind = t.DType.IsComplex() ? PrintKind.Complex
            : t.DType.IsFloatingPoint() || (t.DType.IsQuantized() && t.Quantization is not null) ? PrintKind.Real
            : PrintKind.Text;
        var values = new PrintValues(kind, shape, head, summarized);

        // Raw little-endian bytes of the kept elements, and each one's index along the quantization axis.
        int item = t.DType.ItemSize();
        bool everything = shape.AsSpan().SequenceEqual(t.Shape.AsSpan());
        byte[] raw;
        int axis = t.Quantization is { Scheme: QuantizationScheme.PerChannelAffine } pc ? pc.Axis : -1;
        long[]? positions = axis >= 0 ? new long[count] : null;
        if (everything)
        {
            raw = t.ReadBytes();
            if (axis >= 0)
            {
                long inner = 1;
                for (int d = axis + 1; d < rank; d++) inner *= t.Shape[d];
                for (long i = 0; i < count; i++) positions![i] = i / inner % t.Shape[axis];
            }
        }
        else
        {
            raw = new byte[checked(count * item)];
            var index = new int[rank];
            for (long i = 0; i < count; i++)
            {
                long offset = t.StorageOffset;
                for (int d = 0; d < rank; d++) offset += kept[d][index[d]] * t.Strides[d];
                t.Storage.Read(offset * item, raw.AsSpan((int)(i * item), item));
                if (positions is not null) positions[i] = kept[axis][index[axis]];
                for (int d = rank - 1; d >= 0; d--)
                {
                    if (++index[d] < kept[d].Count) break;
                    index[d] = 0;
                }
            }
            if (t.IsBigEndian) SwapBytes(raw, t.DType.IsComplex() ? item / 2 : item);
        }
        values.Decode(t, raw, (int)count, positions);
        return values;
    }

    private void Decode(TensorEntry t, byte[] raw, int n, long[]? positions)
    {
        switch (t.DType)
        {
            case DType.Float64:
                Real = MemoryMarshal.Cast<byte, double>(raw).ToArray();
                return;
            case DType.Complex64:
                {
                    var f = MemoryMarshal.Cast<byte, float>(raw);
                    Real = new double[n];
                    Imag = new double[n];
                    for (int i = 0; i < n; i++) { Real[i] = f[2 * i]; Imag[i] = f[2 * i + 1]; }
                    return;
                }
            case DType.Complex128:
                {
                    var f = MemoryMarshal.Cast<byte, double>(raw);
                    Real = new double[n];
                    Imag = new double[n];
                    for (int i = 0; i < n; i++) { Real[i] = f[2 * i]; Imag[i] = f[2 * i + 1]; }
                    return;
                }
            case DType.Bool:
                Text = raw.Select(b => b != 0 ? "True" : "False").ToArray();
                return;
        }
        if (Kind == PrintKind.Text)
        {
            Text = new string[n];
            for (int i = 0; i < n; i++) Text[i] = IntegerText(t.DType, raw.AsSpan(i * t.DType.ItemSize()));
            return;
        }
        if (t.DType.IsQuantized() && t.Quantization is { } q) // block-quantized tensors are already a float32 view
        {
            Real = new double[n];
            int item = t.DType.ItemSize();
            for (int i = 0; i < n; i++) Real[i] = ElementConverter.DequantizeValue(q, RawInteger(t.DType, raw.AsSpan(i * item)), positions?[i] ?? 0);
            return;
        }
        // float32, float16 and bfloat16 (torch prints those two through .float()), float8.
        var single = new float[n];
        ElementConverter.ConvertRaw(t.DType, raw, single);
        Real = new double[n];
        for (int i = 0; i < n; i++) Real[i] = single[i];
    }

    private static long RawInteger(DType type, ReadOnlySpan<byte> b) => type switch
    {
        DType.QInt8 => (sbyte)b[0],
        DType.QUInt8 => b[0],
        DType.QInt32 => BinaryPrimitives.ReadInt32LittleEndian(b),
        _ => throw new InvalidOperationException($"{type.Name()} is not a quantized type"),
    };

    private static string IntegerText(DType type, ReadOnlySpan<byte> b) => type switch
    {
        DType.Int8 or DType.QInt8 => ((sbyte)b[0]).ToString(CultureInfo.InvariantCulture),
        DType.UInt8 or DType.QUInt8 => b[0].ToString(CultureInfo.InvariantCulture),
        DType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(b).ToString(CultureInfo.InvariantCulture),
        DType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(b).ToString(CultureInfo.InvariantCulture),
        DType.Int32 or DType.QInt32 => BinaryPrimitives.ReadInt32LittleEndian(b).ToString(CultureInfo.InvariantCulture),
        DType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(b).ToString(CultureInfo.InvariantCulture),
        DType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(b).ToString(CultureInfo.InvariantCulture),
        DType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(b).ToString(CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException($"{type.Name()} is not an integer type"),
    };

    private static void SwapBytes(Span<byte> data, int item)
    {
        if (item == 1) return;
        for (int i = 0; i + item <= data.Length; i += item) data.Slice(i, item).Reverse();
    }
}
