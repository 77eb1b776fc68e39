using System.Buffers.Binary;
using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// Maps the module object tree of a TorchScript <c>data.pkl</c> to the uniform model, by one rule
/// (README.md, "TorchScript naming rule"):
/// <list type="number">
/// <item>first exactly <c>torch.jit.load(f).state_dict()</c>: per module its parameters, its buffers, then each child
/// (pre-order, a module shared under two names listed under both), roles Parameter and Buffer;</item>
/// <item>then, module by module in the same order, the tensors state_dict() leaves out: the weight and bias a
/// quantized module's <c>__setstate__</c> packs, its <c>scale</c>/<c>zero_point</c> as its eager
/// <c>_save_to_state_dict</c> turns them into tensors, and every other attribute holding tensors, flattened by index or
/// key (a torchbind object by its <c>__getstate__</c> tuple): role Packed when packed, Attribute when a plain tensor
/// attribute;</item>
/// <item>the constants table (<see cref="TorchScriptReader"/>).</item>
/// </list>
/// </summary>
internal sealed class TorchScriptModules(TorchScriptSchema schema, TorchObjectMapper mapper, string entry)
{
    private const string Format = TorchScriptFormat.FormatName;

    // torch's quantized modules whose eager _save_to_state_dict() adds the float attribute `scale` and the int attribute
    // `zero_point` as 0-d tensors: _ConvNd and Linear (torch/ao/nn/quantized/modules/conv.py, linear.py), QFunctional
    // (functional_modules.py), and their subclasses in intrinsic/quantized and quantized/dynamic.
    private static readonly HashSet<string> ScaleZeroPointClasses = new(StringComparer.Ordinal)
    {
        "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
        "ConvReLU1d", "ConvReLU2d", "ConvReLU3d", "ConvAdd2d", "ConvAddReLU2d",
        "Linear", "LinearReLU", "LinearLeakyReLU", "LinearTanh", "QFunctional",
    };

    private static readonly string[] QuantizedNamespaces =
    [
        "__torch__.torch.ao.nn.quantized.", "__torch__.torch.nn.quantized.",
        "__torch__.torch.ao.nn.intrinsic.quantized.", "__torch__.torch.nn.intrinsic.quantized.",
    ];

    private readonly HashSet<object> _onPath = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<object, bool> _holdsTensors = new(ReferenceEqualityComparer.Instance);
    private readonly List<VisitedModule> _visited = [];

    // One module reached at one path, with its entries classified (each path of a shared module once).
    private sealed record VisitedModule(string Path, PyObject Module, List<Entry> Entries);

    // One item of a module's pickled state: a dict entry, or an item of its __getstate__ tuple.
    private sealed record Entry(string Name, object? Value, EntryKind Kind);

    private enum EntryKind { Parameter, Buffer, Child, Attribute, Tensors, PackedWeight }

    /// <summary>Maps the root module: lists its state dict, then the tensors outside it; returns the module tree.</summary>
    public ModuleNode Map(PyObject root)
    {
        var node = MapModule("", "", root, null, 0);
        foreach (var m in _visited) ListOutsideStateDict(m);
        return node;
    }

    // --- 1. the module tree and state_dict() ----------------------------------------------------------------

    private ModuleNode MapModule(string path, string name, PyObject module, ModuleNode? parent, int depth)
    {
        mapper.Visit(depth);
        var (type, qualified) = TorchScriptSchema.TypeOf(module);
        var node = new ModuleNode(name, path, type) { QualifiedType = qualified };
        parent?.Children.Add(node);
        if (!_onPath.Add(module)) return node; // a module among its own children: Python would recurse forever
        try
        {
            var cls = module.Class is { } g ? schema.Find(g) : null;
            var entries = Entries(module, cls);
            _visited.Add(new VisitedModule(path, module, entries));
            foreach (var e in entries.Where(e => e.Kind == EntryKind.Attribute && !e.Name.StartsWith('_')))
                node.Attributes[e.Name] = mapper.Convert(e.Value, depth + 1);
            // Final constants are class attributes in code/, already in the metadata conventions (a tuple is object?[]).
            foreach (var c in cls?.Constants ?? [])
                node.Attributes.TryAdd(c.Key, c.Value);
            foreach (var e in entries.Where(e => e.Kind == EntryKind.Parameter))
                node.Parameters[e.Name] = StateDictTensor(path, e, TensorRole.Parameter);
            foreach (var e in entries.Where(e => e.Kind == EntryKind.Buffer))
                node.Buffers[e.Name] = StateDictTensor(path, e, TensorRole.Buffer);
            foreach (var e in entries.Where(e => e.Kind == EntryKind.Child))
                MapModule(Join(path, e.Name), e.Name, (PyObject)e.Value!, node, depth + 1);
        }
        finally { _onPath.Remove(module); }
        return node;
    }

