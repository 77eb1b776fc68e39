using WeightScope.Tensors;

namespace WeightScope.Formats.Onnx;

/// <summary>What defines a value name in a graph, in the order onnxruntime gathers them.</summary>
internal enum OnnxDefinitionKind { Initializer, SparseInitializer, Constant, SparseConstant, Computed }

/// <summary>One definition of a value name: what it is (<c>initializer 3</c>, <c>node 7 'relu' (Relu)</c>) and how it is listed.</summary>
internal sealed record OnnxDefinition(OnnxDefinitionKind Kind, string Where, string Listed);

/// <summary>
/// One graph's value names as they are defined in graph order (initializers, sparse initializers, then node outputs
/// node by node), each bound to the tensor a node reading that name gets at that point; subgraphs see their
/// enclosing graph's bindings as they stood at the node that holds them.
/// </summary>
internal sealed class OnnxScope(OnnxScope? outer, string prefix, string label)
{
    /// <summary>A name's current definition and its tensor (null for a computed output, a string or sparse value).</summary>
    internal sealed record Binding(TensorEntry? Tensor, OnnxDefinition Definition, OnnxScope Scope);

    private readonly Dictionary<string, Binding> _bindings = new(StringComparer.Ordinal);

    /// <summary>The enclosing graph's scope; null for the main graph.</summary>
    public OnnxScope? Outer => outer;

    /// <summary>What this graph's tensor names start with: "" for the main graph, <c>node/attribute/</c> for a subgraph.</summary>
    public string Prefix => prefix;

    /// <summary>How notes name the graph: <c>the main graph</c>, <c>subgraph 'branch/then_branch'</c>.</summary>
    public string Label => label;

    public Binding? Local(string name) => _bindings.GetValueOrDefault(name);

    public Binding? Resolve(string name) => Local(name) ?? outer?.Resolve(name);

    public void Bind(string name, Binding binding) => _bindings[name] = binding;
}

/// <summary>
/// Tensor names for graphs that break ONNX's unique-name rule, and the notes that say what clashed. The first
/// definition of a name keeps it; each later one is listed as <c>name~k</c> with the smallest k ≥ 2 that no tensor
/// has and no graph of the model uses as a name, so listings are stable and never collide.
/// </summary>
internal sealed class OnnxNameTable
{
    /// <summary>Between a clashing name and the number that makes it unique: <c>c~2</c>.</summary>
    public const char Separator = '~';

    /// <summary>Metadata key prefix of the notes (<c>name_clash:c</c>, <c>name_clash:branch/then_branch/t</c>).</summary>
    public const string NotePrefix = "name_clash:";

    private readonly Dictionary<string, string> _owners = new(StringComparer.Ordinal); // listed name → what holds it
    private readonly HashSet<string> _reserved = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _nextSuffix = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Label, List<OnnxDefinition> Definitions)> _definitions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _extraNotes = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <summary>A name a graph uses (as its tensors would be named); suffixes never take one.</summary>
    public void Reserve(string name) => _reserved.Add(name);

    /// <summary>
    /// The name to list a tensor under: <paramref name="wanted"/> when free, else the next free <c>wanted~k</c>.
    /// <paramref name="owner"/> says what the tensor is, for the note of anything that later finds the name taken.
    /// </summary>
    public string Allocate(string wanted, string owner) => AllocateGroup(wanted, [], owner);

    /// <summary>
    /// A base name free together with every <paramref name="suffixes"/> form (a sparse value is listed as
    /// <c>base.values</c> and <c>base.indices</c>); all of them are taken.
    /// </summary>
    public string AllocateGroup(string wanted, string[] suffixes, string owner)
    {
        if (IsFree(wanted, suffixes, reservedToo: false)) return Take(wanted, suffixes, owner);
        // One counter per wanted name keeps a file with many repeats of one name linear, not quadratic.
        int k = _nextSuffix.GetValueOrDefault(wanted, 2);
        while (!IsFree($"{wanted}{Separator}{k}", suffixes, reservedToo: true)) k++;
        _nextSuffix[wanted] = k + 1;
        return Take($"{wanted}{Separator}{k}", suffixes, owner);
    }

    /// <summary>What holds a listed name (<c>initializer 0</c>, <c>node 4 'Constant_4' (Constant)</c>), if anything does.</summary>
    public string? OwnerOf(string name) => _owners.GetValueOrDefault(name);

    /// <summary>True when <paramref name="scoped"/> has been defined before in its graph.</summary>
    public bool IsDefined(string scoped) => _definitions.ContainsKey(scoped);

    private bool IsFree(string name, string[] suffixes, bool reservedToo) =>
        !_owners.ContainsKey(name) && (!reservedToo || !_reserved.Contains(name))
        && suffixes.All(s => !_owners.ContainsKey(name + s) && (!reservedToo || !_reserved.Contains(name + s)));

    private string Take(string name, string[] suffixes, string owner)
    {
        _owners.Add(name, owner);
        foreach (var s in suffixes) _owners.Add(name + s, owner);
        return name;
    }

    /// <summary>Records a definition of <paramref name="name"/> (as scoped: <c>prefix + name</c>) in graph order.</summary>
    public void Define(string scoped, string name, OnnxScope scope, OnnxDefinition definition)
    {
        if (!_definitions.TryGetValue(scoped, out var entry))
        {
            entry = ($"'{name}' in {scope.Label}", []);
            _definitions.Add(scoped, entry);
            _order.Add(scoped);
        }
        entry.Definitions.Add(definition);
    }

    /// <summary>Adds a note about <paramref name="scoped"/> beside any clash note it has.</summary>
    public void Note(string scoped, string note)
    {
        if (!_extraNotes.TryGetValue(scoped, out var list))
        {
            _extraNotes.Add(scoped, list = []);
            if (!_definitions.ContainsKey(scoped)) _order.Add(scoped);
        }
        list.Add(note);
    }

    /// <summary>Every note, keyed <c>name_clash:&lt;scoped name&gt;</c>, in the order the names were first defined.</summary>
    public IEnumerable<(string Key, string Note)> Notes()
    {
        foreach (var scoped in _order)
        {
            var parts = new List<string>();
            if (_definitions.TryGetValue(scoped, out var d) && d.Definitions.Count > 1) parts.Add(OnnxErrors.NameClash(d.Label, d.Definitions));
            if (_extraNotes.TryGetValue(scoped, out var extra)) parts.AddRange(extra);
            if (parts.Count > 0) yield return (NotePrefix + scoped, string.Join(" ", parts));
        }
    }
}
