using WeightScope.Tensors;

namespace WeightScope.Modules;

/// <summary>
/// One node of a model's module tree (PyTorch's <c>nn.Module</c>, a Keras layer, an ONNX node): its type, its
/// attributes (<c>in_features</c>, <c>kernel_size</c>…), the tensors it owns directly, and its children.
/// </summary>
public sealed class ModuleNode
{
    /// <summary>Creates a node.</summary>
    /// <param name="name">Name within the parent (<c>fc1</c>, <c>0</c>); empty for the root.</param>
    /// <param name="path">Dotted path from the root (<c>features.0</c>); empty for the root.</param>
    /// <param name="type">Class name (<c>Linear</c>), or null when the file does not record it.</param>
    public ModuleNode(string name, string path, string? type)
    {
        Name = name;
        Path = path;
        Type = type;
    }

    /// <summary>Name within the parent; empty for the root.</summary>
    public string Name { get; }

    /// <summary>Dotted path from the root; empty for the root.</summary>
    public string Path { get; }

    /// <summary>Class name (<c>Linear</c>, <c>Conv2d</c>, <c>Dense</c>), or null when unknown.</summary>
    public string? Type { get; }

    /// <summary>Fully qualified class name where the file records one (<c>torch.nn.modules.linear.Linear</c>).</summary>
    public string? QualifiedType { get; init; }

    /// <summary>
    /// Attributes from the file (constructor arguments, hyper-parameters), in file order. Values use the metadata
    /// conventions: string, long, BigInteger, double, bool, null, byte[]; a Python tuple is an <c>object?[]</c>, a list a
    /// <c>List&lt;object?&gt;</c>, a dict an <c>OrderedDictionary&lt;string, object?&gt;</c>; anything else an <see cref="OpaqueObject"/>.
    /// </summary>
    public OrderedDictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);

    /// <summary>Local parameter names (<c>weight</c>, <c>bias</c>) and the tensors they name, or null where a parameter is None.</summary>
    public OrderedDictionary<string, TensorEntry?> Parameters { get; } = new(StringComparer.Ordinal);

    /// <summary>Local buffer names and tensors.</summary>
    public OrderedDictionary<string, TensorEntry?> Buffers { get; } = new(StringComparer.Ordinal);

    /// <summary>Children in registration order.</summary>
    public List<ModuleNode> Children { get; } = [];

    private List<(int Position, string Name, ModuleNode Module)>? _shared;

    /// <summary>
    /// Records that a module already in the tree (first seen elsewhere, so a child of another node or listed before
    /// among these children) is registered here too, under <paramref name="name"/>, after the children added so far:
    /// <c>self.dec = self.enc</c>. <c>print(model)</c> shows it at each place; <see cref="Descendants"/> yields it once.
    /// </summary>
    public void AddSharedChild(string name, ModuleNode module)
    {
        ArgumentNullException.ThrowIfNull(module);
        (_shared ??= []).Add((Children.Count, name, module));
    }

    /// <summary>
    /// Every child as the module registers it (its <c>_modules</c>, in order): <see cref="Children"/> and, where a module
    /// is shared, the places it is registered again, each with the name it has at that place.
    /// </summary>
    public IReadOnlyList<(string Name, ModuleNode Module)> RegisteredChildren
    {
        get
        {
            if (_shared is null) return [.. Children.Select(c => (c.Name, c))];
            var all = new List<(string, ModuleNode)>(Children.Count + _shared.Count);
            for (int i = 0, s = 0; i <= Children.Count; i++)
            {
                for (; s < _shared.Count && _shared[s].Position == i; s++) all.Add((_shared[s].Name, _shared[s].Module));
                if (i < Children.Count) all.Add((Children[i].Name, Children[i]));
            }
            return all;
        }
    }

    /// <summary>This node and all below it, depth first, each module once (like <c>model.modules()</c>).</summary>
    public IEnumerable<ModuleNode> Descendants()
    {
        yield return this;
        foreach (var c in Children)
            foreach (var d in c.Descendants()) yield return d;
    }

    /// <summary>Every tensor in this subtree (parameters then buffers, node by node).</summary>
    public IEnumerable<TensorEntry> AllTensors() =>
        Descendants().SelectMany(n => n.Parameters.Values.Concat(n.Buffers.Values)).OfType<TensorEntry>();

    /// <summary>Elements in this subtree, each tensor counted once.</summary>
    public long ParameterCount => AllTensors().Distinct().Sum(t => t.ElementCount);

    /// <summary>The child with this name, or null.</summary>
    public ModuleNode? Child(string name) => Children.FirstOrDefault(c => c.Name == name);

    /// <inheritdoc />
    public override string ToString() => $"{(Path.Length == 0 ? "(root)" : Path)}: {Type ?? "?"}";
}
