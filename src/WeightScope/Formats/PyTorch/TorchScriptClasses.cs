using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using WeightScope.Formats.PyTorch.Pickle;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// What a TorchScript archive's <c>code/</c> says about a class (torch/csrc/jit/serialization/python_print.cpp writes it):
/// <c>class Linear(Module):</c> followed by <c>__parameters__ = ["weight", "bias", ]</c>, <c>__buffers__ = [...]</c>,
/// attribute annotations and <c>Final</c> constants such as <c>in_features : Final[int] = 2</c>; and, for a class that
/// pickles a <c>__getstate__</c> tuple instead of its attributes (torch's quantized convolutions), what its
/// <c>__setstate__</c> does with each item.
/// </summary>
internal sealed record ScriptClass(string Name, bool IsModule, IReadOnlyList<string> Parameters, IReadOnlyList<string> Buffers,
    IReadOnlyList<KeyValuePair<string, object?>> Constants)
{
    /// <summary>
    /// <c>__setstate__</c>'s assignments <c>self.NAME = (state)[i]</c>, by item index; null when the class has no
    /// <c>__setstate__</c> (its objects pickle their attributes as a dict).
    /// </summary>
    public IReadOnlyDictionary<int, string>? SetState { get; init; }

    /// <summary>
    /// The items <c>__setstate__</c> passes to <c>set_weight_bias((state)[w], (state)[b])</c> (torch's quantized modules
    /// pack them); their <c>_save_to_state_dict</c> names them <c>weight</c> and <c>bias</c>.
    /// </summary>
    public (int Weight, int Bias)? SetStateWeightBias { get; init; }
}

/// <summary>
/// The classes of a TorchScript archive: a module object is a <c>__torch__.…</c> class whose state dict lists every
/// attribute in slot order; which of them are parameters and buffers comes from the class source in <c>code/</c>.
/// </summary>
internal sealed partial class TorchScriptSchema(TorchArchive archive, ReaderLimits limits)
{
    /// <summary>The namespace of torchbind (C++ custom) classes: packed quantized parameters, xnnpack op contexts.</summary>
    public const string TorchbindNamespace = TorchScriptRoot + ".torch.classes.";

    private const string TorchScriptRoot = "__torch__";
    private readonly Dictionary<string, Dictionary<string, ScriptClass>> _files = new(StringComparer.Ordinal);

    /// <summary>The class a global names, from its source file (<c>code/__torch__/a/b.py</c> for module <c>__torch__.a.b</c>).</summary>
    public ScriptClass? Find(PyGlobal g)
    {
        if (g.Module != TorchScriptRoot && !g.Module.StartsWith(TorchScriptRoot + ".", StringComparison.Ordinal)) return null;
        string file = $"code/{g.Module.Replace('.', '/')}.py";
        if (!_files.TryGetValue(file, out var classes))
        {
            classes = [];
            if (archive.Record(file) is { } e)
                foreach (var c in Parse(Encoding.UTF8.GetString(archive.Bytes(e, limits)))) classes.TryAdd(c.Name, c);
            _files[file] = classes;
        }
        return classes.GetValueOrDefault(g.Name);
    }

    /// <summary>True when <paramref name="o"/> is a TorchScript module (its class derives from <c>Module</c>).</summary>
    public bool IsModule(PyObject o)
    {
        if (o.Class is not { } g || Find(g) is not { } c)
            // Without source: a __torch__ object with a 'training' flag is a module.
            return o.Class?.Module.StartsWith(TorchScriptRoot, StringComparison.Ordinal) == true && o.StateDict?.ContainsKey("training") == true;
        return c.IsModule;
    }

    /// <summary>True when <paramref name="o"/> is an instance of a torchbind class (a C++ object pickled by its <c>__getstate__</c>).</summary>
    public static bool IsTorchbind(PyObject o) => o.Class is { } g && (g.Module + ".").StartsWith(TorchbindNamespace, StringComparison.Ordinal);

    /// <summary>Short and qualified class name (<c>Linear</c>, <c>__torch__.torch.nn.modules.linear.Linear</c>).</summary>
    public static (string Type, string QualifiedType) TypeOf(PyObject module) =>
        module.Class is { } g ? (g.Name, g.FullName) : (module.TypeName, module.TypeName);

