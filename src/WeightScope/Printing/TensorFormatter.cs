using System.Globalization;
using System.Text;
using WeightScope.Tensors;

namespace WeightScope.Printing;

/// <summary>
/// Prints a tensor exactly as PyTorch's <c>str(tensor)</c> does for a tensor loaded from a state dict (CPU, no
/// <c>requires_grad</c>), under <see cref="PrintOptions"/> (<c>torch.set_printoptions</c>). Ported from
/// <c>torch/_tensor_str.py</c> (torch 1.13); each method names the function it ports.
/// </summary>
public static class TensorFormatter
{
    private const string Prefix = "tensor(";

    /// <summary>
    /// <c>str(tensor)</c>: <c>tensor([[ 0.1234, -1.5000], …])</c>, with torch's suffixes for non-default dtypes
    /// (<c>dtype=torch.float16</c>), empty tensors (<c>size=(0, 3)</c>) and quantized tensors (dequantized values, then
    /// <c>size=…, dtype=torch.quint8, quantization_scheme=…, scale=…, zero_point=…</c>).
    /// Works on views too: <c>Format(t.Slice("[0,0,0,:]"))</c> prints what <c>str(t[0,0,0,:])</c> prints.
    /// </summary>
    /// <param name="t">The tensor.</param>
    /// <param name="options">Print options; null for torch's defaults.</param>
    /// <param name="requiresGrad">Add torch's <c>requires_grad=True</c> suffix, as a parameter (a tensor read from a file
    /// has no <c>grad_fn</c>).</param>
    public static string Format(TensorEntry t, PrintOptions? options = null, bool requiresGrad = false)
    {
        // Port of _str_intern (plain CPU strided tensor, no grad, no names).
        options ??= PrintOptions.Default;
        int indent = Prefix.Length;
        var suffixes = new List<string>();
        string tensorStr;
        if (t.DType.IsQuantized() && t.Quantization is { } q)
        {
            CheckQuantization(t, q);
            suffixes.Add("size=" + PythonTuple(t.Shape));
            suffixes.Add("dtype=torch." + t.DType.Name()); // a quantized dtype is never the default
            if (q.Scheme == QuantizationScheme.PerTensorAffine)
            {
                suffixes.Add("quantization_scheme=torch.per_tensor_affine");
                suffixes.Add("scale=" + PythonFloat.Repr(q.Scales[0]));
                suffixes.Add("zero_point=" + q.ZeroPoints[0].ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                // str(q_per_channel_scales()) and str(q_per_channel_zero_points()) are float64 and int64 tensors.
                suffixes.Add("quantization_scheme=torch.per_channel_affine");
                suffixes.Add("scale=" + Format(VectorOf(q.Scales, "scales"), options));
                suffixes.Add("zero_point=" + Format(VectorOf(q.ZeroPoints, "zero_points"), options));
                suffixes.Add("axis=" + q.Axis.ToString(CultureInfo.InvariantCulture));
            }
            tensorStr = TensorStr(t, indent, options); // of self.dequantize()
        }
        else if (t.ElementCount == 0)
        {
            // "Explicitly print the shape if it is not (0,), to match NumPy behavior", and the dtype unless float32,
            // since an empty tensor has no elements to tell it by.
            if (t.Shape.Rank != 1) suffixes.Add("size=" + PythonTuple(t.Shape));
            if (t.DType != DType.Float32) suffixes.Add("dtype=torch." + t.DType.Name());
            tensorStr = "[]";
        }
        else
        {
            if (!HasDefaultDType(t.DType)) suffixes.Add("dtype=torch." + t.DType.Name());
            tensorStr = TensorStr(t, indent, options);
        }
        if (requiresGrad) suffixes.Add("requires_grad=True");
        return AddSuffixes(Prefix + tensorStr, suffixes, indent, options.LineWidth);
    }

    /// <summary>
    /// <c>print(param)</c> of a module's parameter: <c>Parameter containing:</c> and the tensor with
    /// <c>requires_grad=True</c> (<c>Parameter.__repr__</c>).
    /// </summary>
    public static string FormatParameter(TensorEntry t, PrintOptions? options = null) =>
        "Parameter containing:\n" + Format(t, options, requiresGrad: true);

    /// <summary>
    /// Only the bracketed values, as torch lays them out (<c>_tensor_str</c>): <c>[[ 0.1234, -1.5000], …]</c>, without
    /// <c>tensor(</c> and the suffixes; quantized tensors print their dequantized values.
    /// </summary>
    /// <param name="t">The tensor (or a view from <see cref="TensorEntry.Slice"/>).</param>
    /// <param name="options">Print options; null for torch's defaults.</param>
    /// <param name="indent">Columns already used on the first line (torch passes 7 for <c>tensor(</c>); rows align after it.</param>
    public static string FormatValues(TensorEntry t, PrintOptions? options = null, int indent = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(indent);
        return TensorStr(t, indent, options ?? PrintOptions.Default);
    }

    // Readers validate quantization parameters; a tensor built by hand may not have, so say what does not fit.
    private static void CheckQuantization(TensorEntry t, QuantizationInfo q)
    {
        if (q.Scheme == QuantizationScheme.PerTensorAffine)
        {
            if (q.Scales.Length == 0 || q.ZeroPoints.Length == 0)
                throw new ArgumentException($"tensor '{t.Name}' {t.DType.Name()}{t.Shape}: per-tensor quantization needs a scale and a zero point", nameof(t));
            return;
        }
        if (q.Axis < 0 || q.Axis >= t.Shape.Rank || q.Scales.Length != t.Shape[q.Axis] || q.ZeroPoints.Length != q.Scales.Length)
            throw new ArgumentException(
                $"tensor '{t.Name}' {t.DType.Name()}{t.Shape}: per-channel quantization along axis {q.Axis} needs one scale and " +
                $"zero point per channel, found {q.Scales.Length} scales and {q.ZeroPoints.Length} zero points", nameof(t));
    }

    // _str_intern: float32 (the default dtype), its complex counterpart complex64, int64 and bool print no dtype.
    private static bool HasDefaultDType(DType d) => d is DType.Float32 or DType.Complex64 or DType.Int64 or DType.Bool;

    // Port of _tensor_str.
    private static string TensorStr(TensorEntry t, int indent, PrintOptions options)
    {
        if (t.ElementCount == 0) return "[]";
        if (t.DType.IsQuantized() && t.Quantization is { } q) CheckQuantization(t, q);
        bool summarize = t.ElementCount > options.Threshold;
        var values = PrintValues.Read(t, summarize, options.EdgeItems);
        ElementFormatter real, imag;
        switch (values.Kind)
        {
            case PrintKind.Complex:
                real = new ElementFormatter(values.Real, options);
                imag = new ElementFormatter(values.Imag, options);
                break;
            case PrintKind.Real:
                real = new ElementFormatter(values.Real, options);
                imag = real;
                break;
            default:
                real = new ElementFormatter(values.Text);
                imag = real;
                break;
        }
        var printer = new Printer(values, real, values.Kind == PrintKind.Complex ? imag : null, options);
        return printer.Str(0, 0, indent);
    }

    // Port of _add_suffixes.
    private static string AddSuffixes(string tensorStr, List<string> suffixes, int indent, int lineWidth)
    {
        var sb = new StringBuilder(tensorStr);
        // torch's arithmetic, quirk included: rfind returns -1 when there is no newline, so the first line counts 2 extra.
        int lastLineLen = tensorStr.Length - tensorStr.LastIndexOf('\n') + 1;
        foreach (var suffix in suffixes)
        {
            if (lastLineLen + suffix.Length + 2 > lineWidth)
            {
                sb.Append(",\n").Append(' ', indent).Append(suffix);
                lastLineLen = indent + suffix.Length;
            }
            else
            {
                sb.Append(", ").Append(suffix);
                lastLineLen += suffix.Length + 2;
            }
        }
        return sb.Append(')').ToString();
    }

    // str(tuple(shape)): (), (5,), (0, 3).
    private static string PythonTuple(Shape shape) => shape.Rank == 1
        ? "(" + shape[0].ToString(CultureInfo.InvariantCulture) + ",)"
        : "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";

    private static TensorEntry VectorOf(double[] values, string name)
    {
        var bytes = new byte[values.Length * sizeof(double)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        return new TensorEntry(name, DType.Float64, new Shape(values.Length), new ArrayStorage(bytes, name));
    }

    private static TensorEntry VectorOf(long[] values, string name)
    {
        var bytes = new byte[values.Length * sizeof(long)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        return new TensorEntry(name, DType.Int64, new Shape(values.Length), new ArrayStorage(bytes, name));
    }

    /// <summary>Lays out the kept elements: ports of _tensor_str_with_formatter, _vector_str and _scalar_str.</summary>
    private sealed class Printer(PrintValues values, ElementFormatter formatter1, ElementFormatter? formatter2, PrintOptions options)
    {
        private readonly long[] _strides = ContiguousStrides(values.Shape);

        // _tensor_str_with_formatter: `dim` is the dimension being laid out, `offset` the first kept element below it.
        public string Str(int dim, long offset, int indent)
        {
            int rank = values.Shape.Length;
            if (rank == 0) return Element(0);
            if (dim == rank - 1) return Vector(dim, offset, indent);

            var slices = new List<string>();
            long n = values.Shape[dim];
            for (long i = 0; i < n; i++)
            {
                if (values.Summarized[dim] && i == values.Head[dim]) slices.Add("...");
                slices.Add(Str(dim + 1, offset + i * _strides[dim], indent + 1));
            }
            if (values.Summarized[dim] && n == values.Head[dim]) slices.Add("...");
            // dim - 1 newlines between slices, where dim is the sub-tensor's number of dimensions.
            string separator = "," + new string('\n', rank - dim - 1) + new string(' ', indent + 1);
            return "[" + string.Join(separator, slices) + "]";
        }

        // _vector_str
        private string Vector(int dim, long offset, int indent)
        {
            // The length includes the space and comma between elements; complex adds the imaginary part and its 'j'.
            int elementLength = formatter1.Width + 2;
            if (formatter2 is not null) elementLength += formatter2.Width + 1;
            int elementsPerLine = (int)Math.Max(1, Math.Floor((double)(options.LineWidth - indent) / elementLength));

            var data = new List<string>();
            long n = values.Shape[dim];
            for (long i = 0; i < n; i++)
            {
                if (values.Summarized[dim] && i == values.Head[dim]) data.Add(" ...");
                data.Add(Element(offset + i));
            }
            if (values.Summarized[dim] && n == values.Head[dim]) data.Add(" ...");

            var lines = new List<string>();
            for (int i = 0; i < data.Count; i += elementsPerLine)
                lines.Add(string.Join(", ", data.Skip(i).Take(elementsPerLine)));
            return "[" + string.Join(",\n" + new string(' ', indent + 1), lines) + "]";
        }

        // _vector_str's _val_formatter and _scalar_str.
        private string Element(long i)
        {
            if (values.Kind == PrintKind.Text) return formatter1.Format(values.Text[i]);
            string real = formatter1.Format(values.Real[i]);
            if (formatter2 is null) return real;
            string imag = (formatter2.Format(values.Imag[i]) + "j").TrimStart(' ');
            // handles negative numbers, +0.0, -0.0
            return imag[0] is '+' or '-' ? real + imag : real + "+" + imag;
        }

        private static long[] ContiguousStrides(long[] shape)
        {
            var s = new long[shape.Length];
            long acc = 1;
            for (int i = shape.Length - 1; i >= 0; i--)
            {
                s[i] = acc;
                acc *= Math.Max(shape[i], 1);
            }
            return s;
        }
    }
}
