using System.Numerics;
using System.Runtime.InteropServices;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Analysis;

/// <summary>How serious a health finding is. <see cref="Error"/> findings make <c>weightscope health</c> exit 1.</summary>
public enum HealthSeverity
{
    /// <summary>A fact worth knowing, not a problem (tied weights, all-zero biases).</summary>
    Info,
    /// <summary>Likely a problem: dead units, a scale far from what the layer's fan-in implies, a scale jump.</summary>
    Warning,
    /// <summary>Certainly a problem: NaN or Inf values, a non-positive BatchNorm running variance.</summary>
    Error,
}

/// <summary>One finding: its severity, a stable code, the tensor(s) concerned, a sentence, and the numbers behind it.</summary>
public sealed record HealthFinding(HealthSeverity Severity, string Code, string Tensor, string Message, IReadOnlyDictionary<string, object?> Values);

/// <summary>
/// Checks a model's weights for the problems people extract weights to find (issue 5): NaN/Inf; all-zero tensors;
/// dead units (all-zero output rows of Linear/Dense weights and all-zero convolution filters); a weight scale far from
/// what common initialisations imply for the layer's fan-in, and scale jumps against neighbouring layers; BatchNorm
/// running variances that are not positive or are extreme; identical tensors under different names (tied weights are
/// reported as such, not as a problem).
/// </summary>
/// <remarks>
/// Layouts: PyTorch, ONNX, safetensors and the rest keep the output axis first (<c>[out, in, *kernel]</c>); Keras files
/// and tfjs layers-models keep it last (<c>[*kernel, in, out]</c>, see <see cref="LayoutNotes.IsKerasModel"/>).
/// Which tensors are layer weights: rank ≥ 2 tensors named <c>…weight</c> or <c>…kernel</c>, except embeddings
/// (module type <c>Embedding</c>, or names with <c>embed</c>, <c>wte</c>, <c>wpe</c>), whose rows are looked up, not
/// summed, and whose scale follows no fan-in rule. Reference scales for a fan-in n (and fan-out m): PyTorch's default
/// <c>kaiming_uniform(a=√5)</c> 1/√(3n), LeCun 1/√n, He √(2/n), Glorot √(2/(n+m)); a layer is flagged when its std is
/// more than <see cref="ScaleFactor"/>× away from the nearest of them.
/// </remarks>
public static class Health
{
    /// <summary>How far (either way) a layer's std may be from the nearest reference scale, or from both neighbours' stds.</summary>
    public const double ScaleFactor = 10;

    /// <summary>BatchNorm running variances above this are reported as extreme.</summary>
    public const double ExtremeVariance = 1e6;

    /// <summary>Runs every check on <paramref name="model"/>'s tensors (optimizer state left out).</summary>
    public static IReadOnlyList<HealthFinding> Check(ModelFile model, Action<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tensors = model.Tensors.Where(t => t.Role != TensorRole.OptimizerState && !t.DType.IsComplex()).ToList();
        var stats = Stats.Compute(tensors, progress: progress).Tensors;
        bool outputLast = LayoutNotes.IsKerasModel(model.Format);
        var embeddings = EmbeddingNames(model);
        var findings = new List<HealthFinding>();

        for (int i = 0; i < tensors.Count; i++)
        {
            var (t, s) = (tensors[i], stats[i]);
            if (s.NaN + s.PosInf + s.NegInf > 0)
                findings.Add(new(HealthSeverity.Error, "nonfinite", t.Name,
                    $"{s.NaN} NaN, {s.PosInf} +Inf and {s.NegInf} -Inf values among {s.Count}",
                    Values(("nan", s.NaN), ("pos_inf", s.PosInf), ("neg_inf", s.NegInf), ("count", s.Count))));
            if (s.Count > 1 && s.Zeros == s.Count)
                findings.Add(new(t.Shape.Rank >= 2 ? HealthSeverity.Warning : HealthSeverity.Info, "all_zero", t.Name,
                    $"all {s.Count} values are zero", Values(("count", s.Count))));
            if (IsRunningVariance(t.Name)) CheckVariance(t, s, findings);
        }

        var layers = Enumerable.Range(0, tensors.Count).Where(i => IsLayerWeight(tensors[i], embeddings)).ToList();
        foreach (int i in layers)
        {
            if (stats[i].Zeros < stats[i].Count && stats[i].Zeros > 0) CheckDeadUnits(tensors[i], outputLast, findings);
            CheckFanIn(tensors[i], stats[i], outputLast, findings);
        }
        CheckScaleJumps(layers.Select(i => (tensors[i].Name, stats[i].Std)).ToList(), findings);
        CheckDuplicates(tensors, stats, findings);
        return findings;
    }

