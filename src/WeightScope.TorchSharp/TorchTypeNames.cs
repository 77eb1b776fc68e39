using TorchSharp;
using WeightScope.Modules;

namespace WeightScope.TorchSharp;

/// <summary>
/// A TorchSharp module's class as torch.nn names it: TorchSharp's own modules (<c>TorchSharp.Modules.Linear</c>) carry
/// torch.nn's class names, so <c>Linear</c> is <c>torch.nn.modules.linear.Linear</c> wherever torch defines one; a
/// user's class (<c>SimpleNN : Module&lt;Tensor, Tensor&gt;</c>) keeps its own name, as a pickle of a user's
/// <c>nn.Module</c> records <c>__main__.SimpleNN</c>.
/// </summary>
internal static class TorchTypeNames
{
    /// <summary>The class name (<c>Linear</c>, <c>SimpleNN</c>), without TorchSharp's generic arity.</summary>
    public static string Of(torch.nn.Module module)
    {
        var name = module.GetType().Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        return tick < 0 ? name : name[..tick];
    }

    /// <summary>torch's defining path for a TorchSharp module class (<c>torch.nn.modules.linear.Linear</c>), or null.</summary>
    public static string? QualifiedOf(torch.nn.Module module)
    {
        var type = module.GetType();
        if (type.Namespace != "TorchSharp.Modules") return null;
        return TorchClassHierarchy.Resolve("torch.nn." + Of(module));
    }
}