    /// <summary>The classes of one source file.</summary>
    internal static IEnumerable<ScriptClass> Parse(string source)
    {
        ClassBuilder? c = null;
        foreach (var raw in source.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0) continue;
            int indent = line.Length - line.TrimStart().Length;
            if (indent == 0)
            {
                if (c is not null) yield return c.Build();
                c = ClassLine().Match(line) is { Success: true } m ? new ClassBuilder(m.Groups[1].Value, m.Groups[2].Value) : null;
                continue;
            }
            c?.Add(line.Trim(), indent);
        }
        if (c is not null) yield return c.Build();
    }

    // One class being read: its member lines (at the first indentation seen) and the bodies of its methods.
    private sealed class ClassBuilder(string name, string bases)
    {
        private readonly bool _isModule = bases.Split(',').Select(b => b.Trim()).Any(b => b is "Module" or "torch.nn.Module");
        private readonly List<KeyValuePair<string, object?>> _constants = [];
        private List<string> _parameters = [], _buffers = [];
        private Dictionary<int, string>? _setState;
        private (int, int)? _weightBias;
        private int _memberIndent = -1;
        private string? _method;

        public void Add(string t, int indent)
        {
            if (_memberIndent < 0) _memberIndent = indent;
            if (indent == _memberIndent)
            {
                _method = DefLine().Match(t) is { Success: true } d ? d.Groups[1].Value : null;
                if (_method == "__setstate__") _setState = [];
                else if (_method is not null) return;
                else if (t.StartsWith("__parameters__", StringComparison.Ordinal)) _parameters = QuotedNames(t);
                else if (t.StartsWith("__buffers__", StringComparison.Ordinal)) _buffers = QuotedNames(t);
                else if (FinalLine().Match(t) is { Success: true } f && Literal(f.Groups[2].Value.Trim(), out var value))
                    _constants.Add(new(f.Groups[1].Value, value));
                return;
            }
            if (_method != "__setstate__") return;
            // python_print's __setstate__ body: `self.scale = (state)[12]`, `_0 = (self).set_weight_bias((state)[10], (state)[11], )`.
            if (SetStateItem().Match(t) is { Success: true } s) _setState![Index(s.Groups[2].Value)] = s.Groups[1].Value;
            else if (SetWeightBias().Match(t) is { Success: true } wb) _weightBias = (Index(wb.Groups[1].Value), Index(wb.Groups[2].Value));
        }

        public ScriptClass Build() => new(name, _isModule, _parameters, _buffers, _constants)
        {
            SetState = _setState,
            SetStateWeightBias = _weightBias,
        };

        private static int Index(string digits) => int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i : -1;
    }

    private static List<string> QuotedNames(string line) => [.. QuotedName().Matches(line).Select(m => m.Groups[1].Value)];

    // The literals python_print writes for Final constants: ints, floats, bools, None, strings and tuples of them.
    private static bool Literal(string s, out object? value)
    {
        value = null;
        if (s == "None") return true;
        if (s is "True" or "False") { value = s == "True"; return true; }
        if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) { value = l; return true; }
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) { value = d; return true; }
        if (s.Length >= 2 && (s[0] == '"' || s[0] == '\'') && s[^1] == s[0]) { value = s[1..^1]; return true; }
        if (s.StartsWith('(') && s.EndsWith(')'))
        {
            var items = s[1..^1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var list = new object?[items.Length];
            for (int i = 0; i < items.Length; i++)
                if (!Literal(items[i], out list[i])) return false;
            value = list;
            return true;
        }
        return false;
    }

    [GeneratedRegex(@"^class\s+(\w+)\s*\(([^)]*)\)\s*:")]
    private static partial Regex ClassLine();

    [GeneratedRegex(@"^(\w+)\s*:\s*Final\[.*\]\s*=\s*(.+)$")]
    private static partial Regex FinalLine();

    [GeneratedRegex("\"([^\"]*)\"")]
    private static partial Regex QuotedName();

    [GeneratedRegex(@"^def\s+(\w+)\s*\(")]
    private static partial Regex DefLine();

    [GeneratedRegex(@"^self\.(\w+)\s*=\s*\(\w+\)\[(\d+)\]$")]
    private static partial Regex SetStateItem();

    [GeneratedRegex(@"\(self\)\.set_weight_bias\(\(\w+\)\[(\d+)\],\s*\(\w+\)\[(\d+)\],?\s*\)")]
    private static partial Regex SetWeightBias();
}
