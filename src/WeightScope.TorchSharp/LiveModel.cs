using TorchSharp;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.TorchSharp;

/// <summary>
/// A live module as a <see cref="ModelFile"/>: its <c>state_dict()</c> as tensors (names, dtypes, shapes and roles as
/// torch reports them; values read from the module when asked) and its module tree with torch.nn's type names.
/// </summary>
internal static class LiveModel
{
    /// <summary>The format name a live module reports (<c>info</c>, <c>--json</c>).</summary>
    public const string FormatName = "torchsharp-module";

    public static ModelFile Build(torch.nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => (torch.Tensor)p.parameter, StringComparer.Ordinal);
        var storages = new List<(torch.Tensor Tensor, (nint, long)? Memory, LiveTensorStorage Storage)>();
        var entries = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
        var list = new List<TensorEntry>();
        foreach (var (name, tensor) in module.state_dict())
        {
            var storage = StorageFor(tensor, name, storages);
            // A frozen parameter (requires_grad false) is a non-trainable weight, as Keras's non_trainable_weights are:
            // WeightScope's role for those is Buffer, so summaries count it where Keras and torch users expect.
            var role = parameters.TryGetValue(name, out var p) ? (p.requires_grad ? TensorRole.Parameter : TensorRole.Buffer) : TensorRole.Buffer;
            var entry = new TensorEntry(name, TorchDTypes.FromScalarType(tensor.dtype), new Shape(tensor.shape), storage, role: role);
            entries[name] = entry;
            list.Add(entry);
        }
        var root = new ModuleNode("", "", TorchTypeNames.Of(module)) { QualifiedType = TorchTypeNames.QualifiedOf(module) };
        AddTensors(root, module, "", entries);
        AddChildren(root, module, "", entries, new Dictionary<torch.nn.Module, ModuleNode>(ReferenceEqualityComparer.Instance) { [module] = root });
        return new ModelFile(new ModelFormatInfo(FormatName, Producer: "TorchSharp"), new TensorCollection(list), root);
    }

    // Tied weights (lm_head.weight is wte.weight) are one tensor, or two tensors over one memory: one storage, as
    // torch.save writes them, so totals count them once and writers keep them tied.
    private static LiveTensorStorage StorageFor(torch.Tensor tensor, string name, List<(torch.Tensor, (nint, long)?, LiveTensorStorage)> seen)
    {
        var memory = LiveTensorStorage.MemoryOf(tensor);
        foreach (var (t, m, s) in seen)
        {
            if (ReferenceEquals(t, tensor) || t.Handle == tensor.Handle) return s;
            if (memory is not null && m == memory && t.dtype == tensor.dtype) return s;
        }
        var storage = new LiveTensorStorage(tensor, name);
        seen.Add((tensor, memory, storage));
        return storage;
    }

    private static void AddChildren(ModuleNode node, torch.nn.Module module, string path, Dictionary<string, TensorEntry> entries,
        Dictionary<torch.nn.Module, ModuleNode> seen)
    {
        foreach (var (name, child) in module.named_children())
        {
            if (seen.TryGetValue(child, out var existing))
            {
                node.AddSharedChild(name, existing); // self.dec = self.enc: shown at both places, counted once
                continue;
            }
            var childPath = path.Length == 0 ? name : path + "." + name;
            var childNode = new ModuleNode(name, childPath, TorchTypeNames.Of(child)) { QualifiedType = TorchTypeNames.QualifiedOf(child) };
            seen[child] = childNode;
            AddAttributes(childNode, child);
            AddTensors(childNode, child, childPath, entries);
            node.Children.Add(childNode);
            AddChildren(childNode, child, childPath, entries, seen);
        }
    }

    private static void AddTensors(ModuleNode node, torch.nn.Module module, string path, Dictionary<string, TensorEntry> entries)
    {
        string Key(string local) => path.Length == 0 ? local : path + "." + local;
        foreach (var (local, _) in module.named_parameters(recurse: false))
            node.Parameters[local] = entries.GetValueOrDefault(Key(local));
        foreach (var (local, _) in module.named_buffers(recurse: false))
            if (entries.TryGetValue(Key(local), out var t)) node.Buffers[local] = t; // non-persistent buffers are not in state_dict()
    }

    // The constructor arguments torch's repr shows, where TorchSharp exposes them.
    private static void AddAttributes(ModuleNode node, torch.nn.Module module)
    {
        if (module is global::TorchSharp.Modules.Linear linear)
        {
            node.Attributes["in_features"] = linear.in_features;
            node.Attributes["out_features"] = linear.out_features;
        }
    }
}
