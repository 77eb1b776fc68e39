using System.Text;
using System.Text.RegularExpressions;

namespace WeightScope.Formats.Keras;

/// <summary>
/// How Keras 3's <c>saving_lib</c> names the h5 groups of a model's layers (<c>_save_state</c>,
/// <c>_save_container_state</c>): a Sequential or Functional model saves its <c>layers</c> list under
/// <c>&lt;path&gt;/layers</c>, each layer as <c>naming.to_snake_case(class name)</c>, the second of a class as
/// <c>_1</c>, the third <c>_2</c>… (per list, in list order; layer names are never used). A layer's own variables go to
/// <c>&lt;path&gt;/vars/&lt;i&gt;</c>; attributes holding sub-layers add their attribute name (<c>cell</c>,
/// <c>forward_layer</c>, <c>_query_dense</c>).
/// </summary>
internal static partial class Keras3Walk
{
    /// <summary>The group a model's layer list is saved under.</summary>
    public const string LayersGroup = "layers";

    /// <summary>Where tf-keras 2.13 saved the layer list (Keras 3's <c>H5Entry</c> falls back to it on load).</summary>
    public const string LegacyLayersGroup = "_layer_checkpoint_dependencies";

    /// <summary>The group <c>save_own_variables</c> writes into, below each saveable's path.</summary>
    public const string VarsGroup = "vars";

    [GeneratedRegex(@"\W+")]
    private static partial Regex NonWord();

    [GeneratedRegex("(.)([A-Z][a-z]+)")]
    private static partial Regex CapitalisedWord();

    [GeneratedRegex("([a-z])([A-Z])")]
    private static partial Regex LowerUpper();

    /// <summary>Keras's <c>naming.to_snake_case</c>: <c>QDense</c> → <c>q_dense</c>, <c>Conv2D</c> → <c>conv2d</c>, <c>LSTM</c> → <c>lstm</c>.</summary>
    public static string ToSnakeCase(string name)
    {
        // Python's \W is Unicode-aware like .NET's; ECMAScript semantics are not needed for class names.
        name = NonWord().Replace(name, "");
        name = CapitalisedWord().Replace(name, "$1_$2");
        return LowerUpper().Replace(name, "$1_$2").ToLowerInvariant();
    }

    /// <summary><c>_save_container_state</c>'s de-duplication: the first use of a name is bare, then <c>_1</c>, <c>_2</c>…</summary>
    public static string Dedup(Dictionary<string, int> used, string name)
    {
        if (used.TryGetValue(name, out int n))
        {
            used[name] = n + 1;
            return $"{name}_{n + 1}";
        }
        used[name] = 0;
        return name;
    }

    /// <summary>
    /// An h5 path as Keras meant it: tf-keras 2.15 on Windows joined paths with <c>os.path.join</c>, so its groups are
    /// named <c>layers\dense</c> at the root (Keras 3 replaces <c>\</c> with <c>/</c> before writing).
    /// </summary>
    public static string Normalize(string h5Path) => h5Path.Replace('\\', '/');

    /// <summary>Joins h5 path parts, skipping empty ones.</summary>
    public static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : a + "/" + b;

    /// <summary>
    /// Splits <c>&lt;group&gt;/vars/&lt;i&gt;</c> into group and index; false for any other path (index must be the
    /// decimal <c>str(i)</c> Keras writes).
    /// </summary>
    public static bool TryVar(string path, out string group, out int index)
    {
        group = "";
        index = -1;
        int slash = path.LastIndexOf('/');
        if (slash < 0) return false;
        string last = path[(slash + 1)..];
        if (last.Length == 0 || last.Length > 9 || !last.All(char.IsAsciiDigit) || (last.Length > 1 && last[0] == '0')) return false;
        string head = path[..slash];
        if (head == VarsGroup) { group = ""; }
        else if (head.EndsWith("/" + VarsGroup, StringComparison.Ordinal)) group = head[..^(VarsGroup.Length + 1)];
        else return false;
        index = int.Parse(last, System.Globalization.CultureInfo.InvariantCulture);
        return true;
    }

    /// <summary>
    /// Orders h5 names the way Keras created them as far as names tell: by base name, then the <c>_N</c> de-duplication
    /// suffix as a number (<c>dense</c>, <c>dense_1</c>, <c>dense_2</c>, <c>dense_10</c>), where HDF5 sorts bytewise.
    /// </summary>
    public static int NaturalCompare(string a, string b)
    {
        var (ab, an) = SplitSuffix(a);
        var (bb, bn) = SplitSuffix(b);
        int c = string.CompareOrdinal(ab, bb);
        return c != 0 ? c : an.CompareTo(bn);
    }

    /// <summary>A name without its de-duplication suffix, and the suffix (0 when none).</summary>
    public static (string Base, int Suffix) SplitSuffix(string name)
    {
        int us = name.LastIndexOf('_');
        if (us > 0 && us < name.Length - 1 && name.Length - us <= 9 && name[(us + 1)..].All(char.IsAsciiDigit))
            return (name[..us], int.Parse(name[(us + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        return (name, 0);
    }

    /// <summary>A readable list for messages: at most <paramref name="max"/> items.</summary>
    public static string Few(IEnumerable<string> items, int max = 5)
    {
        var list = items.Take(max + 1).ToList();
        var sb = new StringBuilder(string.Join(", ", list.Take(max)));
        if (list.Count > max) sb.Append(", …");
        return sb.ToString();
    }
}