    private static Dictionary<string, object?> Values(params (string Key, object? Value)[] values) =>
        values.ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal);

    private static HashSet<string> EmbeddingNames(ModelFile model)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (!model.HasModuleTypes) return names;
        foreach (var node in model.Modules.Descendants())
            if (node.Type is { } type && type.Contains("Embedding", StringComparison.Ordinal))
                foreach (var t in node.AllTensors()) names.Add(t.Name);
        return names;
    }

    private static bool IsLayerWeight(TensorEntry t, HashSet<string> embeddings)
    {
        if (t.Shape.Rank < 2 || !t.DType.IsFloatingPoint() || embeddings.Contains(t.Name)) return false;
        string lower = t.Name.ToLowerInvariant();
        string last = lower[(lower.LastIndexOfAny(['.', '/']) + 1)..];
        if (!(last.StartsWith("weight", StringComparison.Ordinal) || last.StartsWith("kernel", StringComparison.Ordinal))) return false;
        return !(lower.Contains("embed", StringComparison.Ordinal) || lower.Contains("wte", StringComparison.Ordinal) || lower.Contains("wpe", StringComparison.Ordinal));
    }

    private static bool IsRunningVariance(string name) =>
        name.EndsWith("running_var", StringComparison.Ordinal) || name.Contains("moving_variance", StringComparison.Ordinal);

    private static void CheckVariance(TensorEntry t, TensorStatistics s, List<HealthFinding> findings)
    {
        var values = t.ToFloat64();
        var bad = Enumerable.Range(0, values.Length).Where(k => !(values[k] > 0)).ToList();
        if (bad.Count > 0)
            findings.Add(new(HealthSeverity.Error, "running_var_not_positive", t.Name,
                $"{bad.Count} BatchNorm running variance(s) ≤ 0 (channels {Indices(bad)}); a variance is never negative: the statistics are corrupt",
                Values(("channels", bad.Cast<object?>().ToList()), ("min", s.Min))));
        if (s.Max > ExtremeVariance)
            findings.Add(new(HealthSeverity.Warning, "running_var_extreme", t.Name,
                $"BatchNorm running variance up to {s.Max:G4} (over {ExtremeVariance:G0})", Values(("max", s.Max))));
    }

    // Output units whose weights are all zero: rows along the output axis (first for PyTorch, last for Keras).
    private static void CheckDeadUnits(TensorEntry t, bool outputLast, List<HealthFinding> findings)
    {
        int outAxis = outputLast ? t.Shape.Rank - 1 : 0;
        long units = t.Shape[outAxis];
        long inner = t.ElementCount / units; // elements per unit (PyTorch layout: contiguous after the first axis)
        var alive = new bool[units];
        TensorChunks.ForEach(t, (values, first) =>
        {
            for (int k = 0; k < values.Length; k++)
                if (values[k] != 0)
                {
                    long flat = first + k;
                    alive[outputLast ? flat % units : flat / inner] = true;
                }
        });
        var dead = Enumerable.Range(0, (int)units).Where(u => !alive[u]).ToList();
        if (dead.Count == 0) return;
        string what = t.Shape.Rank > 2 ? "convolution filter" : "output unit";
        findings.Add(new(HealthSeverity.Warning, "dead_units", t.Name,
            $"{dead.Count} of {units} {what}s have all-zero weights ({what}s {Indices(dead)})",
            Values(("units", units), ("dead", dead.Cast<object?>().ToList()))));
    }

    private static void CheckFanIn(TensorEntry t, TensorStatistics s, bool outputLast, List<HealthFinding> findings)
    {
        if (s.Std is not { } std || std == 0) return;
        long receptive = 1;
        int rank = t.Shape.Rank;
        for (int d = outputLast ? 0 : 2; d < (outputLast ? rank - 2 : rank); d++) receptive *= t.Shape[d];
        long fanIn = t.Shape[outputLast ? rank - 2 : 1] * receptive, fanOut = t.Shape[outputLast ? rank - 1 : 0] * receptive;
        var references = new (string Name, double Std)[]
        {
            ("torch_default", 1 / Math.Sqrt(3.0 * fanIn)), ("lecun", 1 / Math.Sqrt(fanIn)), ("he", Math.Sqrt(2.0 / fanIn)), ("glorot", Math.Sqrt(2.0 / (fanIn + fanOut))),
        };
        var nearest = references.MinBy(r => Math.Abs(Math.Log(std / r.Std)));
        double ratio = std / nearest.Std;
        if (ratio is > 1 / ScaleFactor and < ScaleFactor) return;
        findings.Add(new(HealthSeverity.Warning, "scale_vs_fan_in", t.Name,
            $"std {std:G4} is {ratio:G3}× the nearest initialisation scale for fan-in {fanIn} ({nearest.Name}: {nearest.Std:G4})",
            Values(("std", std), ("fan_in", fanIn), ("fan_out", fanOut), ("reference", nearest.Name), ("reference_std", nearest.Std), ("ratio", ratio))));
    }

    // A layer whose std is more than ScaleFactor× away from both neighbours' (or its one neighbour's, at the ends).
    private static void CheckScaleJumps(List<(string Name, double? Std)> layers, List<HealthFinding> findings)
    {
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i].Std is not { } std || std == 0) continue;
            var ratios = new List<double>();
            foreach (int j in new[] { i - 1, i + 1 })
                if (j >= 0 && j < layers.Count && layers[j].Std is { } other && other > 0) ratios.Add(std / other);
            if (ratios.Count == 0) continue;
            bool up = ratios.All(r => r >= ScaleFactor), down = ratios.All(r => r <= 1 / ScaleFactor);
            if (!up && !down) continue;
            findings.Add(new(HealthSeverity.Warning, "scale_jump", layers[i].Name,
                $"std {std:G4} is {string.Join(" and ", ratios.Select(r => $"{r:G3}×"))} its neighbours'",
                Values(("std", std), ("ratios", ratios.Cast<object?>().ToList()))));
        }
    }

    // Tied weights (one view of one storage under two names) are facts; identical values under two names, too, unless constant.
    private static void CheckDuplicates(List<TensorEntry> tensors, IReadOnlyList<TensorStatistics> stats, List<HealthFinding> findings)
    {
        var views = tensors.Select((t, i) => (t, i)).GroupBy(x => (x.t.Storage, x.t.StorageOffset, Shape: x.t.Shape.ToString(), Strides: string.Join(",", x.t.Strides), x.t.DType));
        var tied = new HashSet<int>();
        foreach (var g in views.Where(g => g.Count() > 1))
        {
            var names = g.Select(x => x.t.Name).ToList();
            foreach (var x in g.Skip(1)) tied.Add(x.i);
            findings.Add(new(HealthSeverity.Info, "tied", names[0], $"tied weights: {string.Join(", ", names)} are one tensor",
                Values(("tensors", names.Cast<object?>().ToList()))));
        }
        var candidates = Enumerable.Range(0, tensors.Count)
            .Where(i => !tied.Contains(i) && stats[i].Count > 1 && stats[i].Min != stats[i].Max)
            .GroupBy(i => (Shape: tensors[i].Shape.ToString(), tensors[i].DType)).Where(g => g.Count() > 1);
        foreach (var group in candidates)
            foreach (var same in group.GroupBy(i => (Hash(tensors[i]), stats[i].Min, stats[i].Max, stats[i].Mean)).Where(g => g.Count() > 1))
            {
                var names = same.Select(i => tensors[i].Name).ToList();
                findings.Add(new(HealthSeverity.Info, "identical", names[0], $"identical values under different names: {string.Join(", ", names)}",
                    Values(("tensors", names.Cast<object?>().ToList()))));
            }
    }

    // CRC-32C of the float32 values (hardware instruction), to find equal tensors without comparing every pair.
    private static uint Hash(TensorEntry t)
    {
        uint crc = 0;
        TensorChunks.ForEach(t, (values, _) =>
        {
            foreach (ulong word in MemoryMarshal.Cast<float, ulong>(values)) crc = BitOperations.Crc32C(crc, word);
            if (values.Length % 2 == 1) crc = BitOperations.Crc32C(crc, BitConverter.SingleToUInt32Bits(values[^1]));
        });
        return crc;
    }

    private static string Indices(List<int> indices) =>
        string.Join(", ", indices.Take(10)) + (indices.Count > 10 ? $", … ({indices.Count - 10} more)" : "");
}
