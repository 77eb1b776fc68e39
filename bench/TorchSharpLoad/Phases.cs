using System.Diagnostics;
using TorchSharp;
using TorchSharp.PyBridge;
using WeightScope;
using WeightScope.TorchSharp;

namespace TorchSharpLoad;

/// <summary>
/// Where a load's time goes, in one process: ModelFile.Open alone, LoadWeights(file) cold (first call: JIT and type
/// loading included) and warm, LoadWeights(path) warm, and load_py cold and warm, each timed on its own, several times.
/// Usage: TorchSharpLoad phases MODEL FILE [REPEATS]
/// </summary>
internal static class Phases
{
    public static int Run(string model, string path, int repeats)
    {
        using var module = Models.Create(model);
        var lines = new List<string>();
        void Time(string what, Action action)
        {
            var sw = Stopwatch.StartNew();
            action();
            lines.Add($"{what,-34} {sw.Elapsed.TotalMilliseconds,9:F1} ms");
        }
        bool tied = model.EndsWith("-tied", StringComparison.Ordinal);
        ModelFile? file = null;
        // PHASES_PYBRIDGE_FIRST=1: load_py writes the module's memory first, so LoadWeights' cold call meets pages
        // that a load has already written (tells the copy's first-write costs from the library's first-call costs).
        if (!tied && Environment.GetEnvironmentVariable("PHASES_PYBRIDGE_FIRST") == "1") Time("load_py (cold, first)", () => module.load_py(path));
        Time("ModelFile.Open (cold)", () => file = ModelFile.Open(path));
        Time("LoadWeights(file) (cold)", () => module.LoadWeights(file!));
        file!.Dispose();
        if (!tied) Time("load_py (cold)", () => module.load_py(path));
        for (int i = 0; i < repeats; i++)
        {
            Time("ModelFile.Open (warm)", () => file = ModelFile.Open(path));
            Time("LoadWeights(file) (warm)", () => module.LoadWeights(file!));
            file!.Dispose();
            Time("LoadWeights(path) (warm)", () => module.LoadWeights(path));
            if (!tied) Time("load_py (warm)", () => module.load_py(path));
        }
        var result = module.LoadWeights(path);
        lines.Add($"LoadResult: {result.Loaded.Count} loaded of {module.state_dict().Count} state_dict keys, "
            + $"{result.Loaded.Select(l => l.SourceName).Distinct().Count()} distinct file tensors; warnings: {string.Join(" | ", result.Warnings)}");
        foreach (var l in lines) Console.WriteLine(l);
        return 0;
    }
}
