using System.Text.Json;
using TorchSharp;
using TorchSharp.PyBridge;
using WeightScope;
using WeightScope.Tensors;
using static TorchSharp.torch;

namespace TorchSharpLoad;

/// <summary>
/// Which PyTorch files TorchSharp.PyBridge's load_py refuses and whether WeightScope.TorchSharp loads them. For each
/// file WeightScope detects as pytorch-zip, pytorch-legacy or torchscript, a module is built whose state dict matches
/// the file's (names, shapes, dtypes and roles from ModelFile.Open(path).Tensors; optimizer state and tensors outside
/// state_dict() left out), a fresh one per loader so neither sees the other's values.
/// </summary>
internal static class Survey
{
    private static readonly HashSet<string> PyTorchFormats = ["pytorch-zip", "pytorch-legacy", "torchscript"];
    private static readonly HashSet<string> NotWeights = [".json", ".py", ".md", ".txt", ".sh", ".yaml", ".yml"];

    public static int Run(string[] paths)
    {
        var rows = new List<Row>();
        foreach (var file in paths.SelectMany(Files))
        {
            if (SurveyOne(file) is not { } row) continue;
            rows.Add(row);
            Console.Error.WriteLine(JsonSerializer.Serialize(row));
        }
        // First the files load_py refuses (the question), then those it loads (the control: same sums from both).
        static bool Ok(string result) => result.StartsWith("ok", StringComparison.Ordinal);
        var refused = rows.Where(r => !Ok(r.PyBridge)).ToList();
        var loaded = rows.Where(r => Ok(r.PyBridge)).ToList();
        Console.WriteLine($"{refused.Count} of {rows.Count} PyTorch files refused by load_py; " +
            $"LoadWeights loads {refused.Count(r => Ok(r.WeightScope))} of them ({refused.Count(r => Ok(r.WeightScope) && r.Tensors == 0)} with no state-dict tensor to load), " +
            $"and {loaded.Count(r => Ok(r.WeightScope))} of the {loaded.Count} load_py loads (same sums: {loaded.Count(r => r.Same == "yes")}).");
        foreach (var group in new[] { refused, loaded })
        {
            Console.WriteLine();
            Console.WriteLine("| file | format | module tensors | PyBridge load_py | WeightScope.TorchSharp LoadWeights | same sums |");
            Console.WriteLine("|---|---|---:|---|---|---|");
            foreach (var row in group)
                Console.WriteLine($"| `{row.File}` | {row.Format} | {row.Tensors} | {Cell(row.PyBridge)} | {Cell(row.WeightScope)} | {row.Same} |");
        }
        return 0;
    }

    private static IEnumerable<string> Files(string path) =>
        Directory.Exists(path)
            ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Where(f => !NotWeights.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal)
            : [path];

    internal sealed record Row(string File, string Format, int Tensors, string PyBridge, string WeightScope, string Same);

