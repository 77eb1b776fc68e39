using System.Globalization;
using System.Text;
using WeightScope.Tensors;

namespace WeightScope.Printing.Numpy;

/// <summary>
/// Prints a tensor exactly as numpy 1.24 prints the array a Python user gets from it
/// (<c>param.data.numpy()</c>, <c>layer.get_weights()[i]</c>, <c>np.load(f)[k]</c>), under
/// <see cref="NumpyPrintOptions"/> (<c>np.set_printoptions</c>). Ported from <c>numpy/core/arrayprint.py</c>
/// (<c>array_str</c>, <c>array_repr</c>, <c>array2string</c>, <c>_formatArray</c>) and the formatters in
/// <see cref="NumpyFloatFormat"/> and <see cref="Dragon4"/>.
/// Types numpy does not have print as the float32 array a user converts them to (<c>t.float().numpy()</c>):
/// bfloat16, float8 and quantized tensors (dequantized, as torch's <c>dequantize()</c>).
/// Only the elements that print are read: a summarised 1 GB tensor reads its corners.
/// </summary>
public static class NumpyFormatter
{
    private const string ClassPrefix = "array(";
    private const string SummaryInsert = "...";

    /// <summary><c>str(a)</c>, what <c>print(a)</c> shows: <c>[[ 0.1 -1.5]\n [ 2.  3. ]]</c>; a 0-d array prints as its scalar.</summary>
    /// <param name="t">The tensor (or a view from <see cref="TensorEntry.Slice"/>).</param>
    /// <param name="o">Print options; null for numpy's defaults.</param>
    /// <exception cref="ArgumentException">An option numpy refuses (see <see cref="NumpyPrintOptions.Validate"/>).</exception>
    public static string Str(TensorEntry t, NumpyPrintOptions? o = null)
    {
        ArgumentNullException.ThrowIfNull(t);
        o ??= NumpyPrintOptions.Default;
        o.Validate();
        if (t.Shape.Rank == 0) return ScalarStr(t);
        if (t.ElementCount == 0) return "[]";
        return Array2String(t, o, " ", "", o.LineWidth);
    }

    /// <summary>
    /// <c>repr(a)</c>: <c>array([[ 0.1, -1.5]], dtype=float32)</c>. float64, int64, complex128 and bool arrays omit the
    /// dtype when they have elements; empty arrays other than shape (0,) show their shape; the dtype moves to its own
    /// line when it would pass the line width.
    /// </summary>
    /// <param name="t">The tensor.</param>
    /// <param name="o">Print options; null for numpy's defaults.</param>
    /// <exception cref="ArgumentException">An option numpy refuses.</exception>
    public static string Repr(TensorEntry t, NumpyPrintOptions? o = null)
    {
        ArgumentNullException.ThrowIfNull(t);
        o ??= NumpyPrintOptions.Default;
        o.Validate();
        // Port of _array_repr_implementation.
        string dtype = DTypeName(t.DType);
        bool skipDType = IsImplied(dtype) && t.ElementCount > 0;
        string suffix = skipDType ? ")" : ",";
        string list;
        if (t.ElementCount > 0)
            list = Array2String(t, o, ", ", ClassPrefix, o.LineWidth - suffix.Length); // array2string: linewidth -= len(suffix)
        else if (t.Shape.Rank == 1)
            list = "[]";
        else
            list = "[], shape=" + PythonTuple(t.Shape); // show a zero-length shape unless it is (0,)
        string arrStr = ClassPrefix + list + suffix;
        if (skipDType) return arrStr;

        string dtypeStr = "dtype=" + dtype + ")";
        int lastLineLength = arrStr.Length - (arrStr.LastIndexOf('\n') + 1);
        string spacer = lastLineLength + dtypeStr.Length + 1 > o.LineWidth ? "\n" + new string(' ', ClassPrefix.Length) : " ";
        return arrStr + spacer + dtypeStr;
    }

