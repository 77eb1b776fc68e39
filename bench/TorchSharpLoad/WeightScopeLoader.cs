using TorchSharp;
using WeightScope.TorchSharp;

namespace TorchSharpLoad;

/// <summary>The WeightScope side of the comparison: the one call a user makes.</summary>
internal static class WeightScopeLoader
{
    /// <summary>The benchmark's load: strict, defaults, as a user writes it.</summary>
    public static void Load(torch.nn.Module module, string path) => module.LoadWeights(path);

    /// <summary>Survey load: "ok", or what the result reports, in short (a strict failure throws, and is reported by the caller).</summary>
    public static string Load(torch.nn.Module module, string path, bool strict)
    {
        var result = module.LoadWeights(path, new LoadOptions { Strict = strict });
        string loaded = $"{result.Loaded.Count} loaded";
        if (!result.IsComplete) return $"{loaded}; {result.DescribeProblems().Split('\n', 2)[0]}";
        return result.Warnings.Count == 0 ? "ok" : $"ok ({result.Warnings.Count} warning(s): {result.Warnings[0].Split('\n', 2)[0]})";
    }
}
