using System.Globalization;
using System.Numerics;
using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// Maps the object a PyTorch pickle loads to the uniform model, the same way for all three readers:
/// <list type="bullet">
/// <item>dicts, and lists and tuples that hold more than scalars, are flattened depth-first, names joined with '.'
/// (<c>model_state_dict.fc1.weight</c>, <c>optimizer.param_groups.0.lr</c>), and so are inert objects that hold tensors;
/// the other leaves (a list of scalars is one) become <see cref="Metadata"/> under the same dotted key;</item>
/// <item>a pickled module is named as its <c>state_dict()</c> names it, and gives the module tree;</item>
/// <item>roles, as far as the file says: module parameters and buffers; tensors under the <c>state</c> of an optimizer
/// state dict (keys <c>state</c> and <c>param_groups</c>) are optimizer state; a tensor rebuilt as an
/// <c>nn.Parameter</c> is a parameter; others Other.</item>
/// </list>
/// Walks are bounded: nesting by <see cref="ReaderLimits.MaxNestingDepth"/>, and the number of values visited (shared,
/// memoised objects can make a small pickle describe an exponentially large tree) by <see cref="ReaderLimits.MaxTensorCount"/>.
/// </summary>
internal sealed partial class TorchObjectMapper(string format, ReaderLimits limits, IModuleSchema schema, bool bigEndian, string? entry)
{
    private readonly Dictionary<object, bool> _structural = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<object, bool> _scalarSequences = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<object> _onPath = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<object, ModuleNode?> _modulesWithNodes = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<TorchTensor, QuantizationInfo?> _quantization = new(ReferenceEqualityComparer.Instance);
    private long _visits;

    /// <summary>Tensors in reader order.</summary>
    public List<TensorEntry> Tensors { get; } = [];

    /// <summary>Non-tensor leaves under dotted keys.</summary>
    public OrderedDictionary<string, object?> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>The module tree, when the object holds modules.</summary>
    public ModuleNode? Root => _root?.Node;

    private NodeSlot? _root;

    /// <summary>Maps the loaded object.</summary>
    public void Map(object? value)
    {
        _root = NodeSlot.CreateRoot();
        MapValue("", value, _root, optimizer: false, 0);
    }

    /// <summary>Adds a tensor under an explicit name (TorchScript constants, model.json tables).</summary>
    public TensorEntry AddTensor(string name, TorchTensor t, TensorRole role) => Add(name, t, role);

    // --- walking -----------------------------------------------------------------------------------------

    private void MapValue(string path, object? value, NodeSlot slot, bool optimizer, int depth)
    {
        Visit(depth);
        switch (value)
        {
            case TorchTensor t:
                Add(path, t, t.IsParameter ? TensorRole.Parameter : optimizer ? TensorRole.OptimizerState : TensorRole.Other);
                return;
            case TorchUnsupportedTensor u:
                throw new UnsupportedModelFeatureException(format, u.Feature, u.Offset, entry);
            case PyObject o when schema.IsModule(o):
                MapModule(path, o, slot, depth);
                return;
        }
        // Dicts are flattened (an empty one is a leaf, so its key is not lost); a list or tuple is flattened unless it
        // holds only scalars (or sequences of them), which make one leaf (betas, params, a loss history); other
        // objects are flattened only when they hold tensors or modules.
        bool flatten = value switch
        {
            PyDict d => d.Count > 0,
            PyList or PyTuple => !IsScalarSequence(value, depth),
            _ => IsStructural(value, depth),
        };
        if (!flatten)
        {
            SetMetadata(path, Convert(value, depth));
            return;
        }
        if (!_onPath.Add(value!)) return; // a container inside itself: Python would recurse forever; we list it once
        try
        {
            foreach (var (key, child, isOptimizer) in Children(value!))
            {
                string childPath = Join(path, key);
                MapValue(childPath, child, slot.Child(key, childPath), optimizer || isOptimizer, depth + 1);
            }
        }
        finally { _onPath.Remove(value!); }
    }

