using System.CommandLine;
using WeightScope.Cli.Output;
using WeightScope.Output;

namespace WeightScope.Cli.Commands;

/// <summary><c>weightscope info FILE</c>: format, producer, metadata and totals, like <c>model.summary()</c>'s footer.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var file = Common.FileArgument();
        var json = Common.JsonOption();
        var cmd = new Command("info", """
            Show what a file is: format and version, producer, metadata, parameter and byte totals.

            Examples:
              weightscope info model.safetensors
              weightscope info checkpoint.tar --json
            """) { file, json };
        cmd.SetAction(p => Common.Run(() =>
        {
            using var model = Common.Open(p.GetValue(file)!);
            var totals = model.Tensors.Totals;
            // On-disk size of everything read: the file, or an index and its shards, or a weights file and its config.
            var sources = model.SourceFiles.Distinct(StringComparer.Ordinal).Where(File.Exists).ToList();
            long fileBytes = sources.Sum(f => new FileInfo(f).Length);
            // A Keras user counts parameters as model.summary() does (Keras 3 puts optimizer variables in its Total,
            // Keras 2 leaves them out; metric state is no layer's): info says what tree --summary says.
            var summary = Modules.LayoutNotes.IsKerasModel(model.Format) ? Modules.ModelSummary.Of(model) : null;
            if (p.GetValue(json))
            {
                Json.Write(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("file", model.Path);
                    w.WriteString("format", model.Format.Name);
                    w.WriteString("version", model.Format.Version);
                    w.WriteString("producer", model.Format.Producer);
                    w.WriteNumber("file_bytes", fileBytes);
                    ModelJson.Strings(w, "files", sources);
                    w.WriteBoolean("has_module_tree", model.HasModuleTypes);
                    w.WritePropertyName("metadata");
                    ModelJson.Value(w, model.Metadata);
                    ModelJson.Totals(w, totals);
                    // Keras models: the figures model.summary() prints (tree --summary --json has the same keys).
                    if (summary is not null)
                    {
                        w.WriteStartObject("summary");
                        TreeCommand.WriteTotals(w, summary);
                        w.WriteEndObject();
                    }
                    w.WriteEndObject();
                });
                return ExitCode.Ok;
            }
            var o = Console.Out;
            o.WriteLine($"file:       {model.Path}");
            o.WriteLine($"format:     {model.Format.Name}");
            if (model.Format.Version is { } v) o.WriteLine($"version:    {v}");
            if (model.Format.Producer is { } prod) o.WriteLine($"producer:   {prod}");
            if (fileBytes > 0) o.WriteLine($"file size:  {Text.Bytes(fileBytes)}" + (sources.Count > 1 ? $" in {sources.Count} files" : ""));
            o.WriteLine($"tensors:    {totals.Tensors}");
            if (summary is not null)
            {
                o.WriteLine($"parameters: {Text.Count(summary.Total.Params)} (Total params, as model.summary() counts them)");
                o.Write(Printing.SummaryPrinter.FormatTotals(summary));
            }
            else
                o.WriteLine($"parameters: {Text.Count(totals.Parameters)}" + (totals.Elements > totals.Parameters ? $" (+ {Text.Count(totals.Elements - totals.Parameters)} optimizer-state values)" : ""));
            o.WriteLine($"data:       {Text.Bytes(totals.Bytes)}");
            foreach (var (k, g) in totals.ByDType) o.WriteLine($"  {k,-14} {g.Tensors,5} tensors {Text.Count(g.Parameters),15} params {Text.Bytes(g.Bytes),10}");
            if (totals.ByRole.Count > 1 || !totals.ByRole.ContainsKey(Tensors.TensorRole.Other))
                foreach (var (k, g) in totals.ByRole) o.WriteLine($"  {k,-14} {g.Tensors,5} tensors {Text.Count(g.Parameters),15} params");
            foreach (var s in totals.SharedStorages)
                o.WriteLine($"shared:     {string.Join(", ", s.TensorNames)} ({Text.Bytes(s.Bytes)} storage {s.Key})");
            if (model.HasModuleTypes && model.Modules.Children.Count > 0) // a frozen TorchScript module has none left
            {
                var types = model.Modules.Descendants().Skip(1).GroupBy(n => n.Type ?? "?").OrderByDescending(g => g.Count());
                o.WriteLine("modules:    " + string.Join(", ", types.Select(g => $"{g.Key}×{g.Count()}")));
            }
            if (model.Metadata.Count > 0)
            {
                o.WriteLine("metadata:");
                foreach (var (k, val) in model.Metadata.Take(50)) o.WriteLine($"  {k}: {Describe(val)}");
                if (model.Metadata.Count > 50) o.WriteLine($"  … {model.Metadata.Count - 50} more (use --json)");
            }
            return ExitCode.Ok;
        }));
        return cmd;
    }

    // Metadata as Python would show it (1e-08, True, None), shortened; collections by size.
    private static string Describe(object? v)
    {
        var s = v switch
        {
            string str => str,
            System.Collections.ICollection c when c.Count > 8 => $"{(v is object?[]? "tuple" : v is System.Collections.IDictionary ? "dict" : "list")} of {c.Count}",
            _ => Printing.PythonRepr.Of(v, 121), // only what the cut below keeps: a deep or shared value costs no more
        };
        return s.Length > 120 ? s[..117] + "…" : s;
    }
}
