using TorchSharp;

namespace TorchSharpLoad;

/// <summary>The WeightScope side of the comparison: the one call a user makes.</summary>
internal static class WeightScopeLoader
{
    // Until WeightScope.TorchSharp's LoadWeights lands on main, the PyBridge side and the modules are built and run alone.
    public static void Load(torch.nn.Module module, string path) =>
        throw new NotSupportedException("WeightScope.TorchSharp's LoadWeights is not on main yet");

    /// <summary>Survey load: returns "ok" or the result's problems in short.</summary>
    public static string Load(torch.nn.Module module, string path, bool strict) =>
        throw new NotSupportedException("WeightScope.TorchSharp's LoadWeights is not on main yet");
}
