using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Formats.Onnx;

/// <summary>What defines a value name in a graph (or, for <see cref="Attribute"/>, holds a listed name).</summary>
internal enum OnnxDefinitionKind { Initializer, SparseInitializer, Constant, SparseConstant, Computed, Attribute }

/// <summary>How a definition is listed.</summary>
internal enum OnnxListing { Tensor, Sparse, Strings, NotRead, Computed }

/// <summary>
/// One definition of a value name: what it is (initializer 3, node 7 …) and where it went. Notes format it only when
/// a name clashes, so a large graph pays for a few fields per name, not for strings.
/// </summary>
internal sealed class OnnxDefinition(OnnxDefinitionKind kind, int index, ModuleNode? node = null, int output = 0, bool multiOutput = false, string? attribute = null)
{
    public OnnxDefinitionKind Kind => kind;

    /// <summary>The graph the name belongs to (set when bound).</summary>
    public OnnxScope? Scope { get; set; }

    /// <summary>What a node reading the name gets: the tensor, or null (computed, strings, sparse, not read).</summary>
    public TensorEntry? Tensor { get; set; }

    /// <summary>The name it is listed under (base name for sparse values), and how.</summary>
    public string Listed { get; set; } = "";

    public OnnxListing Listing { get; set; } = OnnxListing.Computed;

    /// <summary><c>initializer 3</c>, <c>node 7 'relu' (Relu)</c> (with the output index for multi-output nodes), …</summary>
    public string Where => kind switch
    {
        OnnxDefinitionKind.Initializer => $"initializer {index}",
        OnnxDefinitionKind.SparseInitializer => $"sparse initializer {index}",
        OnnxDefinitionKind.Attribute => $"attribute '{attribute}' of node {index} '{node!.Name}' ({node.Type})",
        _ => $"node {index} '{node!.Name}' ({node.Type}{(multiOutput ? $", output {output}" : "")})",
    };

    /// <summary>How notes say where it went.</summary>
    public string ListedText => Listing switch
    {
        OnnxListing.Tensor => $"'{Listed}'",
        OnnxListing.Sparse => $"'{Listed}.values' and '{Listed}.indices'",
        OnnxListing.Strings => $"Metadata '{Listed}' (strings)",
        OnnxListing.NotRead => $"'{Listed}' (values not read: see '{OnnxReader.UnsupportedPrefix}{Listed}')",
        _ => "not a tensor (computed)",
    };
}

/// <summary>
/// One graph's value names as they are defined in graph order (initializers, sparse initializers, then node outputs
/// node by node), each bound to its latest definition; subgraphs see their enclosing graph's bindings as they stood
/// at the node that holds them.
/// </summary>
internal sealed class OnnxScope(OnnxScope? outer, string prefix, string label)
{
    private readonly Dictionary<string, OnnxDefinition> _bindings = new(StringComparer.Ordinal);

    /// <summary>The enclosing graph's scope; null for the main graph.</summary>
    public OnnxScope? Outer => outer;

    /// <summary>What this graph's tensor names start with: "" for the main graph, <c>node/attribute/</c> for a subgraph.</summary>
    public string Prefix => prefix;

    /// <summary>How notes name the graph: <c>the main graph</c>, <c>subgraph 'branch/then_branch'</c>.</summary>
    public string Label => label;

    public OnnxDefinition? Local(string name) => _bindings.GetValueOrDefault(name);

    public OnnxDefinition? Resolve(string name) => Local(name) ?? outer?.Resolve(name);

    public void Bind(string name, OnnxDefinition definition) => _bindings[name] = definition;
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

    // A scoped value name's definitions in graph order, and other notes about it.
    private sealed class Entry(string name, OnnxScope? scope)
    {
        public string Name => name;
        public OnnxScope? Scope => scope;
        public List<OnnxDefinition> Definitions { get; } = [];
        public List<string>? Notes { get; set; }
    }

    private readonly Dictionary<string, OnnxDefinition> _owners = new(StringComparer.Ordinal); // listed name → what holds it
    private readonly HashSet<string> _reserved = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _nextSuffix = new(StringComparer.Ordinal);
    private readonly OrderedDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>
    /// A name a graph uses (as its tensors would be named); suffixes never take one. Only names with the separator can
    /// be a suffixed name, so only those are kept.
    /// </summary>
    public void Reserve(string name)
    {
        if (name.Contains(Separator)) _reserved.Add(name);
    }

    /// <summary>
    /// A base name free together with every <paramref name="suffixes"/> form (a sparse value is listed as
    /// <c>base.values</c> and <c>base.indices</c>): <paramref name="wanted"/> when free, else the next free
    /// <c>wanted~k</c>. All of them become <paramref name="owner"/>'s.
    /// </summary>
    public string Allocate(string wanted, string[] suffixes, OnnxDefinition owner)
    {
        if (IsFree(wanted, suffixes, reservedToo: false)) return Take(wanted, suffixes, owner);
        // One counter per wanted name keeps a file with many repeats of one name linear, not quadratic.
        int k = _nextSuffix.GetValueOrDefault(wanted, 2);
        while (!IsFree($"{wanted}{Separator}{k}", suffixes, reservedToo: true)) k++;
        _nextSuffix[wanted] = k + 1;
        return Take($"{wanted}{Separator}{k}", suffixes, owner);
    }

    /// <summary>What holds a listed name, if anything does.</summary>
    public OnnxDefinition? OwnerOf(string name) => _owners.GetValueOrDefault(name);

    private bool IsFree(string name, string[] suffixes, bool reservedToo) =>
        !_owners.ContainsKey(name) && (!reservedToo || !_reserved.Contains(name))
        && suffixes.All(s => !_owners.ContainsKey(name + s) && (!reservedToo || !_reserved.Contains(name + s)));

    private string Take(string name, string[] suffixes, OnnxDefinition owner)
    {
        _owners.Add(name, owner);
        foreach (var s in suffixes) _owners.Add(name + s, owner);
        return name;
    }

    private Entry EntryOf(string scoped, string name, OnnxScope? scope)
    {
        if (!_entries.TryGetValue(scoped, out var e)) _entries.Add(scoped, e = new Entry(name, scope));
        return e;
    }

    /// <summary>
    /// Records that <paramref name="definition"/> defines again a name of <paramref name="scope"/> (scoped: prefix + name)
    /// that <paramref name="previous"/> defined; names defined once cost nothing here.
    /// </summary>
    public void Redefine(string scoped, string name, OnnxScope scope, OnnxDefinition previous, OnnxDefinition definition)
    {
        var e = EntryOf(scoped, name, scope);
        if (e.Definitions.Count == 0) e.Definitions.Add(previous);
        e.Definitions.Add(definition);
    }

    /// <summary>Adds a note about <paramref name="scoped"/> beside any clash note it has.</summary>
    public void Note(string scoped, string note) => (EntryOf(scoped, scoped, null).Notes ??= []).Add(note);

    /// <summary>Every note, keyed <c>name_clash:&lt;scoped name&gt;</c>, in the order the clashes were met.</summary>
    public IEnumerable<(string Key, string Note)> Notes()
    {
        foreach (var (scoped, e) in _entries)
        {
            if (e.Definitions.Count < 2 && e.Notes is null) continue;
            var parts = new List<string>();
            if (e.Definitions.Count > 1) parts.Add(OnnxErrors.NameClash($"'{e.Name}' in {e.Scope!.Label}", e.Definitions));
            if (e.Notes is not null) parts.AddRange(e.Notes);
            yield return (NotePrefix + scoped, string.Join(" ", parts));
        }
    }
}
