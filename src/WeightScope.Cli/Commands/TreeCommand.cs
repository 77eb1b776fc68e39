using System.CommandLine;
using System.Text.Json;
using WeightScope.Cli.Output;
using WeightScope.Modules;
using WeightScope.Output;
using WeightScope.Printing;
using WeightScope.Tensors;

namespace WeightScope.Cli.Commands;

/// <summary>
/// <c>weightscope tree FILE</c>: <c>print(model)</c> for pickled PyTorch modules, <c>model.summary()</c> for Keras models,
/// else a compact tree (from dotted names where the file has no module tree).
/// </summary>
internal static class TreeCommand
{
    public static Command Create()
    {
        var file = Common.FileArgument();
        var depth = new Option<int?>("--depth", "-d") { Description = "Show at most this many levels below the root (as the compact tree, with module types where known)" };
        var summary = new Option<bool>("--summary", "-s") { Description = "A model.summary()-style table (layers, weights, Param #, Trainable, totals) for any format" };
        var compact = new Option<bool>("--compact", "-c") { Description = "The compact tree (types, weights, parameter counts) for any format" };
        var expandNested = new Option<bool>("--expand-nested") { Description = "With the summary table: also list the layers inside nested models" };
        var json = Common.JsonOption();
        var cmd = new Command("tree", """
            Show the model's structure, the way its framework shows it:
              PyTorch whole model / TorchScript   exactly print(model)
              Keras (.h5, .keras, .weights.h5,    a model.summary()-style table with Total / Trainable / Non-trainable params
              tfjs layers-model)
              anything else (state dicts, …)      a compact tree with module types where known and parameter counts
            --summary and --compact choose a view for any file; --depth implies --compact.

            Examples:
              weightscope tree whole_model.pt
              weightscope tree model.h5
              weightscope tree model.safetensors --depth 2
              weightscope tree model.pth --summary
              weightscope tree model.keras --json
            """) { file, depth, summary, compact, expandNested, json };
        cmd.SetAction(p => Common.Run(() =>
        {
            using var model = Common.Open(p.GetValue(file)!);
            int? d = p.GetValue(depth);
            if (d is < 0) throw new UsageException("--depth must be ≥ 0");
            if (p.GetValue(summary) && (p.GetValue(compact) || d is not null))
                throw new UsageException("--summary cannot be combined with --compact or --depth");
            bool asSummary = p.GetValue(summary) || (!p.GetValue(compact) && d is null && IsKeras(model));
            if (asSummary)
            {
                var s = ModelSummary.Of(model, p.GetValue(expandNested));
                if (p.GetValue(json)) Json.Write(w => WriteSummary(w, s));
                else Console.Out.Write(SummaryPrinter.Format(s, Console.IsOutputRedirected ? null : Console.WindowWidth));
            }
            else if (p.GetValue(json))
                Json.Write(w => ModelJson.Tree(w, model.Modules, d));
            else if (model.HasModuleTypes && d is null && !p.GetValue(compact) && IsPyTorch(model))
                Console.Out.WriteLine(TreePrinter.Format(model.Modules));
            else
                Console.Out.WriteLine(TreePrinter.FormatNameTree(model.Modules, d));
            return ExitCode.Ok;
        }));
        return cmd;
    }

    // print(model) is PyTorch's own rendering; other frameworks' trees (Keras layers) read better as the compact tree.
    private static bool IsPyTorch(ModelFile model) => model.Format.Name is "pytorch-zip" or "pytorch-legacy" or "torchscript";

    // Keras users read a model through model.summary() (also a Keras model converted to a tfjs layers-model).
    private static bool IsKeras(ModelFile model) => LayoutNotes.IsKerasModel(model.Format);

    /// <summary>
    /// <c>{"model","layers":[{"name","type","depth","params","trainable","weights":[{"name","tensor","dtype","shape","role"}]}],
    /// "total_params","total_bytes","trainable_params","trainable_bytes","non_trainable_params","non_trainable_bytes",
    /// "optimizer_params","optimizer_bytes","optimizer_in_total","other_params","other_bytes","outside_model_params","outside_model_bytes"}</c>.
    /// </summary>
    private static void WriteSummary(Utf8JsonWriter w, ModelSummary s)
    {
        w.WriteStartObject();
        w.WriteString("model", s.ModelName);
        w.WriteStartArray("layers");
        foreach (var r in s.Rows)
        {
            w.WriteStartObject();
            w.WriteString("name", r.Name);
            w.WriteString("path", r.Module.Path);
            w.WriteString("type", r.Type);
            w.WriteNumber("depth", r.Depth);
            w.WriteNumber("params", r.Params);
            // true / false; null for a layer without weights or whose file does not record roles
            if (r.Trainable is LayerTrainable.Yes or LayerTrainable.No) w.WriteBoolean("trainable", r.Trainable == LayerTrainable.Yes);
            else w.WriteNull("trainable");
            w.WriteStartArray("weights");
            foreach (var wt in r.Weights)
            {
                w.WriteStartObject();
                w.WriteString("name", wt.Name);
                w.WriteString("tensor", wt.Tensor.Name);
                w.WriteString("dtype", wt.Tensor.DType.Name());
                ModelJson.Shape(w, "shape", wt.Tensor.Shape);
                w.WriteString("role", wt.Tensor.Role.ToString());
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Count(w, "total", s.Total);
        Count(w, "trainable", s.Trainable);
        Count(w, "non_trainable", s.NonTrainable);
        Count(w, "optimizer", s.Optimizer);
        w.WriteBoolean("optimizer_in_total", s.TotalIncludesOptimizer);
        Count(w, "other", s.Other);
        Count(w, "outside_model", s.OutsideModel);
        w.WriteEndObject();
    }

    private static void Count(Utf8JsonWriter w, string prefix, WeightCount c)
    {
        w.WriteNumber(prefix + "_params", c.Params);
        w.WriteNumber(prefix + "_bytes", c.Bytes);
    }
}
