using System.Globalization;
using System.Numerics;
using System.Text;

namespace WeightScope.Formats.PyTorch.Pickle;

/// <summary>
/// The text and integer encodings of pickle arguments, decoded as CPython decodes them: decimal lines (INT, LONG, GET,
/// PUT), float reprs (FLOAT), little-endian two's-complement longs (LONG1/LONG4), Python 2 string literals (STRING,
/// <c>codecs.escape_decode</c>) and raw-unicode-escape (UNICODE).
/// </summary>
internal static class PickleText
{
    // Python refuses int(str) beyond 4300 digits (sys.int_info.default_max_str_digits): parsing is quadratic.
    private const int MaxDecimalDigits = 4300;

    private static readonly UTF8Encoding Utf8Strict = new(false, true);

    public static object ParseInteger(ReadOnlySpan<byte> line, PickleOpcode op, long at, PickleErrors errors)
    {
        var text = Encoding.ASCII.GetString(line).Trim().Replace("_", "", StringComparison.Ordinal);
        if (text.Length > MaxDecimalDigits)
            throw errors.Invalid($"{PickleErrors.Name(op)}: integer literal of {text.Length} digits exceeds the {MaxDecimalDigits}-digit limit Python applies", at);
        bool negative = text.StartsWith('-');
        string digits = negative || text.StartsWith('+') ? text[1..] : text;
        BigInteger value = default;
        bool ok;
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            ok = BigInteger.TryParse("0" + digits[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        else
            ok = digits.Length > 0 && digits.All(char.IsAsciiDigit) && BigInteger.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!ok) throw errors.Invalid($"{PickleErrors.Name(op)}: '{Truncate(text)}' is not an integer", at);
        if (negative) value = -value;
        return Normalize(value);
    }

    public static double ParseFloat(ReadOnlySpan<byte> line, PickleOpcode op, long at, PickleErrors errors)
    {
        var text = Encoding.ASCII.GetString(line).Trim();
        switch (text.ToLowerInvariant())
        {
            case "inf" or "+inf" or "infinity": return double.PositiveInfinity;
            case "-inf" or "-infinity": return double.NegativeInfinity;
            case "nan" or "+nan" or "-nan": return double.NaN;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return d;
        throw errors.Invalid($"{PickleErrors.Name(op)}: '{Truncate(text)}' is not a float", at);
    }

    /// <summary>Python's <c>pickle.decode_long</c>: little-endian two's complement; long when it fits.</summary>
    public static object DecodeLong(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 0 ? 0L : Normalize(new BigInteger(bytes, isUnsigned: false, isBigEndian: false));

    public static object Normalize(BigInteger v) => v >= long.MinValue && v <= long.MaxValue ? (long)v : (object)v;

    // Python 2 str: torch.load decodes them with encoding='utf-8'; bytes that are not UTF-8 stay bytes.
    public static object DecodePython2String(byte[] bytes)
    {
        try { return Utf8Strict.GetString(bytes); }
        catch (DecoderFallbackException) { return bytes; }
    }

    // codecs.escape_decode: backslash escapes of a Python 2 string literal.
    public static byte[] EscapeDecode(ReadOnlySpan<byte> s)
    {
        var o = new List<byte>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            byte c = s[i];
            if (c != (byte)'\\' || i + 1 >= s.Length)
            {
                o.Add(c);
                continue;
            }
            byte e = s[++i];
            switch ((char)e)
            {
                case '\n': break; // line continuation
                case '\\': o.Add((byte)'\\'); break;
                case '\'': o.Add((byte)'\''); break;
                case '"': o.Add((byte)'"'); break;
                case 'a': o.Add(7); break;
                case 'b': o.Add(8); break;
                case 'f': o.Add(12); break;
                case 'n': o.Add(10); break;
                case 'r': o.Add(13); break;
                case 't': o.Add(9); break;
                case 'v': o.Add(11); break;
                case 'x' when i + 2 < s.Length && IsHex(s[i + 1]) && IsHex(s[i + 2]):
                    o.Add((byte)(Hex(s[i + 1]) * 16 + Hex(s[i + 2])));
                    i += 2;
                    break;
                case >= '0' and <= '7':
                    {
                        int v = e - '0', n = 1;
                        while (n < 3 && i + 1 < s.Length && s[i + 1] is >= (byte)'0' and <= (byte)'7')
                        {
                            v = v * 8 + (s[++i] - '0');
                            n++;
                        }
                        o.Add((byte)v);
                        break;
                    }
                default: o.Add((byte)'\\'); o.Add(e); break; // unknown escapes are kept as written
            }
        }
        return [.. o];
    }

    // raw-unicode-escape: bytes are Latin-1 characters except \uXXXX and \UXXXXXXXX.
    public static string RawUnicodeEscapeDecode(ReadOnlySpan<byte> s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == (byte)'\\' && i + 1 < s.Length && (s[i + 1] == (byte)'u' || s[i + 1] == (byte)'U'))
            {
                int digits = s[i + 1] == (byte)'u' ? 4 : 8;
                if (s.Length - (i + 2) >= digits && AllHex(s.Slice(i + 2, digits)))
                {
                    // 8 hex digits reach 0xFFFFFFFF: a long, so \U80000000 and up do not wrap to a negative int that
                    // passes the range check and makes ConvertFromUtf32 throw (found by ScanMutationTests). Python
                    // rejects anything over 0x10FFFF ("\Uxxxxxxxx out of range"); here it reads as U+FFFD, as before.
                    long cp = 0;
                    for (int k = 0; k < digits; k++) cp = cp * 16 + Hex(s[i + 2 + k]);
                    if (cp <= 0x10FFFF) sb.Append(char.ConvertFromUtf32(cp is >= 0xD800 and <= 0xDFFF ? 0xFFFD : (int)cp));
                    else sb.Append('\uFFFD');
                    i += 1 + digits;
                    continue;
                }
            }
            sb.Append((char)s[i]);
        }
        return sb.ToString();
    }

    private static bool AllHex(ReadOnlySpan<byte> s)
    {
        foreach (var b in s) if (!IsHex(b)) return false;
        return true;
    }

    private static bool IsHex(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';

    private static int Hex(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
