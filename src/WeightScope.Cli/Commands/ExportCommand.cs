using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using WeightScope.Cli.Output;
using WeightScope.Export;
using WeightScope.Output;
using WeightScope.Printing;
using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Cli.Commands;

/// <summary><c>weightscope export FILE [NAME...] --to c|mem|coe|mif|txt|csv --out DIR</c>: weights for embedded and FPGA tools.</summary>
internal static class ExportCommand
{
    private static readonly string[] Targets = ["c", "mem", "coe", "mif", "txt", "csv"];

    public static Command Create()
    {
        var file = Common.FileArgument();
        var names = new Argument<string[]>("name") { Description = "Tensor names, globs ('*.weight') or indexed views ('conv.weight[0]'); default all", Arity = ArgumentArity.ZeroOrMore };
        var to = new Option<string>("--to") { Description = "Output format: c (C/C++ header), mem ($readmemh/$readmemb), coe (Xilinx), mif (Intel), txt, csv", Required = true };
        to.AcceptOnlyFromAmong(Targets);
        var output = new Option<string>("--out", "-o") { Description = "Output folder (created if missing); one file per tensor, named after it", Required = true };
        var index = new Option<string?>("--index") { Description = "numpy-style index applied to every selected tensor first: '[0,0,0,:]'" };
        var reshape = new Option<string?>("--reshape") { Description = "Reshape (after --index), one dimension may be -1: '-1,1'" };
        var transpose = new Option<bool>("--transpose", "-T") { Description = "Swap the last two dimensions (after --reshape; tensors below 2 dimensions are left as they are)" };
        var order = new Option<string>("--order") { Description = "Element order: row (C, last index fastest) or col (column-major, first index fastest)", DefaultValueFactory = _ => "row" };
        order.AcceptOnlyFromAmong("row", "col");
        var single = new Option<bool>("--single") { Description = "c: all tensors in one header named after the model file, instead of one header per tensor" };
        var flat = new Option<bool>("--flat") { Description = "c: one-dimensional arrays instead of nested braces" };
        var align = new Option<int?>("--align") { Description = "c: __attribute__((aligned(N))) on each array (N a power of two)" };
        var section = new Option<string?>("--section") { Description = "c: __attribute__((section(NAME))) on each array, e.g. .rodata.weights" };
        var radix = new Option<string?>("--radix") { Description = "mem/coe/mif: hex (default), bin, or dec (coe, mif)" };
        radix.AcceptOnlyFromAmong("hex", "bin", "dec");
        var width = new Option<int?>("--width") { Description = "mem/coe/mif: word width in bits (default: the dtype's or quantization's); negatives in two's complement" };
        var floatBits = new Option<bool>("--float-bits") { Description = "mem/coe/mif: write float tensors as their raw IEEE-754 bits (otherwise they must be quantized)" };
        var perLine = new Option<string>("--per-line") { Description = "txt/csv: one value or one row (last dimension) per line", DefaultValueFactory = _ => "value" };
        perLine.AcceptOnlyFromAmong("value", "row");
        var precision = new Option<int?>("--precision") { Description = "txt/csv: write floats as print(tensor) does, with this many digits after the decimal point (rounds). Default: the shortest text that reads back exactly (Python's repr for float64, numpy's str for float32/float16)" };
        var sciMode = new Option<bool?>("--sci-mode") { Description = "txt/csv: torch's notation (as --precision, default precision 4): true: always scientific; false: never" };
        var fixedQ = new Option<string?>("--fixed") { Description = "Signed fixed point Qm.n: 1 sign bit + m integer bits + n fraction bits (Q3.12 = 16 bits); TI's Qn is Q0.n (Q15 = 16 bits)" };
        var int8 = new Option<bool>("--int8") { Description = "Quantize to int8 with a scale (and zero point)" };
        var int16 = new Option<bool>("--int16") { Description = "Quantize to int16 with a scale (and zero point)" };
        var symmetric = new Option<bool>("--symmetric") { Description = "--int8/--int16: zero point 0, scale = max|x| / (2^(b-1) - 1) (default)" };
        var asymmetric = new Option<bool>("--asymmetric") { Description = "--int8/--int16: scale and zero point from min and max (torch MinMaxObserver rule)" };
        var perChannel = new Option<int?>("--per-channel") { Description = "--int8/--int16: one scale and zero point per index of this axis (0 = output channels)" };
        var rounding = new Option<string?>("--rounding") { Description = "nearest-even (default) or truncate (toward -infinity: fraction bits dropped)" };
        rounding.AcceptOnlyFromAmong("nearest-even", "truncate");
        var overflow = new Option<string?>("--overflow") { Description = "saturate (default) or wrap (two's complement) for values outside the range" };
        overflow.AcceptOnlyFromAmong("saturate", "wrap");
        var splitGates = new Option<bool>("--split-gates") { Description = "Split GRU/LSTM weights and biases into one tensor per gate (PyTorch r,z,n / i,f,g,o; Keras z,r,h / i,f,c,o; ONNX z,r,h / i,o,f,c), named with the source framework's gate letters" };
        var gateOrder = new Option<string?>("--gate-order") { Description = "--split-gates: order of the gates written, e.g. 'i,f,g,o', 'z,r,n' (any framework's letters: n = h, g = c) or a framework name (pytorch, keras, onnx)" };
        var gateLayout = new Option<string?>("--gate-layout") { Description = "--split-gates: the framework layout of the weights (default: detected from names and the model graph)" };
        gateLayout.AcceptOnlyFromAmong("pytorch", "keras", "onnx");
        var json = Common.JsonOption();
        var cmd = new Command("export", """
            Export tensors for embedded code and FPGA tools: C/C++ headers, Verilog $readmemh/$readmemb .mem files, Xilinx .coe,
            Intel .mif, plain text and CSV; optionally as fixed point (--fixed Qm.n) or int8/int16 with scale and zero point,
            reporting the error each quantization makes (max |error|, RMSE, SNR, saturated values). Stored quantized tensors
            (qint8, quint8, qint32) are written as their integers with their own scale and zero point.
            txt/csv write each float as the shortest text that reads back to the same value (np.loadtxt gets the exact
            bits), unless --precision N asks for torch's rounded notation. --fixed takes Qm.n or TI's Qn (Q15 = Q0.15).

            Examples:
              weightscope export model.pth --to c --out include/
              weightscope export model.pth 'fc*.weight' --to c --single --align 16 --section .rodata.weights --out include/
              weightscope export model.pth fc1.weight --to mem --fixed Q3.12 --out rtl/
              weightscope export model.pth fc1.weight --to coe --int8 --per-channel 0 --radix bin --out ip/
              weightscope export model.pth fc1.weight --to mif --int16 --asymmetric --out quartus/
              weightscope export model.pth conv.weight --index '[0,0,0,:]' --reshape -1,1 --to txt --precision 6 --out txt/
              weightscope export model.pth fc1.weight --to csv --per-line row --order col --out csv/
              weightscope export model.pth fc1.weight --to mem --fixed Q15 --out rtl/
              weightscope export model.pth fc1.weight --to mem --float-bits --out rtl/
              weightscope export gru.pt 'gru.*' --split-gates --gate-order z,r,n --to mem --fixed Q3.12 --out bram/
            """)
        {
            file, names, to, output, index, reshape, transpose, order, single, flat, align, section, radix, width, floatBits,
            perLine, precision, sciMode, fixedQ, int8, int16, symmetric, asymmetric, perChannel, rounding, overflow,
            splitGates, gateOrder, gateLayout, json,
        };
        cmd.SetAction(p => Common.Run(() =>
        {
            string target = p.GetValue(to)!;
            bool isC = target == "c", isMemory = target is "mem" or "coe" or "mif", isText = target is "txt" or "csv";
            void Only(bool allowed, string option, string where)
            {
                if (!allowed) throw new UsageException($"{option} applies to {where} only, not --to {target}");
            }
            Only(isC || !p.GetValue(single), "--single", "--to c");
            Only(isC || !p.GetValue(flat), "--flat", "--to c");
            Only(isC || p.GetValue(align) is null, "--align", "--to c");
            Only(isC || p.GetValue(section) is null, "--section", "--to c");
            Only(isMemory || p.GetValue(radix) is null, "--radix", "--to mem|coe|mif");
            Only(isMemory || p.GetValue(width) is null, "--width", "--to mem|coe|mif");
            Only(isMemory || !p.GetValue(floatBits), "--float-bits", "--to mem|coe|mif");
            Only(isText || p.GetResult(perLine) is null or { Implicit: true }, "--per-line", "--to txt|csv");
            Only(isText || p.GetValue(precision) is null, "--precision", "--to txt|csv");
            Only(isText || p.GetValue(sciMode) is null, "--sci-mode", "--to txt|csv");
            if (target == "mem" && p.GetValue(radix) == "dec") throw new UsageException("--radix dec: $readmemh/$readmemb files are hex or binary; use --radix hex or bin");
            if (p.GetValue(width) is int w && (w < 1 || w > 64)) throw new UsageException($"--width must be 1 to 64 bits (got {w})");
            if (p.GetValue(align) is int a && (a < 1 || (a & (a - 1)) != 0)) throw new UsageException($"--align must be a power of two (got {a})");
            if (p.GetValue(precision) is < 0) throw new UsageException("--precision must be 0 or more");

            var encoding = Encoding(p.GetValue(fixedQ), p.GetValue(int8), p.GetValue(int16), p.GetValue(symmetric), p.GetValue(asymmetric),
                p.GetValue(perChannel), p.GetValue(rounding), p.GetValue(overflow), p.GetValue(floatBits));
            var elementOrder = p.GetValue(order) == "col" ? ElementOrder.Column : ElementOrder.Row;
            string outDir = p.GetValue(output)!;
            string modelPath = p.GetValue(file)!;

            using var model = Common.Open(modelPath);
            var specs = p.GetValue(names) ?? [];
            var selected = specs.Length == 0 ? model.Tensors.ToList() : HistCommand.Select(model, specs);
            if (selected.Count == 0) throw new UsageException($"{modelPath} has no tensors to export");
            GateSplitResult? gates = null;
            if (p.GetValue(splitGates))
            {
                gates = SplitGates(model, selected, p.GetValue(gateOrder), p.GetValue(gateLayout));
                selected = [.. gates.Tensors];
            }
            else if (p.GetValue(gateOrder) is not null || p.GetValue(gateLayout) is not null)
            {
                throw new UsageException("--gate-order and --gate-layout apply to --split-gates");
            }
            var views = selected.Select(t =>
            {
                if (p.GetValue(index) is { } ix) t = t.Slice(ix);
                if (p.GetValue(reshape) is { } r) t = t.Reshape(ParseDims(r));
                // As torch's .T, a no-op below two dimensions: exporting a whole model with -T transposes the matrices
                // and leaves the biases alone.
                if (p.GetValue(transpose) && t.Shape.Rank >= 2) t = t.Transpose(-2, -1);
                return t;
            }).ToList();

            // Everything is computed and rendered before the first file is written: a tensor that cannot be exported
            // leaves no partial set of files behind, and each file is then replaced atomically.
            List<ExportTensor> tensors;
            List<(string Path, string Content, List<int> Members)> files;
            try
            {
                tensors = views.Select(t => Progress.Run($"export {t.Name}", 1, t.ByteSize, done =>
                {
                    var e = ExportTensor.Create(t, encoding, elementOrder);
                    done(1);
                    return e;
                })).ToList();
                var ids = CIdentifiers.Assign(tensors.Select(t => t.Name));
                files = Render(tensors, ids, target, outDir, modelPath, p.GetValue(single), new CHeaderOptions
                {
                    Flat = p.GetValue(flat),
                    Align = p.GetValue(align),
                    Section = p.GetValue(section),
                    Source = modelPath,
                }, new MemoryFileOptions
                {
                    Width = p.GetValue(width),
                    Radix = p.GetValue(radix) switch { "bin" => Radix.Binary, "dec" => Radix.Decimal, _ => Radix.Hex },
                    Source = Path.GetFileName(modelPath),
                }, new TextExportOptions
                {
                    Csv = target == "csv",
                    PerLine = p.GetValue(perLine) == "row" ? PerLine.Row : PerLine.Value,
                    // Lossless unless a notation is asked for: np.loadtxt reads back the exact values.
                    RoundTrip = p.GetValue(precision) is null && p.GetValue(sciMode) is null,
                    Print = PrintOptions.Default with
                    {
                        Precision = p.GetValue(precision) ?? PrintOptions.Default.Precision,
                        SciMode = p.GetValue(sciMode),
                    },
                });
            }
            catch (ModelWriteException e)
            {
                throw new UsageException(e.Message);
            }

            if (encoding.Quantizes || encoding.FloatBits)
                foreach (var t in tensors.Where(t => t.Quantized is null && !t.IsFloatBits))
                    Console.Error.WriteLine($"note: {t.Name} is {t.SourceDType.Name()}: written as its integers, not converted");
            Directory.CreateDirectory(outDir);
            var fileOf = new string[tensors.Count];
            foreach (var (path, content, members) in files)
            {
                AtomicFile.Write(path, fs =>
                {
                    using var sw = new StreamWriter(fs, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
                    sw.Write(content);
                });
                foreach (var m in members) fileOf[m] = path;
            }
            if (p.GetValue(json)) WriteJson(tensors, fileOf, gates);
            else WriteText(tensors, fileOf, gates);
            return ExitCode.Ok;
        }));
        return cmd;
    }

    private static ExportEncoding Encoding(string? fixedQ, bool int8, bool int16, bool symmetric, bool asymmetric, int? perChannel,
        string? rounding, string? overflow, bool floatBits)
    {
        int quantizers = (fixedQ is null ? 0 : 1) + (int8 ? 1 : 0) + (int16 ? 1 : 0);
        if (quantizers > 1) throw new UsageException("choose one of --fixed, --int8 and --int16");
        if (floatBits && quantizers > 0) throw new UsageException("--float-bits writes float bits unquantized; it cannot be combined with --fixed/--int8/--int16");
        bool integer = int8 || int16;
        if (!integer && (symmetric || asymmetric || perChannel is not null))
            throw new UsageException("--symmetric, --asymmetric and --per-channel apply to --int8/--int16 (--fixed has a fixed scale)");
        if (symmetric && asymmetric) throw new UsageException("choose one of --symmetric and --asymmetric");
        if (quantizers == 0 && (rounding is not null || overflow is not null))
            throw new UsageException("--rounding and --overflow apply to --fixed/--int8/--int16");
        return new ExportEncoding
        {
            Fixed = fixedQ is null ? null : QFormat.Parse(fixedQ),
            IntegerBits = int8 ? 8 : int16 ? 16 : null,
            Scheme = asymmetric ? IntegerScheme.Asymmetric : IntegerScheme.Symmetric,
            PerChannelAxis = perChannel,
            Rounding = rounding == "truncate" ? Rounding.Truncate : Rounding.NearestEven,
            Overflow = overflow == "wrap" ? Overflow.Wrap : Overflow.Saturate,
            FloatBits = floatBits,
        };
    }

    private static List<(string Path, string Content, List<int> Members)> Render(List<ExportTensor> tensors, IReadOnlyList<string> ids, string target,
        string outDir, string modelPath, bool single, CHeaderOptions c, MemoryFileOptions memory, TextExportOptions text)
    {
        var files = new List<(string, string, List<int>)>();
        if (target == "c" && single)
        {
            var stem = CIdentifiers.Sanitize(Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(modelPath)));
            var sw = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
            CHeader.Write(tensors, ids, stem, sw, c);
            files.Add((Path.Combine(outDir, stem + CHeader.Extension), sw.ToString(), Enumerable.Range(0, tensors.Count).ToList()));
            return files;
        }
        for (int k = 0; k < tensors.Count; k++)
        {
            var t = tensors[k];
            var sw = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
            string ext;
            switch (target)
            {
                case "c": CHeader.Write([t], [ids[k]], ids[k], sw, c); ext = CHeader.Extension; break;
                case "mem": MemFile.Write(t, sw, memory); ext = MemFile.Extension; break;
                case "coe": Coe.Write(t, sw, memory); ext = Coe.Extension; break;
                case "mif": Mif.Write(t, sw, memory); ext = Mif.Extension; break;
                case "csv": Export.Text.Write(t, sw, text); ext = Export.Text.CsvExtension; break;
                default: Export.Text.Write(t, sw, text); ext = Export.Text.TextExtension; break;
            }
            files.Add((Path.Combine(outDir, ids[k] + ext), sw.ToString(), [k]));
        }
        return files;
    }