    private static Row? SurveyOne(string file)
    {
        string shown = Shown(file);
        List<Slot> slots;
        string format;
        var skipped = new List<string>();
        try
        {
            using var model = ModelFile.Open(file);
            format = model.Format.Name;
            if (!PyTorchFormats.Contains(format)) return null;
            slots = [];
            foreach (var t in model.Tensors)
            {
                if (t.Role is TensorRole.OptimizerState or TensorRole.Packed or TensorRole.Attribute or TensorRole.Constant) continue;
                var st = ModuleType(t.DType, out var held);
                if (held is not null) skipped.Add(held);
                bool buffer = t.Role == TensorRole.Buffer || (t.Role == TensorRole.Other && !(t.DType.IsFloatingPoint() || t.DType.IsComplex()));
                slots.Add(new Slot(t.Name, t.Shape.AsSpan().ToArray(), st, buffer));
            }
        }
        catch (UnknownModelFormatException)
        {
            return null; // not a PyTorch file (a plain pickle, joblib, gzip): neither loader's business
        }
        catch (ModelFormatException e) when (!PyTorchFormats.Contains(e.Format))
        {
            return null; // a NumPy, Keras, ONNX… file
        }
        catch (Exception e)
        {
            // WeightScope cannot read it (corrupt, or a documented unsupported feature): what does load_py make of it?
            string pyOnly;
            try
            {
                using var empty = TreeModule.Build("survey", []);
                empty.load_py(file, strict: false);
                pyOnly = "ok (into an empty module)";
            }
            catch (Exception pe) { pyOnly = Describe(pe); }
            return new Row(shown, (e as ModelFormatException)?.Format ?? "?", 0, pyOnly, $"ModelFile.Open: {Describe(e)}", "-");
        }
        if (slots.Count == 1 && slots[0].Name.Length == 0)
            return new Row(shown, format, 0, "-", "-", "- (one bare tensor, not a state dict: no module holds it)");
        bool strict = true;
        string note = skipped.Count == 0 ? "" : $" (module: {string.Join(", ", skipped.Distinct())})";

        Checksum? py = null, ws = null;
        string pyResult, wsResult;
        try
        {
            using var m = Build(slots);
            m.load_py(file, strict: strict);
            py = Checksum.Of(m);
            pyResult = "ok";
        }
        catch (Exception e) { pyResult = Describe(e); }
        try
        {
            using var m = Build(slots);
            wsResult = WeightScopeLoader.Load(m, file, strict);
            ws = Checksum.Of(m);
        }
        catch (Exception e) { wsResult = Describe(e); }
        string same = py is null || ws is null ? "-" : py.Digest == ws.Digest ? "yes" : $"NO ({py.Digest} vs {ws.Digest})";
        return new Row(shown + note, format, slots.Count, pyResult, wsResult, same);
    }

    private static nn.Module Build(List<Slot> slots)
    {
        // Names a module tree cannot hold (an empty segment, a name that is both a tensor and a module) are reported,
        // not worked around.
        foreach (var s in slots)
        {
            if (s.Name.Split('.').Any(p => p.Length == 0) || slots.Any(o => o.Name.StartsWith(s.Name + ".", StringComparison.Ordinal)))
                throw new InvalidOperationException($"no module tree holds the name '{s.Name}'");
        }
        return TreeModule.Build("survey", slots);
    }

    internal static ScalarType? ToScalarType(DType t) => t switch
    {
        DType.Float32 => ScalarType.Float32,
        DType.Float16 => ScalarType.Float16,
        DType.BFloat16 => ScalarType.BFloat16,
        DType.Float64 => ScalarType.Float64,
        DType.Complex64 => ScalarType.ComplexFloat32,
        DType.Complex128 => ScalarType.ComplexFloat64,
        DType.Int8 => ScalarType.Int8,
        DType.UInt8 => ScalarType.Byte,
        DType.Int16 => ScalarType.Int16,
        DType.Int32 => ScalarType.Int32,
        DType.Int64 => ScalarType.Int64,
        DType.Bool => ScalarType.Bool,
        _ => null,
    };

    // Types TorchSharp 0.107 cannot give a module tensor (quantized, float8, unsigned wider than 8 bits): the module
    // holds what a .NET user would hold instead — the dequantized float32 values, or the next wider signed integer.
    private static ScalarType ModuleType(DType t, out string? note)
    {
        note = null;
        if (ToScalarType(t) is { } exact) return exact;
        var held = t switch
        {
            DType.UInt16 => ScalarType.Int32,
            DType.UInt32 or DType.UInt64 => ScalarType.Int64,
            _ => ScalarType.Float32,
        };
        note = $"{t.Name()} held as {held.ToString().ToLowerInvariant()}";
        return held;
    }

    private static string Describe(Exception e)
    {
        var inner = e is System.Reflection.TargetInvocationException { InnerException: { } i } ? i : e;
        string first = inner.Message.Split('\n', 2)[0].Trim();
        // The file is named in its row: keep the cell to the message.
        if (inner is ModelFormatException m && m.FilePath is { } fp) first = first.Replace(fp + ", ", "", StringComparison.Ordinal);
        if (first.Length > 160) first = first[..157] + "...";
        return $"{inner.GetType().Name}: {first}";
    }

    private static string Cell(string s) => s.Replace("|", "\\|");

    private static string Shown(string file)
    {
        foreach (var root in new[] { "tests/fixtures/", "shared/corpus/" })
        {
            int i = file.IndexOf(root, StringComparison.Ordinal);
            if (i >= 0) return file[i..];
        }
        return file;
    }
}
