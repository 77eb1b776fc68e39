using System.Text.Encodings.Web;
using System.Text.Json;
using WeightScope.Tensors;

namespace WeightScope.Cli.Output;

/// <summary>Writes the CLI's documented JSON schemas with Utf8JsonWriter (no reflection: trimming/AOT safe).</summary>
internal static class Json
{
    public static void Write(Action<Utf8JsonWriter> body)
    {
        using var stdout = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            body(w);
        }
        stdout.Write("\n"u8);
    }

    public static void Shape(Utf8JsonWriter w, string name, Shape shape)
    {
        w.WriteStartArray(name);
        foreach (var d in shape) w.WriteNumberValue(d);
        w.WriteEndArray();
    }

    /// <summary>An array property of numbers.</summary>
    public static void Numbers(Utf8JsonWriter w, string name, IEnumerable<double> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    /// <summary>An array property of integers (written without a fraction).</summary>
    public static void Integers(Utf8JsonWriter w, string name, IEnumerable<long> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    /// <summary>An array property of strings.</summary>
    public static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    /// <summary>A metadata value (see ModelFile.Metadata for the conventions) as JSON.</summary>
    public static void Value(Utf8JsonWriter w, object? v, int depth = 0)
    {
        if (depth > 64) { w.WriteStringValue("…"); return; }
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case long l: w.WriteNumberValue(l); break;
            case int i: w.WriteNumberValue(i); break;
            case double d: Number(w, d); break;
            case float f: Number(w, f); break;
            case System.Numerics.BigInteger bi: w.WriteRawValue(bi.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
            case byte[] bytes: w.WriteStringValue(Convert.ToBase64String(bytes)); break;
            case System.Collections.IDictionary dict:
                w.WriteStartObject();
                foreach (System.Collections.DictionaryEntry e in dict)
                {
                    w.WritePropertyName(e.Key?.ToString() ?? "null");
                    Value(w, e.Value, depth + 1);
                }
                w.WriteEndObject();
                break;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                w.WriteStartObject();
                foreach (var (k, val) in pairs)
                {
                    w.WritePropertyName(k);
                    Value(w, val, depth + 1);
                }
                w.WriteEndObject();
                break;
            case System.Collections.IEnumerable list:
                w.WriteStartArray();
                foreach (var item in list) Value(w, item, depth + 1);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(v.ToString()); break;
        }
    }

    /// <summary>A named number, with NaN and infinities as strings (see <see cref="Number(Utf8JsonWriter, double)"/>).</summary>
    public static void Number(Utf8JsonWriter w, string name, double d)
    {
        w.WritePropertyName(name);
        Number(w, d);
    }

    /// <summary>JSON has no NaN or infinities: they are written as the strings "NaN", "Infinity", "-Infinity".</summary>
    public static void Number(Utf8JsonWriter w, double d)
    {
        if (double.IsFinite(d)) w.WriteNumberValue(d);
        else w.WriteStringValue(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
    }
}