    // The entries a structural value is flattened into.
    private IEnumerable<(string Key, object? Value, bool Optimizer)> Children(object value)
    {
        switch (value)
        {
            case PyDict d:
                {
                    // An optimizer's state_dict(): exactly the keys 'state' and 'param_groups'.
                    bool optimizer = d.Count == 2 && d.ContainsKey("state") && d.ContainsKey("param_groups");
                    foreach (var kv in d.Items)
                        yield return (KeyString(kv.Key), kv.Value, optimizer && kv.Key is "state");
                    break;
                }
            case IReadOnlyList<object?> list:
                for (int i = 0; i < list.Count; i++) yield return (i.ToString(CultureInfo.InvariantCulture), list[i], false);
                break;
            case PyObject o:
                // An object of an unknown class that holds tensors: its arguments (namedtuple fields), items and attributes.
                if (o.Args.Items.Any(a => IsStructural(a, 0)))
                    for (int i = 0; i < o.Args.Count; i++) yield return (i.ToString(CultureInfo.InvariantCulture), o.Args[i], false);
                if (o.ListItems is { } items)
                    for (int i = 0; i < items.Count; i++) yield return (i.ToString(CultureInfo.InvariantCulture), items[i], false);
                if (o.DictItems is { } dict)
                    foreach (var kv in dict.Items) yield return (KeyString(kv.Key), kv.Value, false);
                if (o.StateDict is { } state)
                    foreach (var kv in state.Items) yield return (KeyString(kv.Key), kv.Value, false);
                else if (ScriptObjectState(o) is { } payload)
                    foreach (var child in Children(payload)) yield return child;
                else if (o.State is IReadOnlyList<object?> items2 && IsStructural(o.State, 0))
                    // __setstate__ state that is a tuple (TorchScript custom classes such as packed quantized
                    // parameters): its items, as the class's state_dict names them.
                    for (int i = 0; i < items2.Count; i++) yield return (i.ToString(CultureInfo.InvariantCulture), items2[i], false);
                else if (o.State is { } other && IsStructural(other, 0))
                    yield return ("__state__", other, false);
                break;
        }
    }

    // An eager module's TorchScript custom-class attribute (packed quantized parameters) pickles as torch.ScriptObject
    // with the state (payload, class name); the payload is what state_dict() reports for it.
    private static object? ScriptObjectState(PyObject o) =>
        o.TypeName == "torch.ScriptObject" && o.State is PyTuple { Count: 2 } t && t[1] is string ? t[0] : null;

    private void MapModule(string path, PyObject module, NodeSlot slot, int depth)
    {
        if (!_onPath.Add(module)) return; // a module among its own children
        try
        {
            ModuleNode? node = null;
            if (!_modulesWithNodes.TryGetValue(module, out var seen))
            {
                var (type, qualified) = schema.TypeOf(module);
                node = new ModuleNode(slot.Name, path, type) { QualifiedType = qualified };
                slot.Attach(node);
                _modulesWithNodes.Add(module, slot.IsDetached ? null : node);
            }
            // A module registered again (self.dec = self.enc): its tensors are listed under this name too, as
            // state_dict() does, and print(model) shows it here again.
            else if (seen is not null) slot.AttachShared(seen);
            var slots = schema.Slots(module);
            // state_dict() order: parameters, then (persistent) buffers, then each child's state_dict.
            foreach (var s in slots.Where(s => s.Kind == SlotKind.Attribute))
                node?.Attributes.Add(s.Name, Convert(s.Value, depth + 1));
            foreach (var s in slots.Where(s => s.Kind == SlotKind.Parameter))
            {
                var e = TensorSlot(Join(path, s.Name), s, TensorRole.Parameter, listed: true);
                node?.Parameters.Add(s.Name, e);
            }
            foreach (var s in slots.Where(s => s.Kind is SlotKind.Buffer or SlotKind.NonPersistentBuffer))
            {
                var e = TensorSlot(Join(path, s.Name), s, TensorRole.Buffer, listed: s.Kind == SlotKind.Buffer);
                node?.Buffers.Add(s.Name, e);
            }
            foreach (var s in slots.Where(s => s.Kind == SlotKind.OtherTensors))
            {
                string p = Join(path, s.Name);
                MapValue(p, s.Value, NodeSlot.Detached(s.Name, p), optimizer: false, depth + 1);
            }
            foreach (var s in slots.Where(s => s.Kind == SlotKind.Child))
            {
                if (s.Value is not PyObject child || !schema.IsModule(child)) continue; // None: named_modules() skips it
                string p = Join(path, s.Name);
                var childSlot = node is null ? NodeSlot.Detached(s.Name, p) : NodeSlot.Under(node, s.Name, p);
                MapModule(p, child, childSlot, depth + 1);
            }
        }
        finally { _onPath.Remove(module); }
    }

