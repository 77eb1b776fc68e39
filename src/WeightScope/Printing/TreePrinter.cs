using System.Globalization;
using System.Text;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Printing;

/// <summary>Prints module trees: exactly as PyTorch's <c>str(model)</c>, or as a name tree with parameter counts.</summary>
public static class TreePrinter
{
    /// <summary>
    /// <c>str(model)</c>, a port of <c>torch.nn.Module.__repr__</c> (torch 1.13, <c>torch/nn/modules/module.py</c>):
    /// <c>Type(extra_repr)</c> for leaves, <c>Type(\n  (child): …\n)</c> for modules with children, where each
    /// <c>extra_repr</c> is ported from torch.nn and torchvision (see <see cref="ExtraRepr"/>). A class torch.nn does not
    /// define prints an empty <c>extra_repr</c>, as a custom module without one does; so does a module whose file lacks an
    /// attribute its <c>extra_repr</c> reads. A node without a recorded type prints as <c>Module</c>.
    /// A TorchScript module (its class in TorchScript's <c>__torch__</c> namespace) prints as <c>torch.jit.load(f)</c>
    /// does: <c>RecursiveScriptModule(original_name=Linear)</c>, the class's short name, children as above
    /// (<c>RecursiveScriptModule.extra_repr</c>, <c>torch/jit/_script.py</c>).
    /// </summary>
    /// <param name="root">The model.</param>
    public static string Format(ModuleNode root)
    {
        ArgumentNullException.ThrowIfNull(root);
        return Repr(root);
    }

    // Module.__repr__: "We treat the extra repr like the sub-module, one item per line".
    private static string Repr(ModuleNode node)
    {
        string typeName, extra;
        if (IsScriptModule(node))
        {
            typeName = "RecursiveScriptModule";
            extra = "original_name=" + node.Type;
        }
        else
        {
            var m = new ModuleAttributes(node);
            if (Try(() => ExtraRepr.ReprOverride(m)) is { } whole) return whole;
            typeName = m.TypeName;
            extra = Try(() => ExtraRepr.Of(m)) ?? "";
        }
        // An empty string would split into [''], so it gives no line at all.
        var extraLines = extra.Length > 0 ? extra.Split('\n') : [];
        var childLines = node.RegisteredChildren.Select(c => "(" + c.Name + "): " + AddIndent(Repr(c.Module), 2)).ToList();
        var lines = extraLines.Concat(childLines).ToList();

        var main = new StringBuilder(typeName).Append('(');
        if (lines.Count > 0)
        {
            // simple one-liner info, which most builtin Modules will use
            if (extraLines.Length == 1 && childLines.Count == 0) main.Append(extraLines[0]);
            else main.Append("\n  ").Append(string.Join("\n  ", lines)).Append('\n');
        }
        return main.Append(')').ToString();
    }

    // Every class a TorchScript archive defines is named under __torch__; torch.jit.load wraps each module of one in a
    // RecursiveScriptModule whose original_name is the class's own name (c10::QualifiedName::name(), its last atom).
    private static bool IsScriptModule(ModuleNode node) =>
        node.Type is not null && node.QualifiedType?.StartsWith("__torch__.", StringComparison.Ordinal) == true;

    // _addindent: indents every line but the first; single-line text is left alone.
    private static string AddIndent(string s, int numSpaces)
    {
        var lines = s.Split('\n');
        if (lines.Length == 1) return s;
        var pad = new string(' ', numSpaces);
        return lines[0] + "\n" + string.Join("\n", lines.Skip(1).Select(l => pad + l));
    }

    private static string? Try(Func<string?> extraRepr)
    {
        try
        {
            return extraRepr();
        }
        catch (MissingAttributeException)
        {
            return null; // the file did not record what extra_repr reads: print the module without it
        }
    }

    /// <summary>
    /// A readable tree of modules and tensors for any model, including files that record no architecture (modules
    /// then come from dotted tensor names). Each module shows its type when known and its element count; each tensor
    /// its dtype and shape:
    /// <code>
    /// Net  (115 params)
    /// ├─ fc1  Linear  (55 params)
    /// │  ├─ weight  float32[5, 10]
    /// │  └─ bias    float32[5]
    /// └─ fc2  Linear  (60 params)
    ///    …
    /// </code>
    /// </summary>
    /// <param name="root">The model.</param>
    /// <param name="depth">Levels shown below the root (null for all); deeper modules are summarized by their counts.</param>
    public static string FormatNameTree(ModuleNode root, int? depth = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (depth is < 0) throw new ArgumentOutOfRangeException(nameof(depth), depth, "depth must be 0 or more");
        var sb = new StringBuilder();
        sb.Append(root.Type ?? "model").Append("  ").Append(Count(root)).Append('\n');
        AppendContents(sb, root, "", depth);
        return sb.ToString().TrimEnd('\n');
    }

    private static void AppendContents(StringBuilder sb, ModuleNode node, string prefix, int? depth)
    {
        if (depth == 0) return;
        var tensors = node.Parameters.Select(kv => (kv.Key, kv.Value, Buffer: false))
            .Concat(node.Buffers.Select(kv => (kv.Key, kv.Value, Buffer: true))).ToList();
        int nameWidth = tensors.Count == 0 ? 0 : tensors.Max(t => t.Key.Length);
        int items = tensors.Count + node.Children.Count, index = 0;
        foreach (var (name, tensor, buffer) in tensors)
        {
            bool last = ++index == items;
            sb.Append(prefix).Append(last ? "└─ " : "├─ ").Append(name.PadRight(nameWidth)).Append("  ");
            sb.Append(tensor is null ? "None" : tensor.DType.Name() + tensor.Shape);
            if (buffer) sb.Append("  (buffer)");
            sb.Append('\n');
        }
        foreach (var child in node.Children)
        {
            bool last = ++index == items;
            sb.Append(prefix).Append(last ? "└─ " : "├─ ").Append(child.Name);
            if (child.Type is not null) sb.Append("  ").Append(child.Type);
            int hidden = depth == 1 ? child.Children.Count : 0;
            sb.Append("  ").Append(Count(child, hidden)).Append('\n');
            AppendContents(sb, child, prefix + (last ? "   " : "│  "), depth - 1);
        }
    }

    // "(1,234 params)", or "(1,234 params; 2 children not shown)" at the depth limit.
    private static string Count(ModuleNode node, int hiddenChildren = 0)
    {
        long n = node.ParameterCount;
        var s = n.ToString("N0", CultureInfo.InvariantCulture) + (n == 1 ? " param" : " params");
        if (hiddenChildren > 0) s += $"; {hiddenChildren} {(hiddenChildren == 1 ? "child" : "children")} not shown";
        return "(" + s + ")";
    }
}
