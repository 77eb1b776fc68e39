using System.CommandLine;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using WeightScope.Cli.Output;
using WeightScope.Modules;
using WeightScope.Output;
using WeightScope.Printing;
using WeightScope.Tensors;

namespace WeightScope.Cli.Commands;

/// <summary><c>weightscope show FILE NAME[index]</c>: a tensor's values, printed as <c>print(tensor)</c> prints them.</summary>
internal static class ShowCommand
{
    private const int FlushBytes = 1 << 16;

    public static Command Create()
    {
        var file = Common.FileArgument();
        var name = new Argument<string>("name") { Description = "Tensor name, optionally with a numpy-style index: 'conv.weight[0,0,0,:]'" };
        var precision = new Option<int?>("--precision") { Description = "Digits after the decimal point (torch default 4)" };
        var threshold = new Option<long?>("--threshold") { Description = "Elements above which the print is summarized (torch default 1000)" };
        var edgeItems = new Option<int?>("--edgeitems") { Description = "Items shown at each edge of a summarized dimension (torch default 3)" };
        var lineWidth = new Option<int?>("--linewidth") { Description = "Characters per line (torch default 80)" };
        var sciMode = new Option<bool?>("--sci-mode") { Description = "true: always scientific notation; false: never; unset: torch decides" };
        var profile = new Option<string?>("--profile") { Description = "torch print profile: default, short or full" };
        profile.AcceptOnlyFromAmong("default", "short", "full");
        var reshape = new Option<string?>("--reshape") { Description = "Reshape before printing, one dimension may be -1: '-1,1'" };
        var transpose = new Option<bool>("--transpose", "-T") { Description = "Swap the last two dimensions before printing" };
        var json = Common.JsonOption();
        var cmd = new Command("show", """
            Print a tensor's values exactly as PyTorch prints them (torch.set_printoptions semantics).

            Examples:
              weightscope show model.pth fc1.weight
              weightscope show model.pth 'depth_conv.weight[0,0,0,:]' --reshape -1,1
              weightscope show model.pth fc1.weight --precision 2 --sci-mode true
              weightscope show model.pth fc1.bias --json
            """) { file, name, precision, threshold, edgeItems, lineWidth, sciMode, profile, reshape, transpose, json };
        cmd.SetAction(p => Common.Run(() =>
        {
            using var model = Common.Open(p.GetValue(file)!);
            var t = Resolve(model, p.GetValue(name)!, out var whole);
            if (p.GetValue(reshape) is { } r) t = t.Reshape(ParseDims(r));
            if (p.GetValue(transpose)) t = t.Transpose(-2, -1);
            var o = p.GetValue(profile) is { } prof ? PrintOptions.FromProfile(prof) : PrintOptions.Default;
            o = o with
            {
                Precision = p.GetValue(precision) ?? o.Precision,
                Threshold = p.GetValue(threshold) ?? o.Threshold,
                EdgeItems = p.GetValue(edgeItems) ?? o.EdgeItems,
                LineWidth = p.GetValue(lineWidth) ?? o.LineWidth,
                SciMode = p.GetValue(sciMode) ?? o.SciMode,
            };
            if (p.GetValue(json)) WriteJson(t);
            else
            {
                Console.Out.WriteLine(TensorFormatter.Format(t, o));
                // On stderr, so stdout stays exactly what print(tensor) gives.
                if (LayoutNotes.For(model, whole) is { } note) Console.Error.WriteLine("note: " + note);
            }
            return ExitCode.Ok;
        }));
        return cmd;
    }

    /// <summary>"name" or "name[index]": the whole text is tried as a name first, since names may contain brackets.</summary>
    internal static TensorEntry Resolve(ModelFile model, string spec, out TensorEntry whole)
    {
        if (model.Tensors.TryGet(spec, out whole!)) return whole;
        int bracket = spec.LastIndexOf('[');
        while (bracket > 0 && spec.EndsWith(']'))
        {
            if (model.Tensors.TryGet(spec[..bracket], out whole!)) return whole.Slice(spec[bracket..]);
            bracket = spec.LastIndexOf('[', bracket - 1);
        }
        whole = model.Tensor(spec); // throws with suggestions, or why the file's entry of that name is not read
        return whole;
    }

