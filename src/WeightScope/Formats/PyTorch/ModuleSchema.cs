using WeightScope.Formats.PyTorch.Pickle;

namespace WeightScope.Formats.PyTorch;

/// <summary>What an entry of a pickled module is to <c>state_dict()</c> and <c>named_modules()</c>.</summary>
internal enum SlotKind
{
    /// <summary>A parameter (listed by state_dict; None allowed).</summary>
    Parameter,
    /// <summary>A persistent buffer (listed by state_dict; None allowed).</summary>
    Buffer,
    /// <summary>A buffer named in <c>_non_persistent_buffers_set</c>: a buffer of the module, not in state_dict.</summary>
    NonPersistentBuffer,
    /// <summary>A submodule (None allowed).</summary>
    Child,
    /// <summary>A plain attribute (<c>in_features</c>, <c>training</c>).</summary>
    Attribute,
    /// <summary>Any other entry holding tensors (a TorchScript tensor attribute, packed parameters): listed after buffers, role Other.</summary>
    OtherTensors,
}

/// <summary>One entry of a module, classified.</summary>
internal sealed record ModuleSlot(string Name, object? Value, SlotKind Kind);

/// <summary>How a family of pickled modules records its parameters, buffers and children.</summary>
internal interface IModuleSchema
{
    /// <summary>True when <paramref name="o"/> is a module of this family.</summary>
    bool IsModule(PyObject o);

    /// <summary>The module's entries in declaration order.</summary>
    IReadOnlyList<ModuleSlot> Slots(PyObject module);

    /// <summary>Short and qualified class name for the module tree.</summary>
    (string Type, string QualifiedType) TypeOf(PyObject module);
}

/// <summary>
/// Eager <c>torch.nn.Module</c>s pickled whole: the instance <c>__dict__</c> holds <c>_parameters</c>, <c>_buffers</c>,
/// <c>_non_persistent_buffers_set</c> and <c>_modules</c>, and plain attributes (torch/nn/modules/module.py).
/// </summary>
internal sealed class EagerModuleSchema : IModuleSchema
{
    /// <summary>The one instance.</summary>
    public static EagerModuleSchema Instance { get; } = new();

    /// <inheritdoc />
    public bool IsModule(PyObject o) =>
        o.StateDict is { } s && s.TryGetValue("_modules", out var m) && m is PyDict && s.TryGetValue("_parameters", out var p) && p is PyDict;

    /// <inheritdoc />
    public IReadOnlyList<ModuleSlot> Slots(PyObject module)
    {
        var state = module.StateDict!;
        var slots = new List<ModuleSlot>();
        var nonPersistent = new HashSet<string>(StringComparer.Ordinal);
        if (state.TryGetValue("_non_persistent_buffers_set", out var np) && np is IEnumerable<object?> names)
            foreach (var n in names.OfType<string>()) nonPersistent.Add(n);
        var own = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var dict in new[] { "_parameters", "_buffers" })
            if (state.TryGetValue(dict, out var d) && d is PyDict entries)
                foreach (var kv in entries.Items) if (kv.Value is not null) own.Add(kv.Value);
        foreach (var kv in state.Items)
        {
            if (kv.Key is not string key || key is "_parameters" or "_buffers" or "_modules") continue;
            if (!key.StartsWith('_')) slots.Add(new(key, kv.Value, SlotKind.Attribute));
            // A private attribute holding tensors of its own, which a custom _save_to_state_dict reports (packed
            // quantized parameters); not one that only refers to the module's parameters again (RNN _flat_weights).
            else if (HoldsTensors(kv.Value, 0, own)) slots.Add(new(key, kv.Value, SlotKind.OtherTensors));
        }
        AddAll(slots, state, "_parameters", _ => SlotKind.Parameter);
        AddAll(slots, state, "_buffers", n => nonPersistent.Contains(n) ? SlotKind.NonPersistentBuffer : SlotKind.Buffer);
        AddAll(slots, state, "_modules", _ => SlotKind.Child);
        return slots;
    }

    /// <inheritdoc />
    public (string Type, string QualifiedType) TypeOf(PyObject module) =>
        module.Class is { } g ? (g.Name, g.FullName) : (module.TypeName, module.TypeName);

    /// <summary>True when <paramref name="v"/> holds a tensor (other than those in <paramref name="except"/>).</summary>
    internal static bool HoldsTensors(object? v, int depth, HashSet<object>? except = null) => depth < 64 && v switch
    {
        TorchTensor or TorchUnsupportedTensor => except is null || !except.Contains(v),
        PyDict d => d.Items.Any(kv => HoldsTensors(kv.Value, depth + 1, except)),
        IReadOnlyList<object?> l => l.Any(x => HoldsTensors(x, depth + 1, except)),
        PyObject o => HoldsTensors(o.State, depth + 1, except) || o.Args.Items.Any(x => HoldsTensors(x, depth + 1, except)),
        _ => false,
    };

    private static void AddAll(List<ModuleSlot> slots, PyDict state, string dict, Func<string, SlotKind> kind)
    {
        if (!state.TryGetValue(dict, out var d) || d is not PyDict entries) return;
        foreach (var kv in entries.Items)
            if (kv.Key is string name) slots.Add(new(name, kv.Value, kind(name)));
    }
}
