using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using WeightScope.Formats.PyTorch.Pickle;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// What a TorchScript archive's <c>code/</c> says about a class (torch/csrc/jit/serialization/python_print.cpp writes it):
/// <c>class Linear(Module):</c> followed by <c>__parameters__ = ["weight", "bias", ]</c>, <c>__buffers__ = [...]</c>,
/// attribute annotations and <c>Final</c> constants such as <c>in_features : Final[int] = 2</c>.
/// </summary>
internal sealed record ScriptClass(string Name, bool IsModule, IReadOnlyList<string> Parameters, IReadOnlyList<string> Buffers,
    IReadOnlyList<KeyValuePair<string, object?>> Constants);

/// <summary>
/// The module schema of TorchScript archives: a module object is a <c>__torch__.…</c> class whose state dict lists every
/// attribute in slot order; which of them are parameters and buffers comes from the class source in <c>code/</c>.
/// </summary>
internal sealed partial class TorchScriptSchema(TorchArchive archive, ReaderLimits limits) : IModuleSchema
{
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

    /// <inheritdoc />
    public bool IsModule(PyObject o)
    {
        if (o.Class is not { } g || Find(g) is not { } c)
            // Without source: a __torch__ object with a 'training' flag is a module.
            return o.Class?.Module.StartsWith(TorchScriptRoot, StringComparison.Ordinal) == true && o.StateDict?.ContainsKey("training") == true;
        return c.IsModule;
    }

    /// <inheritdoc />
    public IReadOnlyList<ModuleSlot> Slots(PyObject module)
    {
        var cls = module.Class is { } g ? Find(g) : null;
        var parameters = new HashSet<string>(cls?.Parameters ?? [], StringComparer.Ordinal);
        var buffers = new HashSet<string>(cls?.Buffers ?? [], StringComparer.Ordinal);
        var slots = new List<ModuleSlot>();
        foreach (var kv in module.StateDict?.Items ?? [])
        {
            if (kv.Key is not string name) continue;
            SlotKind? kind =
                parameters.Contains(name) ? SlotKind.Parameter
                : buffers.Contains(name) ? SlotKind.Buffer
                : kv.Value is PyObject o && IsModule(o) ? SlotKind.Child
                : EagerModuleSchema.HoldsTensors(kv.Value, 0) ? SlotKind.OtherTensors
                : name.StartsWith('_') ? null
                : SlotKind.Attribute;
            if (kind is { } k) slots.Add(new(name, kv.Value, k));
        }
        foreach (var c in cls?.Constants ?? [])
            if (!slots.Any(s => s.Name == c.Key)) slots.Add(new(c.Key, c.Value, SlotKind.Attribute));
        return slots;
    }

    /// <inheritdoc />
    public (string Type, string QualifiedType) TypeOf(PyObject module) =>
        module.Class is { } g ? (g.Name, g.FullName) : (module.TypeName, module.TypeName);

    /// <summary>The classes of one source file.</summary>
    internal static IEnumerable<ScriptClass> Parse(string source)
    {
        string? name = null;
        bool isModule = false;
        List<string> parameters = [], buffers = [];
        List<KeyValuePair<string, object?>> constants = [];
        foreach (var raw in source.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0) continue;
            if (!char.IsWhiteSpace(line[0]))
            {
                if (name is not null) yield return new ScriptClass(name, isModule, parameters, buffers, constants);
                name = null;
                var m = ClassLine().Match(line);
                if (!m.Success) continue;
                name = m.Groups[1].Value;
                isModule = m.Groups[2].Value.Split(',').Select(b => b.Trim()).Any(b => b is "Module" or "torch.nn.Module");
                parameters = [];
                buffers = [];
                constants = [];
                continue;
            }
            if (name is null) continue;
            var t = line.Trim();
            if (t.StartsWith("__parameters__", StringComparison.Ordinal)) parameters = QuotedNames(t);
            else if (t.StartsWith("__buffers__", StringComparison.Ordinal)) buffers = QuotedNames(t);
            else if (FinalLine().Match(t) is { Success: true } f && Literal(f.Groups[2].Value.Trim(), out var value))
                constants.Add(new(f.Groups[1].Value, value));
        }
        if (name is not null) yield return new ScriptClass(name, isModule, parameters, buffers, constants);
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
}
