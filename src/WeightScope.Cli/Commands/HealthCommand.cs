using System.CommandLine;
using WeightScope.Analysis;
using WeightScope.Cli.Output;
using WeightScope.Output;

namespace WeightScope.Cli.Commands;

/// <summary><c>weightscope health FILE</c>: NaN/Inf, dead units, odd scales, bad BatchNorm statistics, tied and duplicate weights.</summary>
internal static class HealthCommand
{
    public static Command Create()
    {
        var file = Common.FileArgument();
        var json = Common.JsonOption();
        var cmd = new Command("health", """
            Check the weights for problems, each finding with a severity, the tensor and the numbers behind it:
            NaN/Inf values and non-positive BatchNorm running variances (errors); dead units (all-zero rows of Linear/Dense
            weights, all-zero convolution filters), all-zero weight tensors, scales far from the layer's fan-in and scale
            jumps between neighbouring layers (warnings); tied weights, identical tensors, all-zero biases (info).
            Exits 1 when there is any error, so it can gate a CI pipeline.

            Examples:
              weightscope health model.pth
              weightscope health model.safetensors --json | jq '.findings[] | select(.severity == "error")'
            """) { file, json };
        cmd.SetAction(p => Common.Run(() =>
        {
            using var model = Common.Open(p.GetValue(file)!);
            long bytes = model.Tensors.Sum(t => t.ByteSize);
            var findings = Progress.Run("health", bytes, bytes, done => Health.Check(model, done));
            if (p.GetValue(json)) WriteJson(findings);
            else WriteText(findings);
            return findings.Any(f => f.Severity == HealthSeverity.Error) ? ExitCode.Findings : ExitCode.Ok;
        }));
        return cmd;
    }

    private static string Severity(HealthSeverity s) => s.ToString().ToLowerInvariant();

    private static void WriteJson(IReadOnlyList<HealthFinding> findings) => Json.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("findings");
        foreach (var f in findings)
        {
            w.WriteStartObject();
            w.WriteString("severity", Severity(f.Severity));
            w.WriteString("code", f.Code);
            w.WriteString("tensor", f.Tensor);
            w.WriteString("message", f.Message);
            w.WritePropertyName("values");
            ModelJson.Value(w, new OrderedDictionary<string, object?>(f.Values));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("summary");
        foreach (var s in Enum.GetValues<HealthSeverity>().Reverse()) w.WriteNumber(Severity(s) + "s", findings.Count(f => f.Severity == s));
        w.WriteEndObject();
        w.WriteEndObject();
    });

    private static void WriteText(IReadOnlyList<HealthFinding> findings)
    {
        var o = Console.Out;
        var ordered = findings.OrderByDescending(f => f.Severity).ToList();
        if (ordered.Count > 0)
            Text.Table(o, ["severity", "tensor", "check", "finding"], ordered.Select(f => new[] { Severity(f.Severity), f.Tensor, f.Code, f.Message }).ToList(),
                [false, false, false, false]);
        int errors = findings.Count(f => f.Severity == HealthSeverity.Error), warnings = findings.Count(f => f.Severity == HealthSeverity.Warning);
        int infos = findings.Count - errors - warnings;
        if (ordered.Count > 0) o.WriteLine();
        o.WriteLine($"{errors} error{(errors == 1 ? "" : "s")}, {warnings} warning{(warnings == 1 ? "" : "s")}, {infos} note{(infos == 1 ? "" : "s")}");
    }
}