    private TensorEntry? TensorSlot(string name, ModuleSlot s, TensorRole role, bool listed)
    {
        switch (s.Value)
        {
            case null: return null;
            case TorchTensor t: return listed ? Add(name, t, role) : Build(name, t, role);
            case TorchUnsupportedTensor u: throw new UnsupportedModelFeatureException(format, u.Feature, u.Offset, entry);
            case var other:
                throw new InvalidModelContentException(format, $"module {(s.Kind == SlotKind.Parameter ? "parameter" : "buffer")} '{name}' is {PickleErrors.Describe(other)}, not a tensor", null, entry);
        }
    }

    // --- tensors -----------------------------------------------------------------------------------------

    private TensorEntry Add(string name, TorchTensor t, TensorRole role)
    {
        if (Tensors.Count >= limits.MaxTensorCount)
            throw new ReaderLimitException(format, nameof(ReaderLimits.MaxTensorCount), Tensors.Count + 1, limits.MaxTensorCount, t.Offset, entry);
        var e = Build(UniqueName(name), t, role);
        Tensors.Add(e);
        return e;
    }

    private TensorEntry Build(string name, TorchTensor t, TensorRole role)
    {
        var (storage, baseOffset, viewElements) = Resolve(t.Storage, name, t.Offset);
        int item = t.DType.ItemSize();
        Shape shape;
        long needed, offset;
        try
        {
            shape = new Shape(t.Size);
            offset = checked(baseOffset + t.StorageOffset);
            needed = TensorEntry.RequiredStorageBytes(shape, t.Stride, offset, item);
            if (viewElements is long v && TensorEntry.RequiredStorageBytes(shape, t.Stride, t.StorageOffset, item) > checked(v * t.Storage.Type.ItemSize))
                throw Invalid($"tensor '{name}' {t.DType.Name()}[{string.Join(", ", t.Size)}] reaches past the end of its storage view '{t.Storage.Key}' ({v} elements)", t.Offset);
        }
        catch (OverflowException)
        {
            throw Invalid($"tensor '{name}' has a size, stride or offset too large to address ({string.Join(", ", t.Size)})", t.Offset);
        }
        if (needed > storage.ByteLength)
            throw Invalid($"tensor '{name}' {t.DType.Name()}[{string.Join(", ", t.Size)}] at storage offset {t.StorageOffset} with strides " +
                          $"[{string.Join(", ", t.Stride)}] needs {needed} bytes but storage '{t.Storage.Key}' has {storage.ByteLength}", t.Offset);
        return new TensorEntry(name, t.DType, shape, storage, offset, [.. t.Stride], role, bigEndian, Quantization(t, name));
    }

    private (TensorStorage Storage, long ElementOffset, long? ViewElements) Resolve(TorchStorageRef s, string name, long at)
    {
        if (s.ViewOf is { } root)
        {
            var bytes = root.Bytes ?? throw Invalid($"storage '{root.Key}' of tensor '{name}' has no data in the file", at);
            return (bytes, s.ViewOffset, s.Numel);
        }
        return (s.Bytes ?? throw Invalid($"storage '{s.Key}' of tensor '{name}' has no data in the file", at), 0, null);
    }

