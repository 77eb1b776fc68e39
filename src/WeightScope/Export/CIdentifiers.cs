using System.Text;

namespace WeightScope.Export;

/// <summary>C identifiers made from tensor names: <c>fc1.weight</c> → <c>fc1_weight</c> (macros <c>FC1_WEIGHT_…</c>).</summary>
public static class CIdentifiers
{
    // C11 and C23 keywords, and names <stdint.h>/<math.h> may define as macros; an identifier equal to one gets a trailing '_'.
    private static readonly HashSet<string> s_reserved =
    [
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern", "float", "for",
        "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed", "sizeof", "static", "struct",
        "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "bool", "true", "false", "nullptr", "alignas",
        "alignof", "static_assert", "thread_local", "typeof", "constexpr", "asm", "NAN", "INFINITY", "main",
        // C++ keywords too: the headers are meant to be included from C++ as well.
        "class", "namespace", "template", "this", "new", "delete", "private", "public", "protected", "virtual", "operator",
        "friend", "try", "catch", "throw", "using", "export", "module", "import", "and", "or", "not", "xor",
    ];

    /// <summary>
    /// A valid C identifier for <paramref name="name"/>: every run of characters other than letters, digits and '_' becomes
    /// one '_', leading/trailing '_' are dropped (leading '_' + capital is reserved in C), a leading digit gets <c>t_</c>,
    /// keywords get a trailing '_'.
    /// </summary>
    public static string Sanitize(string name)
    {
        var sb = new StringBuilder(name.Length + 2);
        foreach (char c in name)
        {
            if (char.IsAsciiLetterOrDigit(c)) sb.Append(c);
            else if (sb.Length > 0 && sb[^1] != '_') sb.Append('_');
        }
        while (sb.Length > 0 && sb[^1] == '_') sb.Length--;
        if (sb.Length == 0) return "tensor";
        if (char.IsAsciiDigit(sb[0])) sb.Insert(0, "t_");
        var s = sb.ToString();
        return s_reserved.Contains(s) ? s + "_" : s;
    }

    /// <summary>
    /// Unique identifiers for <paramref name="names"/>, in order: sanitized, then <c>_2</c>, <c>_3</c>… for a name whose
    /// identifier or derived names (macros <c>ID_SIZE</c>, <c>ID_SHAPE_0</c>…, arrays <c>id_scale</c>…) would meet
    /// another's, compared ignoring case (macros are the upper-cased identifier).
    /// </summary>
    public static IReadOnlyList<string> Assign(IEnumerable<string> names)
    {
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var result = new List<string>();
        foreach (var n in names)
        {
            var baseId = Sanitize(n);
            var id = baseId;
            for (int k = 2; Derived(id).Any(taken.Contains); k++) id = $"{baseId}_{k}";
            taken.UnionWith(Derived(id));
            result.Add(id);
        }
        return result;
    }

    /// <summary>The identifier and every name <see cref="CHeader"/> derives from it.</summary>
    private static IEnumerable<string> Derived(string id)
    {
        yield return id;
        foreach (var suffix in DerivedSuffixes) yield return id + suffix;
        for (int d = 0; d < MaxShapeMacros; d++) yield return $"{id}_shape_{d}";
    }

    internal const int MaxShapeMacros = 16;

    internal static readonly string[] DerivedSuffixes = ["_scale", "_zero_point", "_size", "_dims", "_bits", "_frac_bits", "_axis"];
}