    // The module's state, item by item: its attribute dict, or its __getstate__ tuple named by __setstate__.
    private List<Entry> Entries(PyObject module, ScriptClass? cls)
    {
        var parameters = new HashSet<string>(cls?.Parameters ?? [], StringComparer.Ordinal);
        var buffers = new HashSet<string>(cls?.Buffers ?? [], StringComparer.Ordinal);
        EntryKind Classify(string name, object? value) =>
            parameters.Contains(name) ? EntryKind.Parameter
            : buffers.Contains(name) ? EntryKind.Buffer
            : value is PyObject o && schema.IsModule(o) ? EntryKind.Child
            : HoldsTensors(value, 0) ? EntryKind.Tensors
            : EntryKind.Attribute;

        var entries = new List<Entry>();
        if (module.StateDict is { } dict)
        {
            foreach (var kv in dict.Items)
                if (kv.Key is string name) entries.Add(new(name, kv.Value, Classify(name, kv.Value)));
            return entries;
        }
        if (module.State is not IReadOnlyList<object?> items) return entries;
        // __setstate__(state): `self.x = (state)[i]` names item i; set_weight_bias((state)[w], (state)[b]) packs two.
        for (int i = 0; i < items.Count; i++)
        {
            if (cls?.SetStateWeightBias is var (w, b) && (i == w || i == b))
                entries.Add(new(i == w ? "weight" : "bias", items[i], EntryKind.PackedWeight));
            else if (cls?.SetState?.GetValueOrDefault(i) is { } name)
                entries.Add(new(name, items[i], Classify(name, items[i])));
            else
                entries.Add(new(Index(i), items[i], HoldsTensors(items[i], 0) ? EntryKind.Tensors : EntryKind.Attribute));
        }
        return entries;
    }

    // True when a value holds a tensor somewhere. Memoised by object: the pickle memo can share one list many times over
    // (2^60 paths in a few hundred bytes); a value inside itself holds nothing new.
    private bool HoldsTensors(object? v, int depth)
    {
        switch (v)
        {
            case TorchTensor or TorchUnsupportedTensor: return true;
            case PyDict or IReadOnlyList<object?> or PyObject: break;
            default: return false;
        }
        if (_holdsTensors.TryGetValue(v, out bool known)) return known;
        mapper.Visit(depth);
        _holdsTensors[v] = false;
        bool result = v switch
        {
            PyDict d => d.Items.Any(kv => HoldsTensors(kv.Value, depth + 1)),
            IReadOnlyList<object?> l => l.Any(x => HoldsTensors(x, depth + 1)),
            PyObject o => HoldsTensors(o.State, depth + 1) || o.Args.Items.Any(x => HoldsTensors(x, depth + 1)),
            _ => false,
        };
        _holdsTensors[v] = result;
        return result;
    }

    private TensorEntry? StateDictTensor(string path, Entry e, TensorRole role) => e.Value switch
    {
        null => null, // an Optional[Tensor] parameter that is None: state_dict() skips it
        TorchTensor t => mapper.AddTensor(Join(path, e.Name), t, role),
        TorchUnsupportedTensor u => throw new UnsupportedModelFeatureException(Format, u.Feature, u.Offset, entry),
        var other => throw new InvalidModelContentException(Format,
            $"module {role.ToString().ToLowerInvariant()} '{Join(path, e.Name)}' is {PickleErrors.Describe(other)}, not a tensor", null, entry),
    };

    // --- 2. the tensors state_dict() leaves out -------------------------------------------------------------

