using WeightScope.Tensors;

namespace WeightScope.Modules;

/// <summary>Builds a module tree from dotted tensor names when the file records no architecture.</summary>
public static class ModuleTreeBuilder
{
    /// <summary>
    /// <c>features.0.weight</c> becomes node <c>features</c> → <c>0</c> owning <c>weight</c>. Buffers are told from
    /// parameters by <see cref="TensorEntry.Role"/>. Types are unknown (null).
    /// </summary>
    public static ModuleNode FromNames(IEnumerable<TensorEntry> tensors, char separator = '.')
    {
        var root = new ModuleNode("", "", null);
        foreach (var t in tensors)
        {
            var parts = t.Name.Split(separator);
            var node = root;
            for (int i = 0; i < parts.Length - 1; i++)
            {
                var child = node.Child(parts[i]);
                if (child is null)
                {
                    child = new ModuleNode(parts[i], string.Join(separator, parts[..(i + 1)]), null);
                    node.Children.Add(child);
                }
                node = child;
            }
            var leaf = parts[^1];
            var dict = t.Role == TensorRole.Buffer ? node.Buffers : node.Parameters;
            dict[leaf] = t;
        }
        return root;
    }
}
