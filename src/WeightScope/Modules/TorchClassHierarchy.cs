namespace WeightScope.Modules;

/// <summary>
/// What <c>isinstance</c> needs and a pickle does not record: the base classes of the classes torch.nn and torchvision
/// define, and the names they are exported under (<c>torch.nn.Linear</c> is <c>torch.nn.modules.linear.Linear</c>).
/// The tables (<c>TorchClassHierarchy.g.cs</c>) are written by <c>tests/fixtures/generate/module_loop_fixtures.py</c>
/// from torch and torchvision themselves. A class defined elsewhere (a user's <c>class MyLinear(nn.Linear)</c>) has no
/// entry: its pickle names the class, never its bases.
/// </summary>
internal static partial class TorchClassHierarchy
{
    /// <summary><c>torch.nn.Module</c>: every module is an instance of it.</summary>
    public const string Module = "torch.nn.modules.module.Module";

    /// <summary>The nn.Module base classes of <paramref name="qualified"/> (nearest first), empty when none is known.</summary>
    public static IReadOnlyList<string> BasesOf(string qualified) => s_bases.TryGetValue(qualified, out var b) ? b : [];

    /// <summary>The defining path of an exported name (<c>torch.nn.Linear</c>), or null.</summary>
    public static string? Resolve(string exported) => s_aliases.GetValueOrDefault(exported);
}