    private void ListOutsideStateDict(VisitedModule m)
    {
        foreach (var e in m.Entries.Where(e => e.Kind == EntryKind.PackedWeight))
            Flatten(Join(m.Path, e.Name), e.Value, TensorRole.Packed);
        ScaleAndZeroPoint(m);
        foreach (var e in m.Entries.Where(e => e.Kind == EntryKind.Tensors))
            Flatten(Join(m.Path, e.Name), e.Value, TensorRole.Attribute);
    }

    /// <summary>
    /// Lists the tensors inside <paramref name="value"/> under <paramref name="path"/>, named by index and key; below a
    /// torchbind object (packed parameters) an Attribute tensor is Packed.
    /// </summary>
    public void Flatten(string path, object? value, TensorRole role) => Flatten(path, value, role, 0);

    private void Flatten(string path, object? value, TensorRole role, int depth)
    {
        mapper.Visit(depth);
        switch (value)
        {
            case TorchTensor t:
                mapper.AddTensor(path, t, role);
                return;
            case TorchUnsupportedTensor u:
                throw new UnsupportedModelFeatureException(Format, u.Feature, u.Offset, entry);
            case PyObject o when schema.IsModule(o):
                return; // a module inside a container attribute is not walked by state_dict() either
        }
        if (value is null || !_onPath.Add(value)) return;
        try
        {
            switch (value)
            {
                case PyDict d:
                    foreach (var kv in d.Items) Flatten(Join(path, TorchObjectMapper.KeyString(kv.Key)), kv.Value, role, depth + 1);
                    break;
                case IReadOnlyList<object?> list:
                    for (int i = 0; i < list.Count; i++) Flatten(Join(path, Index(i)), list[i], role, depth + 1);
                    break;
                case PyObject o:
                    // A torchbind object pickles the tuple its __getstate__ returns; a TorchScript class instance its attributes.
                    Flatten(path, o.State, TorchScriptSchema.IsTorchbind(o) && role == TensorRole.Attribute ? TensorRole.Packed : role, depth + 1);
                    break;
            }
        }
        finally { _onPath.Remove(value); }
    }

    // scale and zero_point of torch's quantized Conv/Linear/QFunctional: attributes (a float and an int) that their
    // eager state_dict() holds as 0-d float32 and int64 tensors (torch.tensor(self.scale), torch.tensor(self.zero_point)).
    private void ScaleAndZeroPoint(VisitedModule m)
    {
        var (type, qualified) = TorchScriptSchema.TypeOf(m.Module);
        if (!ScaleZeroPointClasses.Contains(type) || !QuantizedNamespaces.Any(n => qualified.StartsWith(n, StringComparison.Ordinal))) return;
        var scale = m.Entries.FirstOrDefault(e => e.Name == "scale" && e.Kind == EntryKind.Attribute)?.Value;
        var zeroPoint = m.Entries.FirstOrDefault(e => e.Name == "zero_point" && e.Kind == EntryKind.Attribute)?.Value;
        if (scale is not double s || zeroPoint is not long z) return; // traced modules keep neither
        var scaleBytes = new byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(scaleBytes, (float)s);
        var zeroBytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(zeroBytes, z);
        mapper.AddTensor(Join(m.Path, "scale"), Scalar($"{Join(m.Path, "scale")} (attribute)", DType.Float32, scaleBytes, m.Module.Offset), TensorRole.Packed);
        mapper.AddTensor(Join(m.Path, "zero_point"), Scalar($"{Join(m.Path, "zero_point")} (attribute)", DType.Int64, zeroBytes, m.Module.Offset), TensorRole.Packed);
    }

    // A 0-d tensor over bytes made here (the value of an attribute), not over an archive record.
    private static TorchTensor Scalar(string key, DType dtype, byte[] bytes, long offset) => new()
    {
        Storage = new TorchStorageRef(key, new TorchStorageType(dtype.Name(), dtype, dtype.ItemSize()), "cpu", 1, offset)
        {
            Bytes = new ArrayStorage(bytes, key),
        },
        DType = dtype,
        StorageOffset = 0,
        Size = [],
        Stride = [],
        Offset = offset,
    };

    private static string Index(int i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