    private QuantizationInfo? Quantization(TorchTensor t, string name)
    {
        if (t.Quantizer is not { } q) return null;
        if (_quantization.TryGetValue(t, out var cached)) return cached;
        QuantizationInfo info;
        if (q.Scheme == "per_tensor_affine")
            info = new QuantizationInfo { Scheme = QuantizationScheme.PerTensorAffine, Scales = [q.Scale], ZeroPoints = [q.ZeroPoint] };
        else
        {
            if (q.Axis < 0 || q.Axis >= t.Size.Length)
                throw Invalid($"quantized tensor '{name}' has channel axis {q.Axis} but {t.Size.Length} dimensions", t.Offset);
            long channels = t.Size[q.Axis];
            var scales = Numbers(q.Scales, $"{name} scales", t.Offset);
            var zeros = Numbers(q.ZeroPoints, $"{name} zero_points", t.Offset);
            if (scales.Length != channels || zeros.Length != channels)
                throw Invalid($"quantized tensor '{name}' has {channels} channels along axis {q.Axis} but {scales.Length} scales and {zeros.Length} zero points", t.Offset);
            var zp = new long[zeros.Length];
            for (int i = 0; i < zp.Length; i++)
            {
                if (zeros[i] != Math.Floor(zeros[i]))
                    throw new UnsupportedModelFeatureException(format, $"quantized tensor '{name}' with fractional zero points ({q.Scheme})", t.Offset, entry);
                zp[i] = (long)zeros[i];
            }
            info = new QuantizationInfo { Scheme = QuantizationScheme.PerChannelAffine, Scales = scales, ZeroPoints = zp, Axis = q.Axis };
        }
        _quantization[t] = info;
        return info;
    }

    private double[] Numbers(object? v, string what, long at)
    {
        switch (v)
        {
            case TorchTensor t:
                if (t.Size.Length != 1) throw Invalid($"{what} should be a 1-D tensor, not {t.Size.Length}-D", at);
                return Build(what, t, TensorRole.Other).ToFloat64();
            case IReadOnlyList<object?> list:
                return [.. list.Select(x => x switch
                {
                    double d => d,
                    long l => l,
                    _ => throw Invalid($"{what} should hold numbers but has {PickleErrors.Describe(x)}", at),
                })];
            default: throw Invalid($"{what} should be a tensor or a list but is {PickleErrors.Describe(v)}", at);
        }
    }

    private string UniqueName(string name)
    {
        if (_names.Add(name)) return name;
        // Two paths flatten to one name (a key containing '.' beside a nested dict): keep both, the later one marked.
        for (int i = 2; ; i++)
            if (_names.Add($"{name}#{i}")) return $"{name}#{i}";
    }

    // --- helpers -----------------------------------------------------------------------------------------

    // True when a value holds a tensor or a module somewhere: such values are flattened instead of kept as metadata.
    private bool IsStructural(object? v, int depth)
    {
        switch (v)
        {
            case TorchTensor or TorchUnsupportedTensor: return true;
            case PyObject o when schema.IsModule(o): return true;
            case PyDict or PyList or PyTuple or PyObject: break;
            default: return false;
        }
        if (_structural.TryGetValue(v, out bool known)) return known;
        if (depth > limits.MaxNestingDepth)
            throw new ReaderLimitException(format, nameof(ReaderLimits.MaxNestingDepth), depth, limits.MaxNestingDepth, null, entry);
        _structural[v] = false; // provisional: a cycle back to this value adds nothing
        bool result = v switch
        {
            PyDict d => d.Items.Any(kv => IsStructural(kv.Value, depth + 1)),
            IReadOnlyList<object?> l => l.Any(x => IsStructural(x, depth + 1)),
            PyObject o => o.Args.Items.Any(x => IsStructural(x, depth + 1))
                          || (o.ListItems?.Any(x => IsStructural(x, depth + 1)) ?? false)
                          || (o.DictItems?.Items.Any(kv => IsStructural(kv.Value, depth + 1)) ?? false)
                          || IsStructural(o.State, depth + 1),
            _ => false,
        };
        _structural[v] = result;
        return result;
    }

