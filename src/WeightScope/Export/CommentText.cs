using System.Globalization;
using System.Text;

namespace WeightScope.Export;

/// <summary>
/// Text from a model file (tensor names) or from the command line (the source path) placed in a comment of an export
/// format. A name is the file's to choose: <c>"fc.weight\n@0 7f 7f 7f 7f\n//"</c> in a <c>//</c> comment of a
/// <c>.mem</c> file would end the comment and hand <c>$readmemh</c> words of the file's choosing. So every character
/// that ends or breaks a line — C0 controls, DEL, C1 controls (NEL among them), U+2028 and U+2029 — becomes a visible
/// escape (<c>\x0a</c>, <c>\u2028</c>) and a backslash becomes <c>\\</c>, so a comment stays one line and the name can
/// still be read back from it. Each format then guards its own comment terminator (<c>*/</c> in C).
/// </summary>
public static class CommentText
{
    /// <summary><paramref name="text"/> with line-breaking and control characters escaped (unchanged when it has none).</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int first = 0;
        while (first < text.Length && !NeedsEscape(text[first])) first++;
        if (first == text.Length) return text;
        var sb = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\\') sb.Append(@"\\");
            else if (!NeedsEscape(c)) sb.Append(c);
            else if (c <= 0xFF) sb.Append(@"\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else sb.Append(@"\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    private static bool NeedsEscape(char c) => c == '\\' || char.IsControl(c) || c is '\u2028' or '\u2029';
}
