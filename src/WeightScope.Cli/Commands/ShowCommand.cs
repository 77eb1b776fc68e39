using System.CommandLine;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using WeightScope.Cli.Output;
using WeightScope.Modules;
using WeightScope.Output;
using WeightScope.Printing;
using WeightScope.Printing.Numpy;
using WeightScope.Tensors;

namespace WeightScope.Cli.Commands;

/// <summary>
/// <c>weightscope show FILE [NAME|GLOB|NAME[index]…]</c>: tensors' values, printed as the tutorials' loops print them —
/// <c>print(tensor)</c>, <c>print(param)</c> or <c>print(param.data.numpy())</c> — each after a header line.
/// </summary>
internal static class ShowCommand
{
    private const int FlushBytes = 1 << 16;

    public static Command Create()
    {
        var file = Common.FileArgument();
        var names = new Argument<string[]>("names")
        {
            Description = "Tensor names, globs ('fc*', '*.weight') or a name with a numpy-style index ('conv.weight[0,0,0,:]'); none = every tensor",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var selection = new TensorSelectionOptions();
        var style = new Option<string>("--style")
        {
            Description = "torch: print(tensor); parameter: print(param) of a module's parameter (buffers print as tensors); numpy: print(param.data.numpy())",
            DefaultValueFactory = _ => "torch",
        };
        style.AcceptOnlyFromAmong("torch", "parameter", "numpy");
        var noHeader = new Option<bool>("--no-header") { Description = "Print only the values, without the 'name  dtype [shape]' line before each tensor (a single tensor named exactly has none)" };
        var layer = new Option<string?>("--layer") { Description = "Keras: print(layer.get_weights()) of the layer of this name (the list of numpy arrays)" };
        var precision = new Option<int?>("--precision") { Description = "Digits after the decimal point (torch default 4, numpy 8)" };
        var threshold = new Option<long?>("--threshold") { Description = "Elements above which the print is summarized (default 1000)" };
        var edgeItems = new Option<int?>("--edgeitems") { Description = "Items shown at each edge of a summarized dimension (default 3)" };
        var lineWidth = new Option<int?>("--linewidth") { Description = "Characters per line (torch default 80, numpy 75)" };
        var sciMode = new Option<bool?>("--sci-mode") { Description = "torch: true: always scientific notation; false: never; unset: torch decides" };
        var profile = new Option<string?>("--profile") { Description = "torch print profile: default, short or full" };
        profile.AcceptOnlyFromAmong("default", "short", "full");
        var suppress = new Option<bool>("--suppress") { Description = "numpy: never scientific notation for small values (np.set_printoptions(suppress=True))" };
        var floatMode = new Option<string?>("--floatmode") { Description = "numpy: maxprec (default), maxprec_equal, fixed or unique" };
        floatMode.AcceptOnlyFromAmong([.. NumpyPrintOptions.FloatModes]);
        var sign = new Option<string?>("--sign") { Description = "numpy: '-' (default), '+' or ' '" };
        sign.AcceptOnlyFromAmong([.. NumpyPrintOptions.Signs]);
        var reshape = new Option<string?>("--reshape") { Description = "Reshape before printing, one dimension may be -1: '-1,1'" };
        var transpose = new Option<bool>("--transpose", "-T") { Description = "Swap the last two dimensions before printing" };
        var json = Common.JsonOption();
        var cmd = new Command("show", """
            Print tensors' values exactly as PyTorch (torch.set_printoptions) or numpy (np.set_printoptions) prints them.

            Examples:
              weightscope show model.pth fc1.weight
              weightscope show model.pth                                  # every tensor, each after 'name  dtype [shape]'
              weightscope show model.pth '*.weight' --style numpy         # print(p.data.numpy()) for each weight
              weightscope show whole_model.pt --trainable --style parameter   # for p in model.parameters(): print(p)
              weightscope show model.h5 --layer dense_1                   # print(layer.get_weights())
              weightscope show model.pth 'depth_conv.weight[0,0,0,:]' --reshape -1,1
              weightscope show model.pth fc1.weight --precision 2 --sci-mode true
              weightscope show model.pth fc1.bias --json
            """) { file, names, precision, threshold, edgeItems, lineWidth, sciMode, profile, suppress, floatMode, sign, style, noHeader, layer, reshape, transpose, json };
        selection.AddTo(cmd);
        cmd.SetAction(p => Common.Run(() =>
        {
            using var model = Common.Open(p.GetValue(file)!);
            string st = p.GetValue(style)!;
            bool numpy = st == "numpy" || p.GetValue(layer) is not null;
            if (numpy && (p.GetValue(sciMode) is not null || p.GetValue(profile) is not null))
                throw new UsageException("--sci-mode and --profile are torch's print options; numpy's are --precision, --threshold, --edgeitems, --linewidth, --suppress, --floatmode and --sign");
            if (!numpy && (p.GetValue(suppress) || p.GetValue(floatMode) is not null || p.GetValue(sign) is not null))
                throw new UsageException("--suppress, --floatmode and --sign are numpy's print options: add --style numpy");
            var printer = numpy ? NumpyPrinter(p, precision, threshold, edgeItems, lineWidth, suppress, floatMode, sign)
                : TorchPrinter(p, st == "parameter", precision, threshold, edgeItems, lineWidth, sciMode, profile);

            if (p.GetValue(layer) is { } layerName)
            {
                if (p.GetValue(names) is { Length: > 0 } || selection.IsUsed(p))
                    throw new UsageException("--layer prints one layer's get_weights(); leave out tensor names and filters");
                var weights = LayerWeights(model, layerName);
                if (p.GetValue(json)) WriteJsonArray(weights);
                else Console.Out.WriteLine(NumpyFormatter.ReprList(weights, NumpyOptions(p, precision, threshold, edgeItems, lineWidth, suppress, floatMode, sign)));
                return ExitCode.Ok;
            }

            // As list does: say why nothing is shown, and show nothing (exit 0: the file is fine).
            if (selection.NoteRolesUnrecorded(model, p, "show")) return ExitCode.Ok;
            var specs = p.GetValue(names) ?? [];
            var (shown, single) = Select(model, specs, selection.Query(p));
            if (p.GetValue(reshape) is { } r)
            {
                if (shown.Count != 1) throw new UsageException($"--reshape applies to one tensor; {shown.Count} are selected");
                shown[0] = shown[0] with { Tensor = shown[0].Tensor.Reshape(ParseDims(r)) };
            }
            if (p.GetValue(transpose)) shown = [.. shown.Select(s => s with { Tensor = s.Tensor.Transpose(-2, -1) })];
            if (st == "parameter" && shown.Any(s => s.Whole.Role == TensorRole.Other && CanBeParameter(s.Whole)))
                Console.Error.WriteLine($"note: this {model.Format.Name} file does not record which tensors are parameters; floating-point tensors print as parameters (requires_grad=True), others as tensors");

            if (p.GetValue(json))
            {
                if (single) WriteJson(shown[0].Tensor);
                else WriteJsonArray(shown.Select(s => s.Tensor).ToList());
                return ExitCode.Ok;
            }
            // One tensor named exactly prints as print(tensor) always did; a loop (globs, several names, none) gets headers.
            bool header = !p.GetValue(noHeader) && !single;
            var o = Console.Out;
            foreach (var s in shown)
            {
                if (header) o.WriteLine(Header(s.Tensor, numpy));
                o.WriteLine(printer(s));
            }
            // On stderr, so stdout stays exactly what print(tensor) gives.
            if (shown.Count == 1 && LayoutNotes.For(model, shown[0].Whole) is { } note) Console.Error.WriteLine("note: " + note);
            return ExitCode.Ok;
        }));
        return cmd;
    }

    /// <summary>A tensor to print (possibly a view of one) and the file's whole tensor it comes from.</summary>
    private sealed record Shown(TensorEntry Tensor, TensorEntry Whole);

    /// <summary>
    /// The tutorials' header: <c>fc1.weight  float32 [5, 10]</c>, the dtype named as the chosen style names it
    /// (numpy: the array's dtype).
    /// </summary>
    internal static string Header(TensorEntry t, bool numpy) =>
        $"{t.Name}  {(numpy ? NumpyFormatter.DTypeName(t.DType) : t.DType.Name())} {t.Shape}";

    // A Parameter can only be floating point or complex (nn.Parameter of an integer tensor raises in torch).
    private static bool CanBeParameter(TensorEntry t) => t.DType.IsFloatingPoint() || t.DType.IsComplex();

    private static Func<Shown, string> TorchPrinter(ParseResult p, bool parameterStyle, Option<int?> precision, Option<long?> threshold,
        Option<int?> edgeItems, Option<int?> lineWidth, Option<bool?> sciMode, Option<string?> profile)
    {
        var o = p.GetValue(profile) is { } prof ? PrintOptions.FromProfile(prof) : PrintOptions.Default;
        o = o with
        {
            Precision = p.GetValue(precision) ?? o.Precision,
            Threshold = p.GetValue(threshold) ?? o.Threshold,
            EdgeItems = p.GetValue(edgeItems) ?? o.EdgeItems,
            LineWidth = p.GetValue(lineWidth) ?? o.LineWidth,
            SciMode = p.GetValue(sciMode) ?? o.SciMode,
        };
        if (!parameterStyle) return s => TensorFormatter.Format(s.Tensor, o);
        // print(param) for parameters; buffers (and integer tensors of files without roles) are plain tensors.
        return s => s.Whole.Role == TensorRole.Parameter || s.Whole.Role == TensorRole.Other && CanBeParameter(s.Whole)
            ? TensorFormatter.FormatParameter(s.Tensor, o)
            : TensorFormatter.Format(s.Tensor, o);
    }

    private static NumpyPrintOptions NumpyOptions(ParseResult p, Option<int?> precision, Option<long?> threshold, Option<int?> edgeItems,
        Option<int?> lineWidth, Option<bool> suppress, Option<string?> floatMode, Option<string?> sign)
    {
        var d = NumpyPrintOptions.Default;
        var o = d with
        {
            Precision = p.GetValue(precision) ?? d.Precision,
            Threshold = p.GetValue(threshold) ?? d.Threshold,
            EdgeItems = p.GetValue(edgeItems) ?? d.EdgeItems,
            LineWidth = p.GetValue(lineWidth) ?? d.LineWidth,
            Suppress = p.GetValue(suppress),
            FloatMode = p.GetValue(floatMode) ?? d.FloatMode,
            Sign = p.GetValue(sign) ?? d.Sign,
        };
        try { o.Validate(); }
        catch (ArgumentException e) { throw new UsageException($"--{e.ParamName!.ToLowerInvariant()}: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}"); }
        return o;
    }

    private static Func<Shown, string> NumpyPrinter(ParseResult p, Option<int?> precision, Option<long?> threshold, Option<int?> edgeItems,
        Option<int?> lineWidth, Option<bool> suppress, Option<string?> floatMode, Option<string?> sign)
    {
        var o = NumpyOptions(p, precision, threshold, edgeItems, lineWidth, suppress, floatMode, sign);
        return s => NumpyFormatter.Str(s.Tensor, o);
    }

    /// <summary>
    /// The tensors the arguments name, in the order given (each once), narrowed by the filters; every tensor of the
    /// state dict when no name is given. <c>single</c>: one exact name (or indexed name) and no filter — the JSON
    /// answer is then one object, as it always was.
    /// </summary>
    private static (List<Shown> Shown, bool Single) Select(ModelFile model, string[] specs, TensorQuery query)
    {
        bool filtered = query.Globs.Count > 0 || query.Regex is not null || query.ModuleType is not null || query.Roles.Count > 0;
        List<TensorEntry> allowed;
        try { allowed = query.Apply(model).ToList(); }
        catch (InvalidOperationException e) { throw new UsageException(e.Message); }
        var allowedSet = allowed.ToHashSet(ReferenceEqualityComparer.Instance);
        if (specs.Length == 0)
        {
            if (allowed.Count == 0 && model.Tensors.Count > 0) throw new UsageException("no tensor matches the filters");
            return ([.. allowed.Select(t => new Shown(t, t))], false);
        }
        var result = new List<Shown>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        bool single = specs.Length == 1 && !filtered;
        foreach (var spec in specs)
        {
            if (IsGlob(spec) && !TryFind(model, spec, out _, out _))
            {
                var regex = TensorCollection.GlobToRegex(spec);
                var matches = allowed.Where(t => regex.IsMatch(t.Name)).ToList();
                if (matches.Count == 0)
                    throw new UsageException($"no tensor{(filtered ? " left by the filters" : "")} matches '{spec}'");
                single = false;
                foreach (var t in matches)
                    if (seen.Add(t.Name)) result.Add(new Shown(t, t));
                continue;
            }
            var view = Resolve(model, spec, out var whole);
            // A name outside state_dict() (packed quantized weights, TorchScript constants) is shown when asked for.
            if (filtered && !allowedSet.Contains(whole)) continue;
            if (seen.Add(spec)) result.Add(new Shown(view, whole));
        }
        if (result.Count == 0) throw new UsageException("no tensor named is left by the filters");
        return (result, single);
    }

    private static bool IsGlob(string spec) => spec.AsSpan().IndexOfAny('*', '?') >= 0 || spec.Contains('[') && !spec.EndsWith(']');

    /// <summary>
    /// A Keras layer's weights in the file's order, which is the order Keras saved them in (<c>layer.weights</c>:
    /// kernel, bias; gamma, beta, moving_mean, moving_variance) and the order <c>get_weights()</c> returns.
    /// </summary>
    private static List<TensorEntry> LayerWeights(ModelFile model, string layerName)
    {
        if (!model.HasModuleTypes) throw new UsageException($"this {model.Format.Name} file records no layers; --layer reads Keras files (.h5, .keras, .weights.h5)");
        var nodes = model.Modules.Descendants().Where(n => n.Path.Length > 0).ToList();
        var node = nodes.FirstOrDefault(n => n.Path == layerName) ?? nodes.FirstOrDefault(n => n.Name == layerName)
            ?? throw new UsageException($"no layer named '{layerName}'; layers: " + string.Join(", ", nodes.Select(n => n.Path).Take(40)) + (nodes.Count > 40 ? ", …" : ""));
        var order = new Dictionary<TensorEntry, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < model.Tensors.Count; i++) order[model.Tensors[i]] = i;
        return [.. node.AllTensors().Distinct().OrderBy(t => order.GetValueOrDefault(t, int.MaxValue))];
    }