    // None, bool, int, float, str, and lists/tuples of them (torch's fixture generator: SCALARS and is_scalar_sequence).
    // Memoised by object: the memo can share one list many times over (2^60 paths in a few hundred bytes).
    private bool IsScalarSequence(object? v, int depth)
    {
        if (v is not (PyList or PyTuple)) return false;
        if (_scalarSequences.TryGetValue(v, out bool known)) return known;
        if (depth > limits.MaxNestingDepth)
            throw new ReaderLimitException(format, nameof(ReaderLimits.MaxNestingDepth), depth, limits.MaxNestingDepth, null, entry);
        _scalarSequences[v] = false; // provisional: a sequence inside itself is not made of scalars
        bool result = ((IReadOnlyList<object?>)v).All(x => x is null or bool or long or BigInteger or double or string || IsScalarSequence(x, depth + 1));
        _scalarSequences[v] = result;
        return result;
    }

    /// <summary>
    /// Counts one visited value at <paramref name="depth"/> against the nesting and visit limits (shared by the
    /// TorchScript module walk, which bounds its own walk with the same limits).
    /// </summary>
    internal void Visit(int depth)
    {
        if (depth > limits.MaxNestingDepth)
            throw new ReaderLimitException(format, nameof(ReaderLimits.MaxNestingDepth), depth, limits.MaxNestingDepth, null, entry);
        long max = Math.Max(10_000L, 10L * limits.MaxTensorCount);
        if (++_visits > max)
            throw new ReaderLimitException(format, nameof(ReaderLimits.MaxTensorCount), _visits, max, null, entry,
                "number of pickled values visited (capped at 10 × the tensor limit, at least 10,000)");
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private InvalidModelContentException Invalid(string message, long? offset) => new(format, message, offset, entry);

    // A place in the module tree that is created only when a module is found below it (dicts holding modules).
    private sealed class NodeSlot
    {
        private readonly NodeSlot? _parent;
        private readonly ModuleNode? _parentNode;
        private readonly bool _detached;
        private readonly string _path;

        private NodeSlot(NodeSlot? parent, ModuleNode? parentNode, bool detached, string name, string path)
        {
            _parent = parent;
            _parentNode = parentNode;
            _detached = detached;
            Name = name;
            _path = path;
        }

        /// <summary>The root place.</summary>
        public static NodeSlot CreateRoot() => new(null, null, false, "", "");

        /// <summary>A place directly under a module's node.</summary>
        public static NodeSlot Under(ModuleNode node, string name, string path) => new(null, node, false, name, path);

        /// <summary>A place whose nodes are not added to the tree (a module seen before, packed parameters).</summary>
        public static NodeSlot Detached(string name, string path) => new(null, null, true, name, path);

        public string Name { get; }

        public ModuleNode? Node { get; private set; }

        public NodeSlot Child(string key, string childPath) => new(this, null, _detached, key, childPath);

        // The container node for this place (a node without a type), created with its ancestors on first use.
        private ModuleNode Container()
        {
            if (Node is not null) return Node;
            Node = new ModuleNode(Name, _path, null);
            AttachToParent(Node);
            return Node;
        }

        /// <summary>True when nodes placed here are not added to the tree.</summary>
        public bool IsDetached => _detached;

        // Records a module already in the tree as registered here too (only directly under a module's node).
        public void AttachShared(ModuleNode node)
        {
            if (!_detached && _parentNode is not null) _parentNode.AddSharedChild(Name, node);
        }

        // Places a module's node here (the root module becomes the root).
        public void Attach(ModuleNode node)
        {
            if (Node is not null) return;
            Node = node;
            AttachToParent(node);
        }

        private void AttachToParent(ModuleNode node)
        {
            if (_detached) return;
            if (_parentNode is not null) _parentNode.Children.Add(node);
            else _parent?.Container().Children.Add(node);
        }
    }
}
