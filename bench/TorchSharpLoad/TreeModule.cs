using TorchSharp;
using static TorchSharp.torch;

namespace TorchSharpLoad;

/// <summary>One tensor of a state dict a module must hold: dotted name, shape, element type, parameter or buffer.
/// <paramref name="TiedTo"/> names an earlier slot whose Parameter this one shares (GPT-2's lm_head.weight).</summary>
internal sealed record Slot(string Name, long[] Shape, ScalarType DType, bool IsBuffer, string? TiedTo = null);

/// <summary>
/// A module tree built from dotted names, as nn.Module nests: "transformer.h.0.attn.c_attn.weight" is the Parameter
/// "weight" of the child "c_attn" of … of the root. Values are materialised (zero-filled, like an initialised module
/// holds its init values) so a process that loads nothing still holds the module's own size resident.
/// </summary>
internal sealed class TreeModule : nn.Module
{
    public TreeModule(string name) : base(name) { }

    public static TreeModule Build(string name, IEnumerable<Slot> slots)
    {
        var root = new TreeModule(name);
        var modules = new Dictionary<string, TreeModule> { [""] = root };
        var made = new Dictionary<string, Tensor>();
        using var _ = no_grad();
        foreach (var slot in slots)
        {
            int dot = slot.Name.LastIndexOf('.');
            var owner = Owner(modules, dot < 0 ? "" : slot.Name[..dot]);
            string leaf = slot.Name[(dot + 1)..];
            if (slot.TiedTo is { } tied)
            {
                var shared = made[tied];
                if (shared is TorchSharp.Modules.Parameter p) owner.register_parameter(leaf, p);
                else owner.register_buffer(leaf, shared);
                continue;
            }
            var t = zeros(slot.Shape, slot.DType);
            if (slot.IsBuffer) owner.register_buffer(leaf, t);
            else
            {
                // Only floating-point (and complex) tensors can require grad; integer "parameters" are loaded as is.
                var p = new TorchSharp.Modules.Parameter(t, requires_grad: t.is_floating_point() || t.is_complex());
                owner.register_parameter(leaf, p);
                t = p;
            }
            made[slot.Name] = t;
        }
        return root;
    }

    private static TreeModule Owner(Dictionary<string, TreeModule> modules, string path)
    {
        if (modules.TryGetValue(path, out var m)) return m;
        int dot = path.LastIndexOf('.');
        var parent = Owner(modules, dot < 0 ? "" : path[..dot]);
        string leaf = path[(dot + 1)..];
        m = new TreeModule(leaf);
        parent.register_module(leaf, m);
        modules[path] = m;
        return m;
    }
}
