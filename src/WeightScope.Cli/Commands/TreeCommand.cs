using System.CommandLine;
using System.Text.Json;
using WeightScope.Cli.Output;
using WeightScope.Modules;
using WeightScope.Printing;
using WeightScope.Tensors;

namespace WeightScope.Cli.Commands;

/// <summary><c>weightscope tree FILE</c>: <c>print(model)</c> for pickled modules, else a tree from dotted names.</summary>
internal static class TreeCommand
{
    public static Command Create()
    {
        var file = Common.FileArgument();
        var depth = new Option<int?>("--depth", "-d") { Description = "Show at most this many levels below the root (as the compact tree, with module types where known)" };
        var json = Common.JsonOption();
        var cmd = new Command("tree", """
            Show the module tree: exactly print(model) for a whole pickled nn.Module or TorchScript file; otherwise (a state
            dict, a Keras model, any other file) a compact tree with module types where known and parameter counts per node.

            Examples:
              weightscope tree whole_model.pt
              weightscope tree model.safetensors --depth 2
              weightscope tree model.pth --json
            """) { file, depth, json };
        cmd.SetAction(p => Common.Run(() =>
        {
            using var model = Common.Open(p.GetValue(file)!);
            int? d = p.GetValue(depth);
            if (d is < 0) throw new UsageException("--depth must be ≥ 0");
            if (p.GetValue(json))
                Json.Write(w => WriteNode(w, model.Modules, d));
            else if (model.HasModuleTypes && d is null && IsPyTorch(model))
                Console.Out.WriteLine(TreePrinter.Format(model.Modules));
            else
                Console.Out.Write(TreePrinter.FormatNameTree(model.Modules, d));
            return ExitCode.Ok;
        }));
        return cmd;
    }

    // print(model) is PyTorch's own rendering; other frameworks' trees (Keras layers) read better as the compact tree.
    private static bool IsPyTorch(ModelFile model) => model.Format.Name is "pytorch-zip" or "pytorch-legacy" or "torchscript";

    /// <summary><c>{"name","type","attributes":{},"parameters":[],"buffers":[],"children":[…]}</c>.</summary>
    private static void WriteNode(Utf8JsonWriter w, ModuleNode n, int? depth)
    {
        w.WriteStartObject();
        w.WriteString("name", n.Name);
        w.WriteString("path", n.Path);
        w.WriteString("type", n.Type);
        if (n.QualifiedType is not null) w.WriteString("qualified_type", n.QualifiedType);
        w.WriteNumber("params", n.ParameterCount);
        w.WritePropertyName("attributes");
        Json.Value(w, n.Attributes);
        WriteTensors(w, "parameters", n.Parameters);
        WriteTensors(w, "buffers", n.Buffers);
        w.WriteStartArray("children");
        if (depth is null || depth > 0)
            foreach (var c in n.Children) WriteNode(w, c, depth - 1);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteTensors(Utf8JsonWriter w, string name, OrderedDictionary<string, TensorEntry?> tensors)
    {
        w.WriteStartArray(name);
        foreach (var (local, t) in tensors)
        {
            w.WriteStartObject();
            w.WriteString("name", local);
            if (t is null)
            {
                w.WriteNull("tensor");
            }
            else
            {
                w.WriteString("tensor", t.Name);
                w.WriteString("dtype", t.DType.Name());
                Json.Shape(w, "shape", t.Shape);
                w.WriteNumber("params", t.ElementCount);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
