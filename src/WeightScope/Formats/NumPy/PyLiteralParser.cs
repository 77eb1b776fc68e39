using System.Globalization;
using System.Text;

namespace WeightScope.Formats.NumPy;

/// <summary>One <c>key: value</c> pair of the header dict, with the file offset of the value for messages.</summary>
internal readonly record struct PyDictItem(string Key, object? Value, long Offset);

/// <summary>
/// A strict parser for the Python literals numpy writes with <c>repr()</c> and reads back with <c>ast.literal_eval</c>
/// (numpy's <c>safe_eval</c>): strings, decimal integers, <c>True</c>/<c>False</c>/<c>None</c>, tuples, lists and dicts.
/// It never evaluates anything. Values come out in the project's conventions: <c>string</c>, <c>long</c>, <c>bool</c>,
/// <c>null</c>, tuple = <c>object?[]</c>, list = <c>List&lt;object?&gt;</c>, dict = a list of <see cref="PyDictItem"/>.
/// </summary>
/// <remarks>
/// The parser works on the undecoded header bytes so that every error can name a byte offset. Outside string literals the
/// grammar is ASCII; string contents are decoded as latin-1 (versions 1.0 and 2.0) or strict UTF-8 (3.0), as numpy
/// decodes the whole header. Python 2's long suffix (<c>2L</c>) is accepted in 1.0/2.0 headers, as numpy's
/// <c>_filter_header</c> drops it. Not accepted (numpy never writes them): float, hex/octal, bytes and raw literals,
/// implicit string concatenation.
/// </remarks>
internal ref struct PyLiteralParser
{
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _text;
    private readonly long _baseOffset;
    private readonly NpySource _source;
    private readonly Encoding _encoding;
    private readonly bool _allowLongSuffix;
    private readonly int _maxDepth;
    private int _pos;

    private PyLiteralParser(ReadOnlySpan<byte> text, long baseOffset, NpySource source, bool utf8, bool allowLongSuffix, int maxDepth)
    {
        _text = text;
        _baseOffset = baseOffset;
        _source = source;
        _encoding = utf8 ? StrictUtf8 : Encoding.Latin1;
        _allowLongSuffix = allowLongSuffix;
        _maxDepth = maxDepth;
        _pos = 0;
    }

    /// <summary>
    /// Parses <paramref name="text"/> (whose first byte is at <paramref name="baseOffset"/>) as one dict literal followed
    /// only by whitespace, returning its items in source order (duplicate keys included; the caller keeps the last, as Python does).
    /// </summary>
    public static List<PyDictItem> ParseDict(ReadOnlySpan<byte> text, long baseOffset, NpySource source, bool utf8, bool allowLongSuffix, int maxDepth)
    {
        var p = new PyLiteralParser(text, baseOffset, source, utf8, allowLongSuffix, maxDepth);
        p.SkipSpace();
        if (p.Peek() != '{') throw p.Error("a dict literal '{...}'", p.Describe());
        var items = p.ParseDictBody(depth: 1);
        p.SkipSpace();
        if (p._pos < p._text.Length) throw p.Error("only padding after the closing '}'", p.Describe());
        return items;
    }

    private readonly long Offset => _baseOffset + _pos;

    private readonly int Peek() => _pos < _text.Length ? _text[_pos] : -1;

    private object? ParseValue(int depth)
    {
        if (depth > _maxDepth)
            throw new ReaderLimitException(_source.Format, nameof(ReaderLimits.MaxNestingDepth), depth, _maxDepth, Offset, _source.Entry);
        SkipSpace();
        int c = Peek();
        switch (c)
        {
            case '{':
                return ParseDictBody(depth + 1);
            case '(':
                {
                    var items = ParseSequence(')', depth + 1, out bool isTuple);
                    return isTuple ? items.ToArray() : items[0];
                }
            case '[':
                return ParseSequence(']', depth + 1, out _);
            case '\'' or '"':
                return ParseString();
            case 'u' or 'U' when _pos + 1 < _text.Length && _text[_pos + 1] is (byte)'\'' or (byte)'"':
                _pos++; // u'...' is the same str in Python 3
                return ParseString();
            case '-' or '+' or (>= '0' and <= '9'):
                return ParseInteger();
        }
        if (IsNameStart(c))
        {
            long at = Offset;
            string name = ReadName();
            return name switch
            {
                "True" => true,
                "False" => false,
                "None" => null,
                _ => throw ErrorAt("a literal", $"the name '{name}' (names are never evaluated)", at),
            };
        }
        throw Error("a literal (string, integer, True/False/None, tuple, list or dict)", Describe());
    }

    // '{' already current. Items: key ':' value, separated by ',', optional trailing ','.
    private List<PyDictItem> ParseDictBody(int depth)
    {
        _pos++;
        var items = new List<PyDictItem>();
        while (true)
        {
            SkipSpace();
            if (Peek() == '}') { _pos++; return items; }
            long keyAt = Offset;
            object? key = ParseValue(depth);
            if (key is not string name) throw ErrorAt("a string key", Show(key), keyAt);
            SkipSpace();
            Expect(':');
            SkipSpace();
            long valueAt = Offset;
            items.Add(new PyDictItem(name, ParseValue(depth), valueAt));
            SkipSpace();
            if (Peek() == ',') { _pos++; continue; }
            if (Peek() == '}') { _pos++; return items; }
            throw Error("',' or '}' in the dict", Describe());
        }
    }

    // '(' or '[' already current. A parenthesised single value without a comma is that value, not a tuple.
    private List<object?> ParseSequence(char close, int depth, out bool isTuple)
    {
        _pos++;
        var items = new List<object?>();
        bool sawComma = false;
        while (true)
        {
            SkipSpace();
            if (Peek() == close)
            {
                if (close == ')' && items.Count == 1 && !sawComma) { _pos++; isTuple = false; return items; }
                _pos++;
                isTuple = true;
                return items;
            }
            items.Add(ParseValue(depth));
            SkipSpace();
            if (Peek() == ',') { _pos++; sawComma = true; continue; }
            if (Peek() == close) continue;
            throw Error($"',' or '{close}'", Describe());
        }
    }

    private string ParseString()
    {
        long start = Offset;
        byte quote = _text[_pos++];
        var sb = new StringBuilder();
        int run = _pos;
        while (true)
        {
            if (_pos >= _text.Length || _text[_pos] is (byte)'\n' or (byte)'\r')
                throw ErrorAt("the closing quote of the string", "the end of the line (unterminated string)", start);
            byte b = _text[_pos];
            if (b == quote)
            {
                AppendDecoded(sb, run, _pos);
                _pos++;
                return sb.ToString();
            }
            if (b != '\\') { _pos++; continue; }
            AppendDecoded(sb, run, _pos);
            _pos++;
            AppendEscape(sb);
            run = _pos;
        }
    }

    private readonly void AppendDecoded(StringBuilder sb, int from, int to)
    {
        try
        {
            sb.Append(_encoding.GetString(_text[from..to]));
        }
        catch (DecoderFallbackException e)
        {
            throw NpyErrors.Header(_source, "a version 3.0 header must be UTF-8, but a string holds invalid UTF-8 bytes", _baseOffset + from + (e.Index > 0 ? e.Index : 0));
        }
    }

    // Python string escapes; an unknown escape keeps its backslash, as Python does.
    private void AppendEscape(StringBuilder sb)
    {
        long at = Offset - 1;
        if (_pos >= _text.Length) throw ErrorAt("an escape sequence", "the end of the header", at);
        char c = (char)_text[_pos++];
        switch (c)
        {
            case '\\' or '\'' or '"': sb.Append(c); break;
            case 'n': sb.Append('\n'); break;
            case 't': sb.Append('\t'); break;
            case 'r': sb.Append('\r'); break;
            case '0': sb.Append('\0'); break;
            case 'x': sb.Append((char)ReadHex(2, at)); break;
            case 'u': sb.Append((char)ReadHex(4, at)); break;
            case 'U':
                int cp = ReadHex(8, at);
                if (cp > 0x10FFFF) throw ErrorAt("a Unicode code point", $"\\U{cp:x8}", at);
                sb.Append(char.ConvertFromUtf32(cp));
                break;
            default: sb.Append('\\').Append(c); break;
        }
    }

    private int ReadHex(int digits, long escapeAt)
    {
        if (_pos + digits > _text.Length ||
            !int.TryParse(_text.Slice(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int v) ||
            v < 0)
            throw ErrorAt($"{digits} hex digits after the escape", Describe(), escapeAt);
        _pos += digits;
        return v;
    }

    private long ParseInteger()
    {
        long start = Offset;
        bool negative = false;
        if (Peek() is '-' or '+')
        {
            negative = _text[_pos++] == '-';
            SkipSpace();
        }
        if (Peek() is not (>= '0' and <= '9')) throw Error("digits", Describe());
        long value = 0;
        bool overflow = false;
        while (Peek() is (>= '0' and <= '9') or '_')
        {
            byte b = _text[_pos++];
            if (b == '_') continue;
            if (value > (long.MaxValue - (b - '0')) / 10) overflow = true;
            else value = value * 10 + (b - '0');
        }
        if (_allowLongSuffix && Peek() == 'L') _pos++;
        if (IsNameStart(Peek()) || Peek() == '.')
            throw Error("the end of the integer", Describe());
        if (overflow) throw NpyErrors.Header(_source, "an integer literal is larger than 2^63 - 1", start);
        return negative ? -value : value;
    }

    private string ReadName()
    {
        int start = _pos;
        while (_pos < _text.Length && (IsNameStart(_text[_pos]) || _text[_pos] is >= (byte)'0' and <= (byte)'9')) _pos++;
        return Encoding.ASCII.GetString(_text[start.._pos]);
    }

    private static bool IsNameStart(int c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_';

    // Python whitespace, and comments (ast.literal_eval would skip them too).
    private void SkipSpace()
    {
        while (_pos < _text.Length)
        {
            byte b = _text[_pos];
            if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\f') _pos++;
            else if (b == '#') { while (_pos < _text.Length && _text[_pos] != '\n') _pos++; }
            else return;
        }
    }

    private void Expect(char c)
    {
        if (Peek() != c) throw Error($"'{c}'", Describe());
        _pos++;
    }

    private readonly string Describe()
    {
        if (_pos >= _text.Length) return "the end of the header";
        int n = Math.Min(16, _text.Length - _pos);
        return $"'{Encoding.Latin1.GetString(_text.Slice(_pos, n)).ReplaceLineEndings("\\n")}'";
    }

    private static string Show(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        object?[] => "a tuple",
        List<object?> => "a list",
        List<PyDictItem> => "a dict",
        _ => value.ToString() ?? "?",
    };

    private readonly InvalidModelContentException Error(string expected, string found) => ErrorAt(expected, found, Offset);

    private readonly InvalidModelContentException ErrorAt(string expected, string found, long offset) =>
        NpyErrors.Syntax(_source, expected, found, offset);

    /// <summary>A value as Python's <c>repr</c> would roughly show it, for messages.</summary>
    public static string Repr(object? value) => value switch
    {
        string s => $"'{s}'",
        object?[] t => "(" + string.Join(", ", t.Select(Repr)) + (t.Length == 1 ? ",)" : ")"),
        List<object?> l => "[" + string.Join(", ", l.Select(Repr)) + "]",
        List<PyDictItem> d => "{" + string.Join(", ", d.Select(i => $"'{i.Key}': {Repr(i.Value)}")) + "}",
        _ => Show(value),
    };
}
