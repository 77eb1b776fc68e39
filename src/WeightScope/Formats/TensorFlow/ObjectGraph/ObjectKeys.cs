using System.Text;

namespace WeightScope.Formats.TensorFlow.ObjectGraph;

/// <summary>
/// TF2 object-based checkpoint keys (<c>tensorflow/python/trackable/trackable_utils.py</c>): an object's path is its
/// escaped local names joined by <c>/</c> (<c>escape_local_name</c>: <c>.</c> → <c>..</c>, <c>/</c> → <c>.S</c>); a
/// value is <c>{path}/.ATTRIBUTES/{attribute}</c> (<c>checkpoint_key</c>); a slot variable is
/// <c>{variable path}/.OPTIMIZER_SLOT/{optimizer path}/{slot}</c> followed by its own attribute (<c>slot_variable_key</c>).
/// </summary>
internal static class ObjectKeys
{
    private const string Attributes = "/.ATTRIBUTES/";
    private const string VariableValue = "VARIABLE_VALUE";

    /// <summary>TensorFlow's <c>escape_local_name</c>.</summary>
    public static string Escape(string localName) => localName.Replace(".", "..", StringComparison.Ordinal).Replace("/", ".S", StringComparison.Ordinal);

    /// <summary>The key TensorFlow gives an object's variable value: <c>{path}/.ATTRIBUTES/VARIABLE_VALUE</c>.</summary>
    public static string VariableKey(string objectPath) => objectPath + Attributes + VariableValue;

    /// <summary>
    /// The object path a key belongs to, as a readable name: <c>layer_with_weights-0/kernel</c> for
    /// <c>layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE</c>; other attributes keep their name
    /// (<c>table/-table</c>); a slot variable is named under its optimizer, <c>optimizer/m/layer_with_weights-0/kernel</c>,
    /// so an optimizer's state forms one subtree. Null for keys that are not object-based (TF1 <c>Saver</c> names).
    /// </summary>
    public static string? ReadablePath(string key)
    {
        int attr = key.LastIndexOf(Attributes, StringComparison.Ordinal);
        if (attr < 0) return null;
        string attribute = key[(attr + Attributes.Length)..];
        string owner = key[..attr];
        string path = attribute == VariableValue ? owner : owner + "/" + attribute;
        int slot = path.IndexOf(TfKeys.OptimizerSlotMarker, StringComparison.Ordinal);
        if (slot < 0) return path;
        string variable = path[..slot];
        string optimizerAndSlot = path[(slot + TfKeys.OptimizerSlotMarker.Length)..];
        return optimizerAndSlot + "/" + variable;
    }

    /// <summary>Paths of every node reachable from node 0, breadth first, the first path found winning (TensorFlow's <c>breadth_first_traversal</c>).</summary>
    /// <param name="count">Number of nodes.</param>
    /// <param name="children">A node's (child id, local name) edges in order.</param>
    public static string?[] BreadthFirstPaths(int count, Func<int, IEnumerable<(int Id, string Name)>> children)
    {
        var paths = new string?[count];
        if (count == 0) return paths;
        paths[0] = "";
        var queue = new Queue<int>();
        queue.Enqueue(0);
        var sb = new StringBuilder();
        while (queue.Count > 0)
        {
            int id = queue.Dequeue();
            foreach (var (child, name) in children(id))
            {
                if (child < 0 || child >= count || paths[child] is not null) continue;
                sb.Clear();
                if (paths[id]!.Length > 0) sb.Append(paths[id]).Append('/');
                paths[child] = sb.Append(Escape(name)).ToString();
                queue.Enqueue(child);
            }
        }
        return paths;
    }
}
