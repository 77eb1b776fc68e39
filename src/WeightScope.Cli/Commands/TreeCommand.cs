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
        var modules = new Option<bool>("--modules", "-m") { Description = "Each module as print(layer) prints it, in model.modules() order (each module once): the loop 'for layer in model.modules(): print(layer)'. PyTorch whole models and TorchScript" };
        var type = new Option<string?>("--type") { Description = "With --modules (implied): only modules that are instances of this type: Linear, nn.Linear, torch.nn.Linear, torch.nn.modules.linear.Linear (isinstance: torch.nn and torchvision subclasses count; a user's own subclass only by its own name)" };
        var json = Common.JsonOption();
        var cmd = new Command("tree", """
            Show the model's structure, the way its framework shows it:
              PyTorch whole model / TorchScript   exactly print(model)
              Keras (.h5, .keras, .weights.h5,    a model.summary()-style table with Total / Trainable / Non-trainable params
              tfjs layers-model)
              anything else (state dicts, …)      a compact tree with module types where known and parameter counts
            --summary and --compact choose a view for any file; --depth implies --compact.
            --modules prints every module of a PyTorch model as print(layer) does, in model.modules() order;
            --type keeps those that are isinstance of a type (and implies --modules).

            Examples:
              weightscope tree whole_model.pt
              weightscope tree model.h5
              weightscope tree model.safetensors --depth 2
              weightscope tree model.pth --summary
              weightscope tree model.keras --json
              weightscope tree whole_model.pt --modules
              weightscope tree whole_model.pt --type nn.Linear
            """) { file, depth, summary, compact, expandNested, modules, type, json };
        cmd.SetAction(p => Common.Run(() =>
        {
            using var model = Common.Open(p.GetValue(file)!);
            int? d = p.GetValue(depth);
            if (d is < 0) throw new UsageException("--depth must be ≥ 0");
            if (p.GetValue(summary) && (p.GetValue(compact) || d is not null))
                throw new UsageException("--summary cannot be combined with --compact or --depth");
            string? typeName = p.GetValue(type);
            if (p.GetValue(modules) || typeName is not null)
            {
                if (p.GetValue(summary) || p.GetValue(compact) || d is not null || p.GetValue(expandNested))
                    throw new UsageException("--modules (and --type) cannot be combined with --summary, --compact, --depth or --expand-nested");
                return PrintModules(model, typeName, p.GetValue(json));
            }
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

    // for layer in model.modules(): [if isinstance(layer, T):] print(layer) — each print(layer) is the module's repr
    // and a newline; nothing else separates the blocks.
    private static int PrintModules(ModelFile model, string? typeName, bool json)
    {
        if (!model.HasModuleTypes || !IsPyTorch(model) || model.Modules.Descendants().All(n => n.Type is null))
            throw new UsageException($"--modules prints the modules of a PyTorch model as print(layer) does; this {model.Format.Name} file records none " +
                                     "(a whole model saved with torch.save(model), or TorchScript, does); 'weightscope tree' shows its structure");
        // Nodes without a type are the containers of a checkpoint (a dict holding a model), not modules.
        var selected = typeName is null
            ? model.Modules.Descendants().Where(n => n.Type is not null).ToList()
            : ModuleTypeName.Select(model.Modules, typeName);
        if (json)
        {
            Json.Write(w =>
            {
                w.WriteStartArray();
                foreach (var n in selected)
                {
                    w.WriteStartObject();
                    w.WriteString("path", n.Path);
                    w.WriteString("type", n.Type);
                    if (n.QualifiedType is not null) w.WriteString("qualified_type", n.QualifiedType);
                    w.WriteString("repr", TreePrinter.Format(n));
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            });
            return ExitCode.Ok;
        }
        var o = Console.Out;
        foreach (var n in selected)
        {
            o.Write(TreePrinter.Format(n));
            o.Write('\n');
        }
        return ExitCode.Ok;
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
        WriteTotals(w, s);
        w.WriteEndObject();
    }

    /// <summary>The totals of a summary as JSON properties (also in <c>info --json</c>'s <c>summary</c>).</summary>
    internal static void WriteTotals(Utf8JsonWriter w, ModelSummary s)
    {
        Count(w, "total", s.Total);
        Count(w, "trainable", s.Trainable);
        Count(w, "non_trainable", s.NonTrainable);
        Count(w, "optimizer", s.Optimizer);
        w.WriteBoolean("optimizer_in_total", s.TotalIncludesOptimizer);
        Count(w, "other", s.Other);
        Count(w, "outside_model", s.OutsideModel);
    }

    private static void Count(Utf8JsonWriter w, string prefix, WeightCount c)
    {
        w.WriteNumber(prefix + "_params", c.Params);
        w.WriteNumber(prefix + "_bytes", c.Bytes);
    }
}
