using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Printing;

/// <summary>A module's attributes, read the way Python reads them in <c>extra_repr</c>.</summary>
internal sealed class ModuleAttributes(ModuleNode node)
{
    /// <summary>The node.</summary>
    public ModuleNode Node => node;

    /// <summary>The class name (<c>self.__class__.__name__</c>); <c>Module</c> when the file does not record it.</summary>
    public string TypeName => node.Type ?? "Module";

    /// <summary><c>self.__dict__[name]</c>, as <c>'{name}'.format(**self.__dict__)</c> reads it.</summary>
    /// <exception cref="MissingAttributeException">The file did not record it.</exception>
    public object? Dict(string name) =>
        node.Attributes.TryGetValue(name, out var v) ? v : throw new MissingAttributeException(node, name);

    /// <summary>True when <c>name in self.__dict__</c>.</summary>
    public bool InDict(string name) => node.Attributes.ContainsKey(name);

    /// <summary>
    /// <c>self.name</c>: the instance dict first, then (<c>Module.__getattr__</c>) parameters, buffers and children.
    /// </summary>
    /// <exception cref="MissingAttributeException">None of them has it.</exception>
    public object? Get(string name)
    {
        if (node.Attributes.TryGetValue(name, out var v)) return v;
        if (node.Parameters.TryGetValue(name, out var p)) return p;
        if (node.Buffers.TryGetValue(name, out var b)) return b;
        return node.Child(name) ?? throw new MissingAttributeException(node, name);
    }

    /// <summary><c>str(self.__dict__[name])</c>.</summary>
    public string S(string name) => PythonValue.Str(Dict(name));

    /// <summary><c>str(self.name)</c>.</summary>
    public string G(string name) => PythonValue.Str(Get(name));

    /// <summary>
    /// The parameter <paramref name="name"/> (<c>self.bias</c>), or null when it is None — or absent, as in a state dict
    /// saved from a module built with <c>bias=False</c>.
    /// </summary>
    public TensorEntry? Parameter(string name) => node.Parameters.TryGetValue(name, out var p) ? p : null;
}

/// <summary>The file did not record an attribute an <c>extra_repr</c> needs; the module then prints without one.</summary>
internal sealed class MissingAttributeException(ModuleNode node, string name)
    : Exception($"module '{node.Path}' ({node.Type}) has no attribute '{name}'");
