using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using WeightScope.Analysis;
using WeightScope.Cli.Output;
using WeightScope.Output;
using WeightScope.Tensors;

namespace WeightScope.Cli.Commands;

/// <summary><c>weightscope stats FILE [NAMES…]</c>: per-tensor and overall statistics, as numpy would compute them.</summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var file = Common.FileArgument();
        var names = new Argument<string[]>("names") { Description = "Tensors to include: names or globs ('fc1*', '*.weight'); all when omitted", Arity = ArgumentArity.ZeroOrMore };
        var eps = new Option<float>("--eps") { Description = "Near-zero threshold: values with |w| < eps are counted as near zero", DefaultValueFactory = _ => Stats.DefaultEps };
        var type = new Option<string?>("--type") { Description = "Only tensors of modules that are instances of this type (Linear, nn.Linear, torch.nn.Linear, keras.layers.Dense), where the file records a module tree" };
        var json = Common.JsonOption();
        var cmd = new Command("stats", """
            Statistics of each tensor and of all of them together: count, min, max, mean, std (population, ddof=0),
            L1 and L2 norms, mean |w|, zeros, near zeros (|w| < eps), NaN, +Inf, -Inf. Min, max, mean, std and the norms
            are over the finite values; non-finite ones are counted.

            Examples:
              weightscope stats model.safetensors
              weightscope stats model.pth 'fc*.weight' --eps 1e-4
              weightscope stats whole_model.pt --type nn.Linear
              weightscope stats model.gguf --json | jq '.overall.std'
            """) { file, names, eps, type, json };
        cmd.SetAction(p => Common.Run(() =>
        {
            using var model = Common.Open(p.GetValue(file)!);
            List<TensorEntry> selected;
            try { selected = new TensorQuery { Globs = p.GetValue(names) ?? [], ModuleType = p.GetValue(type) }.Apply(model).ToList(); }
            catch (InvalidOperationException e) { throw new UsageException(e.Message); }
            if (selected.Count == 0 && (p.GetValue(names)?.Length ?? 0) > 0)
                throw new UsageException($"no tensor matches {string.Join(", ", p.GetValue(names)!.Select(n => $"'{n}'"))}; see `weightscope list {p.GetValue(file)}`");
            float threshold = p.GetValue(eps);
            if (!(threshold >= 0)) throw new UsageException($"--eps must be a non-negative number, not {threshold}");
            long bytes = selected.Sum(t => t.ByteSize);
            var report = Progress.Run("stats", bytes, bytes, done => Stats.Compute(selected, threshold, done));
            foreach (var (name, reason) in report.Skipped) Console.Error.WriteLine($"note: skipped '{name}' ({reason})");
            if (p.GetValue(json)) WriteJson(report, threshold);
            else WriteText(report, threshold);
            return ExitCode.Ok;
        }));
        return cmd;
    }

    private static void WriteJson(StatsReport report, float eps) => Json.Write(w => ModelJson.StatsReport(w, report, eps));

    private static void WriteText(StatsReport report, float eps)
    {
        var o = Console.Out;
        var rows = report.Tensors.Select(s => new[]
        {
            s.Name, s.DType, Text.Count(s.Count), G(s.Min), G(s.Max), G(s.Mean), G(s.Std), G(s.L2), Text.Count(s.Zeros), Text.Count(s.NearZero),
            s.NaN + s.PosInf + s.NegInf == 0 ? "0" : $"{s.NaN} NaN, {s.PosInf} +Inf, {s.NegInf} -Inf",
        }).ToList();
        Text.Table(o, ["name", "dtype", "count", "min", "max", "mean", "std", "l2", "zeros", $"|w|<{eps.ToString("g3", CultureInfo.InvariantCulture)}", "non-finite"], rows,
            [false, false, true, true, true, true, true, true, true, true, true]);
        var a = report.Overall;
        o.WriteLine();
        o.WriteLine($"overall: {report.Tensors.Count} tensors, {Text.Count(a.Count)} values; min {G(a.Min)}, max {G(a.Max)}, mean {G(a.Mean)}, std {G(a.Std)}, " +
                    $"L1 {G(a.L1)}, L2 {G(a.L2)}, mean |w| {G(a.MeanAbs)}; zeros {Text.Count(a.Zeros)}, near zero {Text.Count(a.NearZero)}, " +
                    $"NaN {Text.Count(a.NaN)}, +Inf {Text.Count(a.PosInf)}, -Inf {Text.Count(a.NegInf)}");
    }

    // Four significant digits, as a person reads weights ("0.02061", "-1.234e-05").
    private static string G(double? v) => v is { } d ? d.ToString("G4", CultureInfo.InvariantCulture) : "-";
}
