using System.CommandLine;
using WeightScope.Cli.Output;
using WeightScope.Output;
using WeightScope.Tensors;

namespace WeightScope.Cli.Commands;

/// <summary><c>weightscope list FILE</c>: the tensors, like iterating <c>state_dict().items()</c>.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var file = Common.FileArgument();
        var selection = new TensorSelectionOptions();
        var json = Common.JsonOption();
        var cmd = new Command("list", """
            List the tensors of a weight file: name, dtype, shape, parameters, size, and totals.

            Examples:
              weightscope list model.pth
              weightscope list model.safetensors --filter 'encoder.*' --filter '*.bias'
              weightscope list whole_model.pt --type Linear
              weightscope list checkpoint.tar --json | jq '.totals'
              weightscope list quantized_scripted.pt --all
            """) { file, json };
        selection.AddTo(cmd);
        cmd.SetAction(p => Common.Run(() =>
        {
            using var model = Common.Open(p.GetValue(file)!);
            var query = selection.Query(p);
            List<TensorEntry> selected;
            try { selected = query.Apply(model).ToList(); }
            catch (InvalidOperationException e) { throw new UsageException(e.Message); }
            var totals = selected.Count == model.Tensors.Count ? model.Tensors.Totals : new TensorCollection(selected).Totals;
            // Said first, and then no table: "0 tensors, 0 parameters" would read as a fact about the model.
            bool rolesUnrecorded = selection.NoteRolesUnrecorded(model, p, "list");
            if (query.StateDictOnly && (query with { StateDictOnly = false }).Apply(model).Count(t => t.Role.IsOutsideStateDict()) is > 0 and int hidden)
                Console.Error.WriteLine($"note: {hidden} more tensor{(hidden == 1 ? "" : "s")} outside state_dict() (packed quantized weights, tensor attributes, constants); --all lists them");
            if (model.Unsupported.Count() is > 0 and int unread)
                Console.Error.WriteLine($"note: {unread} more entr{(unread == 1 ? "y" : "ies")} in the file not read as tensors: " +
                                        string.Join("; ", model.Unsupported.Take(3).Select(u => $"{u.Name}: {u.Reason}")) + (unread > 3 ? "; …" : "") +
                                        " ('weightscope info' lists them all)");
            if (p.GetValue(json)) WriteJson(model, selected, totals);
            else if (!rolesUnrecorded) WriteText(model, selected, totals);
            return ExitCode.Ok;
        }));
        return cmd;
    }

    private static void WriteJson(ModelFile model, List<TensorEntry> tensors, TensorTotals totals) =>
        Json.Write(w => ModelJson.TensorList(w, model, tensors, totals));

    // A block-quantized tensor (GGUF q4_k, tfjs uint8) is read as its dequantized view; the column says what is stored.
    private static string DTypeLabel(TensorEntry t) => t.Quantization?.BlockType is { } stored ? $"{t.DType.Name()} ({stored})" : t.DType.Name();

    private static void WriteText(ModelFile model, List<TensorEntry> tensors, TensorTotals totals)
    {
        var o = Console.Out;
        bool showRole = model.Tensors.Any(t => t.Role != TensorRole.Other);
        var shared = totals.SharedStorages.SelectMany(s => s.TensorNames).ToHashSet(StringComparer.Ordinal);
        var rows = tensors.Select(t => new[]
        {
            t.Name + (shared.Contains(t.Name) ? " *" : ""), DTypeLabel(t), t.Shape.ToString(),
            showRole ? t.Role.ToString() : "", Text.Count(t.ElementCount), Text.Bytes(t.ByteSize),
        }).ToList();
        string[] header = ["name", "dtype", "shape", showRole ? "role" : "", "params", "size"];
        bool[] right = [false, false, false, false, true, true];
        if (!showRole)
        {
            rows = rows.Select(r => (string[])[r[0], r[1], r[2], r[4], r[5]]).ToList();
            header = ["name", "dtype", "shape", "params", "size"];
            right = [false, false, false, true, true];
        }
        Text.Table(o, header, rows, right);
        o.WriteLine();
        string optimizer = totals.Elements > totals.Parameters ? $" + {Text.Count(totals.Elements - totals.Parameters)} optimizer-state values" : "";
        o.WriteLine($"{totals.Tensors} tensors, {Text.Count(totals.Parameters)} parameters{optimizer}, {Text.Bytes(totals.Bytes)}  ({model.Format})");
        if (totals.ByDType.Count > 1)
            o.WriteLine("by dtype: " + string.Join(", ", totals.ByDType.Select(kv => $"{kv.Key} {Text.Count(kv.Value.Parameters)} ({Text.Bytes(kv.Value.Bytes)})")));
        if (showRole && totals.ByRole.Count > 0)
            o.WriteLine("by role: " + string.Join(", ", totals.ByRole.Select(kv => $"{kv.Key} {Text.Count(kv.Value.Parameters)}")));
        foreach (var s in totals.SharedStorages)
            o.WriteLine($"* shared storage {s.Key} ({Text.Bytes(s.Bytes)}, counted once): {string.Join(", ", s.TensorNames)}");
    }
}
