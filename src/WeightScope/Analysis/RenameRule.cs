using System.Text;
using System.Text.RegularExpressions;

namespace WeightScope.Analysis;

/// <summary>
/// A sed-like rename rule <c>s/regex/replacement/[g][i]</c> applied to tensor names before a diff pairs them
/// (<c>s/^module\.//</c> drops DataParallel's prefix). The delimiter is the character after <c>s</c>; <c>\1</c>…<c>\9</c>
/// and <c>&amp;</c> in the replacement refer to groups as in sed; without <c>g</c> only the first match is replaced.
/// </summary>
public sealed class RenameRule
{
    private readonly Regex _regex;
    private readonly string _replacement;
    private readonly bool _global;

    private RenameRule(string text, Regex regex, string replacement, bool global)
    {
        Text = text;
        _regex = regex;
        _replacement = replacement;
        _global = global;
    }

    /// <summary>The rule as written.</summary>
    public string Text { get; }

    /// <summary>Parses <c>s/regex/replacement/flags</c>.</summary>
    /// <exception cref="FormatException">Not of that form, an unknown flag, or an invalid regular expression.</exception>
    public static RenameRule Parse(string rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (rule.Length < 4 || rule[0] != 's' || char.IsLetterOrDigit(rule[1]) || rule[1] == '\\')
            throw new FormatException($"rename rule '{rule}' is not of the form s/regex/replacement/ (e.g. 's/^module\\.//')");
        char delim = rule[1];
        var parts = SplitUnescaped(rule[2..], delim);
        if (parts.Count != 3)
            throw new FormatException($"rename rule '{rule}' needs three '{delim}' (s{delim}regex{delim}replacement{delim}); escape a literal '{delim}' as '\\{delim}'");
        var options = RegexOptions.CultureInvariant;
        bool global = false;
        foreach (char f in parts[2])
        {
            if (f == 'g') global = true;
            else if (f == 'i') options |= RegexOptions.IgnoreCase;
            else throw new FormatException($"rename rule '{rule}': unknown flag '{f}' (known: g, i)");
        }
        Regex regex;
        try { regex = new Regex(parts[0], options, TimeSpan.FromSeconds(1)); }
        catch (ArgumentException e) { throw new FormatException($"rename rule '{rule}': {e.Message}", e); }
        return new RenameRule(rule, regex, SedToDotNet(parts[1]), global);
    }

    /// <summary>The name after this rule.</summary>
    public string Apply(string name) => _global ? _regex.Replace(name, _replacement) : _regex.Replace(name, _replacement, 1);

    /// <inheritdoc/>
    public override string ToString() => Text;

    // Splits on delim, honouring backslash-escaped delimiters (kept as the bare delimiter).
    private static List<string> SplitUnescaped(string s, char delim)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length && s[i + 1] == delim) { current.Append(delim); i++; }
            else if (s[i] == delim) { parts.Add(current.ToString()); current.Clear(); }
            else current.Append(s[i]);
        }
        parts.Add(current.ToString());
        return parts;
    }

    // sed's replacement syntax (\1, &, \&, \\) in .NET's (${1}, $0, literal $ as $$).
    private static string SedToDotNet(string sed)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < sed.Length; i++)
        {
            char c = sed[i];
            if (c == '\\' && i + 1 < sed.Length)
            {
                char n = sed[++i];
                if (n is >= '0' and <= '9') sb.Append("${").Append(n).Append('}');
                else if (n == '$') sb.Append("$$");
                else sb.Append(n);
            }
            else if (c == '&') sb.Append("$0");
            else if (c == '$') sb.Append("$$");
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