    private static long[] ParseDims(string s) =>
        s.Trim('(', ')', '[', ']').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(x => long.TryParse(x, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v
                : throw new UsageException($"--reshape: '{x}' is not an integer")).ToArray();

    /// <summary><c>{"name","dtype","shape","values"}</c>, values nested like <c>tensor.tolist()</c>.</summary>
    private static void WriteJson(TensorEntry t)
    {
        // Values are read (and any error raised) before the first byte of output, so a failure never leaves half a document.
        var writeValue = ValueWriter(t);
        Json.Write(w => WriteDocument(w, t, writeValue));
    }

    private static void WriteDocument(Utf8JsonWriter w, TensorEntry t, Action<Utf8JsonWriter, long> writeValue)
    {
        w.WriteStartObject();
        w.WriteString("name", t.Name);
        w.WriteString("dtype", t.DType.Name());
        ModelJson.Shape(w, "shape", t.Shape);
        if (t.Quantization is { } q)
        {
            if (q.Scheme == QuantizationScheme.Block)
            {
                w.WriteString("block_type", q.BlockType); // the values are already dequantized; the scales live in the blocks
            }
            else if (q.Scheme == QuantizationScheme.PerTensorAffine)
            {
                w.WriteNumber("scale", q.Scales[0]);
                w.WriteNumber("zero_point", q.ZeroPoints[0]);
            }
            else
            {
                w.WriteStartArray("scale");
                foreach (var s in q.Scales) w.WriteNumberValue(s);
                w.WriteEndArray();
                w.WriteStartArray("zero_point");
                foreach (var z in q.ZeroPoints) w.WriteNumberValue(z);
                w.WriteEndArray();
                w.WriteNumber("axis", q.Axis);
            }
        }
        w.WritePropertyName("values");
        long index = 0;
        Nest(w, t.Shape, 0, ref index, writeValue);
        w.WriteEndObject();
    }

    private static void Nest(Utf8JsonWriter w, Shape shape, int dim, ref long index, Action<Utf8JsonWriter, long> value)
    {
        if (dim == shape.Rank)
        {
            value(w, index++);
            if (w.BytesPending > FlushBytes) w.Flush(); // stream large outputs instead of holding them
            return;
        }
        w.WriteStartArray();
        for (long i = 0; i < shape[dim]; i++) Nest(w, shape, dim + 1, ref index, value);
        w.WriteEndArray();
    }

    // tolist() gives Python ints for integer types, bools for bool, floats (float64) for float types and for
    // dequantized values, complex numbers for complex (written as [real, imag]: JSON has no complex).
    private static Action<Utf8JsonWriter, long> ValueWriter(TensorEntry t)
    {
        switch (t.DType)
        {
            case DType.Bool:
                {
                    var v = t.ToArray<bool>();
                    return (w, i) => w.WriteBooleanValue(v[i]);
                }
            case DType.Int64:
                {
                    var v = t.ToArray<long>();
                    return (w, i) => w.WriteNumberValue(v[i]);
                }
            case DType.UInt64:
                {
                    var v = t.ToArray<ulong>();
                    return (w, i) => w.WriteNumberValue(v[i]);
                }
            case DType.Complex128:
                {
                    var v = t.ToArray<Complex>();
                    return (w, i) => { w.WriteStartArray(); ModelJson.Number(w, v[i].Real); ModelJson.Number(w, v[i].Imaginary); w.WriteEndArray(); };
                }
            case DType.Complex64:
                {
                    var raw = t.ToArray<ulong>();
                    return (w, i) =>
                    {
                        w.WriteStartArray();
                        ModelJson.Number(w, BitConverter.Int32BitsToSingle((int)(raw[i] & 0xFFFFFFFF)));
                        ModelJson.Number(w, BitConverter.Int32BitsToSingle((int)(raw[i] >> 32)));
                        w.WriteEndArray();
                    };
                }
            default:
                {
                    var v = t.ToFloat64();
                    bool integral = t.DType.IsInteger() && t.Quantization is null;
                    return integral ? (w, i) => w.WriteNumberValue((long)v[i]) : (w, i) => ModelJson.Number(w, v[i]);
                }
        }
    }
}