    /// <summary><c>repr(list_of_arrays)</c>, what <c>print(layer.get_weights())</c> shows:
    /// <c>[array([[…]], dtype=float32), array([…], dtype=float32)]</c>.</summary>
    /// <param name="arrays">The arrays, in order.</param>
    /// <param name="o">Print options; null for numpy's defaults.</param>
    /// <exception cref="ArgumentException">An option numpy refuses.</exception>
    public static string ReprList(IReadOnlyList<TensorEntry> arrays, NumpyPrintOptions? o = null)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        o ??= NumpyPrintOptions.Default;
        o.Validate();
        // Python's list.__repr__: each item's repr, ", " between; an array's repr keeps its own line breaks.
        return "[" + string.Join(", ", arrays.Select(a => Repr(a, o))) + "]";
    }

    /// <summary>The numpy dtype name of the array a user gets from a tensor of this type (<c>dtype.name</c>).</summary>
    public static string DTypeName(DType d) => d switch
    {
        DType.Float16 or DType.Float64 or DType.Complex64 or DType.Complex128 or DType.Bool => d.Name(),
        _ when d.IsInteger() => d.Name(),
        _ => "float32", // float32 itself, and bfloat16/float8/quantized converted to float32
    };

    // dtype_is_implied: np.int_, np.float_, np.complex_ and np.bool_ (int64 on Linux). Byte order plays no part.
    private static bool IsImplied(string numpyName) => numpyName is "int64" or "float64" or "complex128" or "bool";

    // The scalar's str (_array_str_implementation for shape ()).
    private static string ScalarStr(TensorEntry t)
    {
        var v = PrintValues.Read(t, summarize: false, edgeItems: 0);
        return v.Kind switch
        {
            PrintKind.Complex => NumpyScalar.Complex(v.Real[0], v.Imag[0], KindOf(t.DType)),
            PrintKind.Real => NumpyScalar.Float(v.Real[0], KindOf(t.DType)),
            _ => v.Text[0],
        };
    }

    private static NumpyFloatKind KindOf(DType d) => d switch
    {
        DType.Float16 => NumpyFloatKind.Half,
        DType.Float64 or DType.Complex128 => NumpyFloatKind.Double,
        _ => NumpyFloatKind.Single,
    };

    // Port of array2string (non-empty) / _array2string; lineWidth already has the suffix taken off.
    private static string Array2String(TensorEntry t, NumpyPrintOptions o, string separator, string prefix, int lineWidth)
    {
        bool summarize = t.ElementCount > o.Threshold;
        // _leading_trailing keeps a[:edgeitems] and a[-edgeitems:] of each long axis; with edgeitems 0, a[-0:] is the
        // whole axis, so the formatter sees every element.
        var values = PrintValues.Read(t, summarize && o.EdgeItems > 0, o.EdgeItems);
        var elements = new Elements(t, values, o);
        var printer = new Printer(t.Shape, values.Shape, elements, separator, summarize ? SummaryInsert : "", o.EdgeItems);
        // next_line_prefix: " " to skip over "[", plus the width of the prefix ("array(").
        return printer.Recurse(0, 0, " " + new string(' ', prefix.Length), lineWidth);
    }

    // str(tuple(shape)): (0,), (0, 3).
    private static string PythonTuple(Shape shape) => shape.Rank == 1
        ? "(" + shape[0].ToString(CultureInfo.InvariantCulture) + ",)"
        : "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";

    /// <summary>The format function of _get_format_function, over the kept elements.</summary>
    private sealed class Elements
    {
        private readonly PrintValues _values;
        private readonly NumpyFloatFormat? _real, _imag;
        private readonly int _intWidth;
        private readonly bool _bool;
        private readonly string _trueStr = " True";

        public Elements(TensorEntry t, PrintValues values, NumpyPrintOptions o)
        {
            _values = values;
            var kind = KindOf(t.DType);
            switch (values.Kind)
            {
                case PrintKind.Real:
                    _real = new NumpyFloatFormat(values.Real, kind, o);
                    break;
                case PrintKind.Complex:
                    // ComplexFloatingFormat: the imaginary parts always carry a sign
                    _real = new NumpyFloatFormat(values.Real, kind, o);
                    _imag = new NumpyFloatFormat(values.Imag, kind, o, sign: "+");
                    break;
                default:
                    // BoolFormat: " True" lines up with "False", except in a 0-d array. IntegerFormat: '%{width}d', the width
                    // of the longer of str(max) and str(min), which is the longest str of any element.
                    _bool = t.DType == DType.Bool;
                    if (t.Shape.Rank == 0) _trueStr = "True";
                    foreach (var s in values.Text) _intWidth = Math.Max(_intWidth, s.Length);
                    break;
            }
        }

        public string Format(long i)
        {
            switch (_values.Kind)
            {
                case PrintKind.Real:
                    return _real!.Format(_values.Real[i]);
                case PrintKind.Complex:
                    {
                        string r = _real!.Format(_values.Real[i]);
                        string im = _imag!.Format(_values.Imag[i]);
                        int sp = im.TrimEnd().Length; // the 'j' goes before the padding
                        return r + im[..sp] + "j" + im[sp..];
                    }
                default:
                    string s = _values.Text[i];
                    if (_bool) return s == "True" ? _trueStr : s;
                    return s.PadLeft(_intWidth);
            }
        }
    }

    /// <summary>Port of _formatArray (legacy off) over the logical shape, reading kept elements.</summary>
    private sealed class Printer(Shape shape, long[] keptShape, Elements elements, string separator, string summaryInsert, int edgeItems)
    {
        private readonly long[] _keptStrides = Strides(keptShape);
        private readonly string _separatorTrimmed = separator.TrimEnd();

        // recurser(index, hanging_indent, curr_width), with the index given as the kept flat offset of its prefix.
        public string Recurse(int axis, long keptOffset, string hangingIndent, int currWidth)
        {
            int rank = shape.Rank;
            int axesLeft = rank - axis;
            if (axesLeft == 0) return elements.Format(keptOffset);

            // when recursing, add a space to align with the [ added, and reduce the length of the line by 1
            string nextHangingIndent = hangingIndent + " ";
            int nextWidth = currWidth - 1;

            long length = shape[axis];
            bool showSummary = summaryInsert.Length > 0 && 2L * edgeItems < length;
            long leading = showSummary ? edgeItems : 0;
            long trailing = showSummary ? edgeItems : length;

            var s = new StringBuilder();
            if (axesLeft == 1)
            {
                // the length up until the beginning of the separator / bracket
                int elemWidth = currWidth - Math.Max(_separatorTrimmed.Length, 1);
                var line = new StringBuilder(hangingIndent);
                for (long i = 0; i < leading; i++)
                {
                    ExtendLine(s, line, Recurse(axis + 1, Child(axis, keptOffset, i), nextHangingIndent, nextWidth), elemWidth, hangingIndent);
                    line.Append(separator);
                }
                if (showSummary)
                {
                    ExtendLine(s, line, summaryInsert, elemWidth, hangingIndent);
                    line.Append(separator);
                }
                for (long i = trailing; i > 1; i--)
                {
                    ExtendLine(s, line, Recurse(axis + 1, Child(axis, keptOffset, length - i), nextHangingIndent, nextWidth), elemWidth, hangingIndent);
                    line.Append(separator);
                }
                ExtendLine(s, line, Recurse(axis + 1, Child(axis, keptOffset, length - 1), nextHangingIndent, nextWidth), elemWidth, hangingIndent);
                s.Append(line);
            }
            else
            {
                // other axes: newlines between rows, one more per extra axis (the blank lines between blocks)
                string lineSep = _separatorTrimmed + new string('\n', axesLeft - 1);
                for (long i = 0; i < leading; i++)
                    s.Append(hangingIndent).Append(Recurse(axis + 1, Child(axis, keptOffset, i), nextHangingIndent, nextWidth)).Append(lineSep);
                if (showSummary) s.Append(hangingIndent).Append(summaryInsert).Append(lineSep);
                for (long i = trailing; i > 1; i--)
                    s.Append(hangingIndent).Append(Recurse(axis + 1, Child(axis, keptOffset, length - i), nextHangingIndent, nextWidth)).Append(lineSep);
                s.Append(hangingIndent).Append(Recurse(axis + 1, Child(axis, keptOffset, length - 1), nextHangingIndent, nextWidth));
            }
            // remove the hanging indent, and wrap in []
            return "[" + s.ToString(hangingIndent.Length, s.Length - hangingIndent.Length) + "]";
        }

        // _extendLine: wrap before the word when the line would pass the width, unless nothing but the indent is on it.
        private static void ExtendLine(StringBuilder s, StringBuilder line, string word, int lineWidth, string nextLinePrefix)
        {
            bool needsWrap = line.Length + word.Length > lineWidth && line.Length > nextLinePrefix.Length;
            if (needsWrap)
            {
                int end = line.Length;
                while (end > 0 && char.IsWhiteSpace(line[end - 1])) end--;
                s.Append(line.ToString(0, end)).Append('\n');
                line.Clear().Append(nextLinePrefix);
            }
            line.Append(word);
        }

        // The kept flat offset of logical index i along axis (the kept corners of a summarised axis, or all of it).
        private long Child(int axis, long keptOffset, long i)
        {
            long n = shape[axis], k = keptShape[axis];
            long kept = k == n ? i : i < edgeItems ? i : k - (n - i);
            return keptOffset + kept * _keptStrides[axis];
        }

        private static long[] Strides(long[] s)
        {
            var strides = new long[s.Length];
            long acc = 1;
            for (int i = s.Length - 1; i >= 0; i--)
            {
                strides[i] = acc;
                acc *= Math.Max(s[i], 1);
            }
            return strides;
        }
    }
}