    /// <summary>"name" or "name[index]": the whole text is tried as a name first, since names may contain brackets.</summary>
    internal static TensorEntry Resolve(ModelFile model, string spec, out TensorEntry whole)
    {
        if (TryFind(model, spec, out whole, out var index)) return index is null ? whole : whole.Slice(index);
        whole = model.Tensor(spec); // throws with suggestions, or why the file's entry of that name is not read
        return whole;
    }

    /// <summary>The tensor <paramref name="spec"/> names, whole or as "name[index]" (then <paramref name="index"/> is "[index]").</summary>
    private static bool TryFind(ModelFile model, string spec, out TensorEntry whole, out string? index)
    {
        index = null;
        if (model.Tensors.TryGet(spec, out whole!)) return true;
        int bracket = spec.LastIndexOf('[');
        while (bracket > 0 && spec.EndsWith(']'))
        {
            index = spec[bracket..];
            if (model.Tensors.TryGet(spec[..bracket], out whole!)) return true;
            bracket = spec.LastIndexOf('[', bracket - 1);
        }
        index = null;
        return false;
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

    /// <summary>An array of <see cref="WriteJson"/>'s objects; each tensor's values are read before its object starts.</summary>
    private static void WriteJsonArray(IReadOnlyList<TensorEntry> tensors) =>
        Json.Write(w =>
        {
            w.WriteStartArray();
            foreach (var t in tensors) WriteDocument(w, t, ValueWriter(t));
            w.WriteEndArray();
        });

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
