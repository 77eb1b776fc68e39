using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Printing;

/// <summary>
/// Python's <c>str()</c>, <c>repr()</c>, <c>==</c> and truthiness for attribute values in the metadata conventions
/// (string, long, BigInteger, double, bool, null, byte[], tuple = <c>object?[]</c>, list = <c>List&lt;object?&gt;</c>,
/// dict = <c>OrderedDictionary&lt;string, object?&gt;</c>, <see cref="OpaqueObject"/>), as <c>extra_repr</c> uses them.
/// </summary>
internal static class PythonValue
{
    /// <summary><c>str(value)</c>, which is also what <c>'{}'.format(value)</c> writes.</summary>
    public static string Str(object? value) => value is string s ? s : Repr(value);

    /// <summary><c>repr(value)</c>.</summary>
    public static string Repr(object? value) => ReprPrefix(value, int.MaxValue);

    /// <summary>
    /// At least the first <paramref name="maxLength"/> characters of <c>repr(value)</c> (all of it when shorter), written
    /// once into one buffer: nesting costs linear time, and values shared many times over (a pickle memo DAG, 2^n
    /// leaves from n bytes) cost only the characters kept.
    /// </summary>
    public static string ReprPrefix(object? value, int maxLength)
    {
        var sb = new StringBuilder();
        Append(sb, value, maxLength);
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, object? value, int maxLength)
    {
        switch (value)
        {
            case object?[] tuple:
                sb.Append('(');
                AppendItems(sb, tuple, maxLength);
                sb.Append(tuple.Length == 1 ? ",)" : ")");
                break;
            case OrderedDictionary<string, object?> dict:
                sb.Append('{');
                bool first = true;
                foreach (var (k, v) in dict)
                {
                    if (sb.Length > maxLength) return;
                    if (!first) sb.Append(", ");
                    first = false;
                    sb.Append(StringRepr(k)).Append(": ");
                    Append(sb, v, maxLength);
                }
                sb.Append('}');
                break;
            case IList list and not byte[]:
                sb.Append('[');
                AppendItems(sb, list, maxLength);
                sb.Append(']');
                break;
            default:
                sb.Append(ScalarRepr(value));
                break;
        }
    }

    private static void AppendItems(StringBuilder sb, IList items, int maxLength)
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (sb.Length > maxLength) return;
            if (i > 0) sb.Append(", ");
            Append(sb, items[i], maxLength);
        }
    }

    private static string ScalarRepr(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        string s => StringRepr(s),
        double d => PythonFloat.Repr(d),
        float f => PythonFloat.Repr(f),
        long or int or short or sbyte or byte or ushort or uint or ulong or BigInteger
            => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        byte[] bytes => BytesRepr(bytes),
        TensorEntry t => $"<tensor {t.DType.Name()}{t.Shape}>",
        OpaqueObject o => o.ToString(),
        _ => value.ToString() ?? "",
    };

    /// <summary>Python's <c>a == b</c> for these values: numbers by value (True == 1), sequences item by item.</summary>
    public static bool Equal(object? a, object? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b)) return CompareNumbers(a, b) == 0;
        if (a is string sa && b is string sb) return sa == sb;
        if (a is object?[] ta && b is object?[] tb) return ta.Length == tb.Length && ta.Zip(tb).All(p => Equal(p.First, p.Second));
        if (a is List<object?> la && b is List<object?> lb) return la.Count == lb.Count && la.Zip(lb).All(p => Equal(p.First, p.Second));
        return ReferenceEquals(a, b) || a.Equals(b);
    }

    /// <summary>Python's <c>bool(value)</c>.</summary>
    public static bool Truthy(object? value) => value switch
    {
        null => false,
        bool b => b,
        string s => s.Length > 0,
        object?[] t => t.Length > 0,
        ICollection c => c.Count > 0,
        _ when IsNumber(value) => CompareNumbers(value, 0L) != 0,
        _ => true,
    };

    /// <summary>Python's <c>type(value).__name__</c>.</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        string => "str",
        double or float => "float",
        long or int or BigInteger => "int",
        byte[] => "bytes",
        object?[] => "tuple",
        OrderedDictionary<string, object?> => "dict",
        IList => "list",
        TensorEntry => "Tensor",
        OpaqueObject o => o.TypeName[(o.TypeName.LastIndexOf('.') + 1)..],
        _ => value.GetType().Name,
    };

    private static bool IsNumber(object? v) => v is bool or long or int or short or sbyte or byte or ushort or uint or ulong
        or BigInteger or double or float;

    private static int CompareNumbers(object a, object b)
    {
        if (a is double or float || b is double or float)
        {
            double x = ToDouble(a), y = ToDouble(b);
            return double.IsNaN(x) || double.IsNaN(y) ? 1 : x.CompareTo(y);
        }
        return ToBig(a).CompareTo(ToBig(b));
    }

    private static double ToDouble(object v) => v switch
    {
        bool b => b ? 1 : 0,
        BigInteger i => (double)i,
        _ => Convert.ToDouble(v, CultureInfo.InvariantCulture),
    };

    private static BigInteger ToBig(object v) => v switch
    {
        bool b => b ? BigInteger.One : BigInteger.Zero,
        BigInteger i => i,
        ulong u => u,
        _ => Convert.ToInt64(v, CultureInfo.InvariantCulture),
    };

    // Python's str.__repr__: single quotes unless the text has a ' and no ".
    private static string StringRepr(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2).Append(quote);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote) sb.Append('\\').Append(c);
                    else if (c < ' ' || c == '\x7f') sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append(quote).ToString();
    }

    // Python's bytes.__repr__: b'...' with printable ASCII as is.
    private static string BytesRepr(byte[] bytes)
    {
        char quote = bytes.Contains((byte)'\'') && !bytes.Contains((byte)'"') ? '"' : '\'';
        var sb = new StringBuilder(bytes.Length + 3).Append('b').Append(quote);
        foreach (var b in bytes)
        {
            switch (b)
            {
                case (byte)'\\': sb.Append("\\\\"); break;
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                default:
                    if (b == quote) sb.Append('\\').Append((char)b);
                    else if (b < 0x20 || b >= 0x7f) sb.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append((char)b);
                    break;
            }
        }
        return sb.Append(quote).ToString();
    }
}
