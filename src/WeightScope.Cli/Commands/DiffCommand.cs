using System.CommandLine;
using System.Globalization;
using WeightScope.Analysis;
using WeightScope.Cli.Output;
using WeightScope.Output;
using WeightScope.Tensors;

namespace WeightScope.Cli.Commands;

/// <summary><c>weightscope diff A B</c>: what changed between two checkpoints (or between a model and its conversion).</summary>
internal static class DiffCommand
{
    public static Command Create()
    {
        var fileA = new Argument<string>("a") { Description = "First weight file (reference: rel L2 is relative to A)" };
        var fileB = new Argument<string>("b") { Description = "Second weight file (any format; tolerances are relative to B, as in numpy.allclose)" };
        var compare = new DiffOptionsCli();
        var onlyDifferent = new Option<bool>("--only-different") { Description = "List only tensors that differ (text and JSON)" };
        var json = Common.JsonOption();
        var cmd = new Command("diff", """
            Compare two weight files tensor by tensor: names only in one, shape/dtype mismatches, and for each pair
            max |Δ|, mean |Δ|, relative L2 change ‖a−b‖/‖a‖, cosine similarity and numpy.allclose equality.
            Exit code 0 when identical within tolerance, 1 when anything differs.

            Examples:
              weightscope diff before.pt after.pt --only-different
              weightscope diff model.pt model.safetensors
              weightscope diff dp_checkpoint.pt model.pt --map 's/^module\.//'
              weightscope diff model.pt model.onnx --atol 1e-6 --json
            """) { fileA, fileB };
        compare.AddTo(cmd);
        cmd.Options.Add(onlyDifferent);
        cmd.Options.Add(json);
        cmd.SetAction(p => Common.Run(() =>
        {
            var options = compare.Read(p);
            using var a = Common.Open(p.GetValue(fileA)!);
            using var b = Common.Open(p.GetValue(fileB)!);
            long bytes = a.Tensors.Sum(t => t.ByteSize);
            var result = Progress.Run("comparing", bytes, bytes + b.Tensors.Sum(t => t.ByteSize), report => Diff.Compare(a, b, options with { Progress = report }));
            bool differentOnly = p.GetValue(onlyDifferent);
            if (p.GetValue(json)) Json.Write(w => ModelJson.Diff(w, a, b, result, options, differentOnly ? Differs : null));
            else WriteText(result, differentOnly);
            return result.Identical ? ExitCode.Ok : ExitCode.Findings;
        }));
        return cmd;
    }

    private static string Name(TensorComparison c) => c.NameA == c.NameB ? c.NameA : $"{c.NameA} ↔ {c.NameB}";

    private static bool Differs(TensorComparison c) => !c.Compared || !c.Equal || c.DTypeMismatch;

    private static string Num(double d) => double.IsNaN(d) ? "nan" : double.IsPositiveInfinity(d) ? "inf" : double.IsNegativeInfinity(d) ? "-inf"
        : d == 0 ? "0" : d.ToString("G4", CultureInfo.InvariantCulture);

    // A cosine just below 1 (float16 rounding) would print as "1" at 4 digits: show enough digits to see it is not.
    private static string Cosine(double c)
    {
        var s = Num(c);
        return s == "1" && c != 1 ? c.ToString("G10", CultureInfo.InvariantCulture) : s;
    }

    /// <summary>The one-line summary, e.g. "12 tensors compared: 10 equal, 2 differ; 1 only in A, 0 only in B; 0 shape mismatches".</summary>
    internal static string Summary(DiffResult r)
    {
        var compared = r.Compared.ToList();
        int equal = compared.Count(c => c.Equal), shape = r.Pairs.Count(c => c.ShapeMismatch), dtype = r.Pairs.Count(c => c.DTypeMismatch);
        string dtypes = dtype > 0 ? $", {dtype} dtype mismatch{(dtype == 1 ? "" : "es")}" : "";
        return $"{compared.Count} tensor{(compared.Count == 1 ? "" : "s")} compared: {equal} equal, {compared.Count - equal} differ; "
             + $"{r.OnlyInA.Count} only in A, {r.OnlyInB.Count} only in B; {shape} shape mismatch{(shape == 1 ? "" : "es")}{dtypes}";
    }

    private static void WriteText(DiffResult r, bool onlyDifferent)
    {
        var o = Console.Out;
        if (r.StrippedPrefixA is { } pa) o.WriteLine($"note: prefix '{pa}' stripped from A's names to pair them (--no-auto-map to disable)");
        if (r.StrippedPrefixB is { } pb) o.WriteLine($"note: prefix '{pb}' stripped from B's names to pair them (--no-auto-map to disable)");
        if (r.PairedSoleTensors) o.WriteLine("note: each file holds one tensor; they are compared whatever their names (--no-auto-map to disable)");
        var rows = r.Compared.Where(c => !onlyDifferent || !c.Equal).Select(c => c.BytesOnly
            ? new[] { Name(c), c.ShapeA.ToString(), "-", "-", "-", "-", c.Equal ? "yes" : "no" } // complex: compared byte for byte
            : [Name(c), c.ShapeA.ToString(), Num(c.MaxAbsDiff), Num(c.MeanAbsDiff), Num(c.RelativeL2), Cosine(c.Cosine), c.Equal ? "yes" : "no"]).ToList();
        if (rows.Count > 0)
        {
            Text.Table(o, ["name", "shape", "max|Δ|", "mean|Δ|", "rel L2", "cosine", "equal"], rows, [false, false, true, true, true, true, false]);
            o.WriteLine();
        }
        var mismatches = r.Mismatches.ToList();
        if (mismatches.Count > 0)
        {
            o.WriteLine("mismatches (A → B):");
            foreach (var m in mismatches)
            {
                string what = m.ShapeMismatch ? "shape" + (m.DTypeMismatch ? "+dtype" : "") : "dtype";
                o.WriteLine($"  {Name(m)}: {what} {m.DTypeA.Name()}{m.ShapeA} → {m.DTypeB.Name()}{m.ShapeB}");
            }
        }
        if (r.OnlyInA.Count > 0) o.WriteLine("only in A: " + string.Join(", ", r.OnlyInA));
        if (r.OnlyInB.Count > 0) o.WriteLine("only in B: " + string.Join(", ", r.OnlyInB));
        o.WriteLine(Summary(r));
    }
}