    private static string Encoded(ExportTensor t) => t.IsStoredQuantization ? $"stored {t.SourceDType.Name()}"
        : t.Quantized is { } q
        ? q.Format is { } f ? f.ToString() : $"int{q.Bits} {(q.ZeroPoints.Any(z => z != 0) ? "asymmetric" : "symmetric")}{(q.Axis is int a ? $" per channel (axis {a})" : "")}"
        : t.IsFloatBits ? $"{t.SourceDType.Name()} bits" : t.SourceDType.Name();

    // Gates are found over the whole model (a GRU's weight_ih alone does not say whether its rows are 3 or 4 gates: its
    // weight_hh partner does), then each selected tensor that was split is replaced by its gates, in place; so a name
    // given on the command line is the stacked tensor's, and --index, --reshape and --transpose apply to each gate.
    private static GateSplitResult SplitGates(ModelFile model, List<TensorEntry> selected, string? order, string? layout)
    {
        GateSplitResult all;
        try
        {
            all = GateSplit.Run(model.Tensors, new GateSplitOptions
            {
                GateOrder = order,
                Layout = layout switch { "pytorch" => GateLayout.PyTorch, "keras" => GateLayout.Keras, "onnx" => GateLayout.Onnx, _ => null },
            }, model.HasModuleTypes ? model.Modules : null);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new UsageException("--split-gates: " + e.Message);
        }
        var byName = all.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var records = all.Split.ToDictionary(r => r.Source, StringComparer.Ordinal);
        var tensors = selected.SelectMany(t => records.TryGetValue(t.Name, out var r) ? r.Outputs.Select(o => byName[o]) : [t]).ToList();
        var split = selected.Where(t => records.ContainsKey(t.Name)).Select(t => records[t.Name]).ToList();
        var selectedNames = selected.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var notes = all.Notes.Where(n => selectedNames.Any(name => n.Contains(name, StringComparison.Ordinal))).ToList();
        foreach (var note in notes) Console.Error.WriteLine($"note: {note}");
        if (split.Count == 0)
            throw new UsageException("--split-gates: no GRU or LSTM weights among the selected tensors" +
                                     (notes.Count > 0 ? " (see the notes above)" : " (PyTorch weight_ih_l0/weight_hh_l0…, Keras kernel/recurrent_kernel/bias of a GRU or LSTM cell, ONNX GRU/LSTM W/R/B)"));
        return new GateSplitResult(tensors, split, notes);
    }

