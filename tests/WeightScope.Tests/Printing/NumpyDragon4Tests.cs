using Xunit;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WeightScope.Printing.Numpy;

namespace WeightScope.Tests.Printing;

/// <summary>
/// The Dragon4 port against numpy's own np.format_float_positional / np.format_float_scientific (numpy_dragon4.json):
/// adversarial float16/32/64 values under many argument sets, and every finite float16 under a few.
/// </summary>
public class NumpyDragon4Tests
{
    private static readonly Lazy<JsonElement> Json = new(() =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("printing", "numpy_dragon4.json"))).RootElement);

    public static TheoryData<string> TypesAndSpecs()
    {
        var data = new TheoryData<string>();
        foreach (var type in Json.Value.GetProperty("types").EnumerateObject())
            foreach (var spec in Json.Value.GetProperty("specs").EnumerateObject())
                data.Add(type.Name + "/" + spec.Name);
        return data;
    }

    public static TheoryData<string> ExhaustiveSpecs()
    {
        var data = new TheoryData<string>();
        foreach (var spec in Json.Value.GetProperty("float16_exhaustive").EnumerateObject()) data.Add(spec.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(TypesAndSpecs))]
    public void Formats_like_numpy(string id)
    {
        var (typeName, specName) = (id[..id.IndexOf('/')], id[(id.IndexOf('/') + 1)..]);
        var type = Json.Value.GetProperty("types").GetProperty(typeName);
        var kind = Kind(typeName);
        var (scientific, options) = Spec(specName);
        var bits = type.GetProperty("bits").EnumerateArray().Select(b => b.GetString()!).ToArray();
        var texts = type.GetProperty("texts").GetProperty(specName).EnumerateArray().Select(t => t.GetString()!).ToArray();
        Assert.Equal(bits.Length, texts.Length);
        Assert.True(bits.Length > 300);
        var wrong = new List<string>();
        for (int i = 0; i < bits.Length; i++)
        {
            double v = Value(bits[i], kind);
            string s = scientific ? Dragon4.Scientific(v, kind, options) : Dragon4.Positional(v, kind, options);
            if (s != texts[i]) wrong.Add($"{bits[i]}: numpy '{texts[i]}' weightscope '{s}'");
        }
        Assert.Empty(wrong);
    }

    [Theory]
    [MemberData(nameof(ExhaustiveSpecs))]
    public void Every_finite_float16_formats_like_numpy(string specName)
    {
        var expected = Json.Value.GetProperty("float16_exhaustive").GetProperty(specName);
        var (scientific, options) = Spec(specName);
        var texts = new List<string>();
        for (int b = 0; b < 1 << 16; b++)
        {
            double v = (double)BitConverter.UInt16BitsToHalf((ushort)b);
            if (!double.IsFinite(v)) continue;
            texts.Add(scientific ? Dragon4.Scientific(v, NumpyFloatKind.Half, options) : Dragon4.Positional(v, NumpyFloatKind.Half, options));
        }
        Assert.Equal(expected.GetProperty("count").GetInt32(), texts.Count);
        string sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", texts))));
        Assert.Equal(expected.GetProperty("sha256").GetString(), sha);
    }

    private static NumpyFloatKind Kind(string type) => type switch
    {
        "float16" => NumpyFloatKind.Half,
        "float32" => NumpyFloatKind.Single,
        _ => NumpyFloatKind.Double,
    };

    private static double Value(string hex, NumpyFloatKind kind)
    {
        ulong bits = ulong.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return kind switch
        {
            NumpyFloatKind.Half => (double)BitConverter.UInt16BitsToHalf((ushort)bits),
            NumpyFloatKind.Single => BitConverter.UInt32BitsToSingle((uint)bits),
            _ => BitConverter.UInt64BitsToDouble(bits),
        };
    }

    // np.format_float_positional / np.format_float_scientific keyword arguments → Dragon4 options (their defaults:
    // precision None, unique True, fractional True, trim 'k', sign False, pads/min_digits/exp_digits None = -1).
    private static (bool Scientific, Dragon4.Options Options) Spec(string name)
    {
        var spec = Json.Value.GetProperty("specs").GetProperty(name);
        int Int(string key) => spec.TryGetProperty(key, out var v) ? v.GetInt32() : -1;
        bool Bool(string key, bool dflt) => spec.TryGetProperty(key, out var v) ? v.GetBoolean() : dflt;
        var trim = (spec.TryGetProperty("trim", out var t) ? t.GetString() : "k") switch
        {
            "k" => TrimMode.None,
            "." => TrimMode.Zeros,
            "0" => TrimMode.LeaveOneZero,
            "-" => TrimMode.DptZeros,
            var other => throw new NotSupportedException("trim " + other),
        };
        bool scientific = spec.GetProperty("kind").GetString() == "sci";
        var options = new Dragon4.Options(
            Bool("unique", true) ? DigitMode.Unique : DigitMode.Exact,
            Bool("fractional", true) ? CutoffMode.FractionLength : CutoffMode.TotalLength,
            Int("precision"), Int("min_digits"), Bool("sign", false), trim, Int("pad_left"), Int("pad_right"), Int("exp_digits"));
        return (scientific, options);
    }
}
