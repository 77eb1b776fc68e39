using System.Globalization;

namespace WeightScope.Modules;

/// <summary>
/// A module type as a Python user writes it after <c>isinstance(layer, …)</c>: <c>Linear</c>, <c>nn.Linear</c>,
/// <c>torch.nn.Linear</c>, <c>torch.nn.modules.linear.Linear</c>, <c>torchvision.ops.Conv2dNormActivation</c>, Keras's
/// <c>Dense</c>, <c>keras.layers.Dense</c>, <c>tf.keras.layers.Dense</c>. The one place <c>--type</c> is interpreted.
/// </summary>
/// <remarks>
/// <para>A dotted torch name means exactly <c>isinstance</c>: the module's class is that class or a subclass of it, as far
/// as <see cref="TorchClassHierarchy"/> knows (torch.nn and torchvision classes; <c>MultiheadAttention.out_proj</c>, a
/// <c>NonDynamicallyQuantizableLinear</c>, is a <c>Linear</c>; torchvision's <c>Conv2dNormActivation</c> is a
/// <c>Sequential</c>).</para>
/// <para>A bare name (<c>Linear</c>) matches a module whose class, or a known base class, has that name,
/// case-insensitively as <c>--type</c> always has: so it also keeps modules of classes named alike elsewhere (quantized
/// <c>Linear</c>, a Keras <c>Dense</c>, an ONNX <c>Gemm</c>).</para>
/// <para>A user's own subclass of a torch.nn class matches only its own name: the file records its class path, not its
/// bases, and WeightScope does not guess them from its attributes.</para>
/// </remarks>
public sealed class ModuleTypeName
{
    private static readonly string[] KerasPrefixes = ["keras.layers.", "tf.keras.layers.", "tensorflow.keras.layers.", "keras.", "tf.keras.", "tensorflow.keras."];
    // Class paths that are not Keras's (a Keras layer records its class name only).
    private static readonly string[] ForeignPrefixes = ["torch.", "torchvision.", "__torch__.", "ai.onnx.", "onnx."];

    private readonly string _name;        // the class's own name (Linear)
    private readonly string? _qualified;  // a torch (or other dotted) class path that must be the class or a base
    private readonly bool _keras;

    private ModuleTypeName(string text, string name, string? qualified, bool keras)
    {
        Text = text;
        _name = name;
        _qualified = qualified;
        _keras = keras;
    }

    /// <summary>The text as given.</summary>
    public string Text { get; }

    /// <summary>Reads a type name; surrounding spaces are ignored.</summary>
    /// <exception cref="ArgumentException">The text is empty or not a dotted name.</exception>
    public static ModuleTypeName Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        if (t.Length == 0 || t.Split('.').Any(p => p.Length == 0))
            throw new ArgumentException($"--type '{text}' is not a class name (Linear, nn.Linear, torch.nn.Linear, keras.layers.Dense)");
        string name = t[(t.LastIndexOf('.') + 1)..];
        if (!t.Contains('.')) return new(text, name, null, false);
        if (KerasPrefixes.FirstOrDefault(p => t.StartsWith(p, StringComparison.Ordinal)) is not null) return new(text, name, null, true);
        // nn.Linear is torch.nn.Linear; an exported name resolves to where the class is defined.
        string full = t.StartsWith("nn.", StringComparison.Ordinal) ? "torch." + t : t;
        return new(text, name, TorchClassHierarchy.Resolve(full) ?? full, false);
    }

    /// <summary>True when <paramref name="node"/> is an instance of this type (see the remarks).</summary>
    public bool Matches(ModuleNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node.Type is null) return false;
        string? qualified = TorchPath(node);
        var bases = qualified is null ? [] : TorchClassHierarchy.BasesOf(qualified);
        bool foreign = qualified is not null && ForeignPrefixes.Any(p => qualified.StartsWith(p, StringComparison.Ordinal));
        // keras.layers.Dense: a Keras layer (no torch or ONNX class path) of that class name.
        if (_keras) return !foreign && string.Equals(node.Type, _name, StringComparison.Ordinal);
        if (_qualified is null)
            return string.Equals(node.Type, _name, StringComparison.OrdinalIgnoreCase)
                   || bases.Any(b => string.Equals(ShortName(b), _name, StringComparison.OrdinalIgnoreCase));
        // isinstance(layer, nn.Module) holds for every module of a PyTorch file, a user's classes included.
        if (_qualified == TorchClassHierarchy.Module) return IsPyTorchModule(node);
        return qualified == _qualified || bases.Contains(_qualified, StringComparer.Ordinal);
    }

    /// <summary>
    /// The modules of <paramref name="root"/> (each once, in <c>model.modules()</c> order) that are instances of
    /// <paramref name="type"/>.
    /// </summary>
    /// <exception cref="ArgumentException">None is: the message lists the types the file has, with counts.</exception>
    public static IReadOnlyList<ModuleNode> Select(ModuleNode root, string type)
    {
        ArgumentNullException.ThrowIfNull(root);
        var t = Parse(type);
        var found = root.Descendants().Where(t.Matches).ToList();
        if (found.Count == 0)
            throw new ArgumentException($"no module in this file is a '{type.Trim()}'; the types present are: {TypesPresent(root)}");
        return found;
    }

    /// <summary>The module types of a tree, sorted, each with its count: <c>BatchNorm2d (20), Conv2d (20), Linear (1)</c>.</summary>
    public static string TypesPresent(ModuleNode root)
    {
        var counts = root.Descendants().Where(n => n.Type is not null).GroupBy(n => n.Type!, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key} ({g.Count()})")).ToList();
        return counts.Count == 0 ? "(none)" : string.Join(", ", counts);
    }

    // The class path as torch names it: TorchScript archives name every class under __torch__.
    private static string? TorchPath(ModuleNode node) =>
        node.QualifiedType is { } q && q.StartsWith("__torch__.", StringComparison.Ordinal) ? q["__torch__.".Length..] : node.QualifiedType;

    // A pickled or scripted module records its class path; Keras layers record none, ONNX nodes an operator domain.
    private static bool IsPyTorchModule(ModuleNode node) =>
        node.QualifiedType is { } q && !q.StartsWith("ai.onnx.", StringComparison.Ordinal) && !q.StartsWith("onnx.", StringComparison.Ordinal);

    private static string ShortName(string qualified) => qualified[(qualified.LastIndexOf('.') + 1)..];

    /// <inheritdoc />
    public override string ToString() => Text;
}
