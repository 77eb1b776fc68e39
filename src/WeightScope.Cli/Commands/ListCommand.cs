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
        var filter = new Option<string[]>("--filter", "-f") { Description = "Keep names matching a glob ('fc1*', '*.bias'); a plain word matches names containing it", AllowMultipleArgumentsPerToken = false };
        var regex = new Option<string?>("--regex") { Description = "Keep names matching a regular expression" };
        var type = new Option<string?>("--type") { Description = "Keep tensors of modules of this type (Linear, Conv2d…), where the file records a module tree" };
        var trainable = new Option<bool>("--trainable") { Description = "Only parameters (trainable weights)" };
        var buffers = new Option<bool>("--buffers") { Description = "Only buffers (running statistics and other saved state)" };
        var all = new Option<bool>("--all", "-a") { Description = "Also the tensors outside state_dict(): packed quantized weights, tensor attributes, code constants (TorchScript)" };
        var json = Common.JsonOption();
        var cmd = new Command("list", """
            List the tensors of a weight file: name, dtype, shape, parameters, size, and totals.

            Examples:
              weightscope list model.pth
              weightscope list model.safetensors --filter 'encoder.*' --filter '*.bias'
              weightscope list whole_model.pt --type Linear
              weightscope list checkpoint.tar --json | jq '.totals'
              weightscope list quantized_scripted.pt --all
            """) { file, filter, regex, type, trainable, buffers, all, json };
        cmd.SetAction(p => Common.Run(() =>
        {
            using var model = Common.Open(p.GetValue(file)!);
            var roles = new List<TensorRole>();
            if (p.GetValue(trainable)) roles.Add(TensorRole.Parameter);
            if (p.GetValue(buffers)) roles.Add(TensorRole.Buffer);
            var query = new TensorQuery
            {
                Globs = p.GetValue(filter) ?? [],
                Regex = p.GetValue(regex),
                ModuleType = p.GetValue(type),
                Roles = roles,
                StateDictOnly = !p.GetValue(all),
            };
            List<TensorEntry> selected;
            try { selected = query.Apply(model).ToList(); }
            catch (InvalidOperationException e) { throw new UsageException(e.Message); }
            var totals = selected.Count == model.Tensors.Count ? model.Tensors.Totals : new TensorCollection(selected).Totals;
            // Said first, and then no table: "0 tensors, 0 parameters" would read as a fact about the model.
            bool rolesUnrecorded = roles.Count > 0 && NoteRolesUnrecorded(model, p.GetValue(trainable) ? "--trainable" : "--buffers");
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

    /// <summary>
    /// When <paramref name="model"/> records no roles (a bare <c>state_dict()</c>, safetensors, NumPy), says on stderr why
    /// <paramref name="option"/> selects nothing, and returns true.
    /// </summary>
    internal static bool NoteRolesUnrecorded(ModelFile model, string option)
    {
        if (model.Tensors.Count == 0 || model.Tensors.Any(t => t.Role != TensorRole.Other)) return false;
        Console.Error.WriteLine($"note: this {model.Format.Name} file does not record which tensors are parameters or buffers " +
                                $"(a state_dict() or a plain tensor file holds tensors only), so {option} selects none; " +
                                $"without {option}, 'weightscope list' lists them all");
        return true;
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