    private static void WriteText(List<ExportTensor> tensors, string[] fileOf, GateSplitResult? gates)
    {
        foreach (var g in gates?.Split ?? [])
            Console.Out.WriteLine($"split {g.Source} ({g.Layout.ToString().ToLowerInvariant()} {g.Cell.ToString().ToUpperInvariant()}, gates {string.Join(",", g.Gates.ToCharArray())}) -> {string.Join(", ", g.Outputs)}");
        for (int k = 0; k < tensors.Count; k++)
        {
            var t = tensors[k];
            var line = $"{t.Name}  {t.SourceDType.Name()} [{string.Join(", ", t.Shape)}] -> {fileOf[k]}  ({Encoded(t)})";
            if (t.Quantized is { } q && !t.IsStoredQuantization)
            {
                var r = q.Report;
                line += $"  max|err| {G(r.MaxAbsError)}  RMSE {G(r.Rmse)}  SNR {(double.IsPositiveInfinity(r.SnrDb) ? "inf" : r.SnrDb.ToString("F1", CultureInfo.InvariantCulture))} dB"
                        + $"  saturated {r.Saturated}";
            }
            Console.Out.WriteLine(line);
        }
    }

    private static string G(double v) => v.ToString("G4", CultureInfo.InvariantCulture);

    /// <summary><c>{"split_gates"?:[{"source","layout","cell","gates","outputs"}],"tensors":[{"name","dtype","shape","file","encoding","bits","signed", quantized: "scale","zero_point","axis","report":{…}}]}</c>.</summary>
    private static void WriteJson(List<ExportTensor> tensors, string[] fileOf, GateSplitResult? gates) => Json.Write(w =>
    {
        w.WriteStartObject();
        if (gates is not null)
        {
            w.WriteStartArray("split_gates");
            foreach (var g in gates.Split)
            {
                w.WriteStartObject();
                w.WriteString("source", g.Source);
                w.WriteString("layout", g.Layout.ToString().ToLowerInvariant());
                w.WriteString("cell", g.Cell.ToString().ToLowerInvariant());
                w.WriteString("gates", g.Gates);
                ModelJson.Strings(w, "outputs", g.Outputs);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteStartArray("tensors");
        for (int k = 0; k < tensors.Count; k++)
        {
            var t = tensors[k];
            w.WriteStartObject();
            w.WriteString("name", t.Name);
            w.WriteString("dtype", t.SourceDType.Name());
            ModelJson.Integers(w, "shape", t.Shape);
            w.WriteString("order", t.Order == ElementOrder.Column ? "col" : "row");
            w.WriteString("file", fileOf[k]);
            w.WriteString("encoding", Encoded(t));
            if (t.Words is not null)
            {
                w.WriteNumber("bits", t.WordBits);
                w.WriteBoolean("signed", t.Signed);
            }
            if (t.Quantized is { } q) WriteQuantization(w, q, report: !t.IsStoredQuantization);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static void WriteQuantization(Utf8JsonWriter w, QuantizedValues q, bool report)
    {
        if (q.Format is { } f)
        {
            w.WriteString("q_format", f.ToString());
            w.WriteNumber("frac_bits", f.FractionBits);
        }
        if (q.Axis is int axis)
        {
            ModelJson.Numbers(w, "scale", q.Scales);
            ModelJson.Integers(w, "zero_point", q.ZeroPoints);
            w.WriteNumber("axis", axis);
        }
        else
        {
            w.WriteNumber("scale", q.Scales[0]);
            w.WriteNumber("zero_point", q.ZeroPoints[0]);
        }
        if (!report) return; // stored integers: nothing was approximated here
        w.WriteStartObject("report");
        ModelJson.Number(w, "max_abs_error", q.Report.MaxAbsError);
        ModelJson.Number(w, "rmse", q.Report.Rmse);
        ModelJson.Number(w, "snr_db", q.Report.SnrDb);
        w.WriteNumber("saturated", q.Report.Saturated);
        w.WriteEndObject();
    }

    private static long[] ParseDims(string s) =>
        s.Trim('(', ')', '[', ']').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(x => long.TryParse(x, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v
                : throw new UsageException($"--reshape: '{x}' is not an integer")).ToArray();
}
