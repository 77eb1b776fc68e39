using System.Text;
using WeightScope.Tensors;

namespace WeightScope.TorchSharp;

/// <summary>What a load did: which tensors were copied from where and how, and what did not pair (torch's
/// <c>_IncompatibleKeys</c> plus shape mismatches, conversions and warnings).</summary>
public sealed class LoadResult
{
    internal LoadResult(string source, IReadOnlyList<LoadedTensor> loaded, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<ShapeMismatch> mismatches, IReadOnlyList<string> warnings)
    {
        Source = source;
        Loaded = loaded;
        MissingKeys = missing;
        UnexpectedKeys = unexpected;
        ShapeMismatches = mismatches;
        Warnings = warnings;
    }

    /// <summary>The file (or model) the weights came from.</summary>
    public string Source { get; }

    /// <summary>Every module tensor that received values, in the module's <c>state_dict()</c> order.</summary>
    public IReadOnlyList<LoadedTensor> Loaded { get; }

    /// <summary>Module keys the file has nothing for (torch's <c>missing_keys</c>).</summary>
    public IReadOnlyList<string> MissingKeys { get; }

    /// <summary>File tensors that no module key asked for (torch's <c>unexpected_keys</c>), under the file's own names.</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; }

    /// <summary>Pairs whose shapes differ (after any layout conversion); nothing is copied into them.</summary>
    public IReadOnlyList<ShapeMismatch> ShapeMismatches { get; }

    /// <summary>Precision lost in a dtype conversion, and other things worth knowing that did not stop the load.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>True when every module key was loaded and every file tensor used.</summary>
    public bool IsComplete => MissingKeys.Count == 0 && UnexpectedKeys.Count == 0 && ShapeMismatches.Count == 0;

    /// <summary>The torch-style report: the incompatibilities, each kind on its own line (empty when complete).</summary>
    public string DescribeProblems()
    {
        var sb = new StringBuilder();
        if (MissingKeys.Count > 0) sb.Append("Missing key(s) in the file: ").AppendJoin(", ", MissingKeys.Select(k => $"\"{k}\"")).Append(".\n");
        if (UnexpectedKeys.Count > 0) sb.Append("Unexpected key(s) in the file: ").AppendJoin(", ", UnexpectedKeys.Select(k => $"\"{k}\"")).Append(".\n");
        foreach (var m in ShapeMismatches)
            sb.Append($"size mismatch for {m.Name}: copying a param with shape {m.FileShape} from '{m.SourceName}' in the file, "
                + $"the shape in the current model is {m.ModuleShape}{(m.Transform is null ? "" : $" (after {m.Transform})")}.\n");
        return sb.ToString();
    }
}

/// <summary>One module tensor that received values.</summary>
/// <param name="Name">The module's key (<c>fc1.weight</c>).</param>
/// <param name="SourceName">The file's tensor it came from (<c>dense/kernel:0</c>); several, joined by <c>+</c>, when built from more than one.</param>
/// <param name="SourceDType">The file's element type.</param>
/// <param name="ModuleDType">The parameter's element type (the values were converted to it).</param>
/// <param name="Transform">The layout change applied (<c>transposed (in, out) → (out, in)</c>, <c>gates z, r, h → r, z, n</c>), or null.</param>
public sealed record LoadedTensor(string Name, string SourceName, DType SourceDType, string ModuleDType, string? Transform);

/// <summary>A module key and a file tensor that paired by name but differ in shape.</summary>
public sealed record ShapeMismatch(string Name, string SourceName, Shape FileShape, Shape ModuleShape, string? Transform);

/// <summary>
/// A strict load found keys that do not pair (missing, unexpected, or of another shape); the message lists all of them
/// like torch's <c>Error(s) in loading state_dict</c>, then the load's notes (how names were paired, and why some were
/// not), and <see cref="Result"/> has them as data. Nothing was copied.
/// </summary>
public sealed class WeightLoadException : Exception
{
    internal WeightLoadException(string moduleType, LoadResult result)
        : base($"Error(s) in loading weights from {result.Source} into {moduleType}:\n{result.DescribeProblems().TrimEnd('\n')}"
            + string.Concat(result.Warnings.Select(w => "\nNote: " + w)))
        => Result = result;

    /// <summary>Everything the load found, as data.</summary>
    public LoadResult Result { get; }
}
