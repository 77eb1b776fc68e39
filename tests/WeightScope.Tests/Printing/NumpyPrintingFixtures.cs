using Xunit;
using System.Text.Json;
using WeightScope.Printing.Numpy;
using WeightScope.Tensors;

namespace WeightScope.Tests.Printing;

/// <summary>
/// numpy 1.24's own text (tests/fixtures/generate/numpy_printing_fixtures.py → printing/numpy_prints.json) for the
/// arrays in printing/numpy_arrays.npz and printing/numpy_torch.pt, which the tests open through WeightScope.
/// </summary>
internal static class NumpyPrintingFixtures
{
    private static readonly Lazy<JsonElement> Json = new(() =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("printing", "numpy_prints.json"))).RootElement);

    // Opened once and kept open for the test run (the tensors map the files lazily).
    private static readonly Lazy<ModelFile> Npz = new(() => ModelFile.Open(TestPaths.Fixture("printing", "numpy_arrays.npz")));
    private static readonly Lazy<ModelFile> Bf16 = new(() => ModelFile.Open(TestPaths.Fixture("printing", "numpy_torch.pt")));

    /// <summary>"array/options" of every print case.</summary>
    public static TheoryData<string> CaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in Json.Value.GetProperty("cases").EnumerateArray())
            data.Add(c.GetProperty("array").GetString() + "/" + c.GetProperty("options").GetString());
        return data;
    }

    /// <summary>The array (read by WeightScope from the fixture file), the options and numpy's str and repr.</summary>
    public static (TensorEntry Array, NumpyPrintOptions Options, string Str, string Repr) Case(string id)
    {
        foreach (var c in Json.Value.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("array").GetString() + "/" + c.GetProperty("options").GetString() != id) continue;
            var file = c.TryGetProperty("file", out var f) && f.GetString() == "numpy_torch.pt" ? Bf16.Value : Npz.Value;
            return (file.Tensor(c.GetProperty("array").GetString()!), Options(c.GetProperty("options").GetString()!),
                c.GetProperty("str").GetString()!, c.GetProperty("repr").GetString()!);
        }
        throw new KeyNotFoundException(id);
    }

    /// <summary>Names of the arrays whose elements' str() and 0-d repr() numpy recorded.</summary>
    public static TheoryData<string> ScalarSetIds()
    {
        var data = new TheoryData<string>();
        foreach (var s in Json.Value.GetProperty("scalars").EnumerateArray()) data.Add(s.GetProperty("array").GetString()!);
        return data;
    }

    /// <summary>The 1-d array and numpy's str(a[i]) and repr(a[i:i+1].reshape(())) per element.</summary>
    public static (TensorEntry Array, string[] Str, string[] Repr) ScalarSet(string name)
    {
        foreach (var s in Json.Value.GetProperty("scalars").EnumerateArray())
            if (s.GetProperty("array").GetString() == name)
                return (Npz.Value.Tensor(name),
                    s.GetProperty("str").EnumerateArray().Select(e => e.GetString()!).ToArray(),
                    s.GetProperty("repr").EnumerateArray().Select(e => e.GetString()!).ToArray());
        throw new KeyNotFoundException(name);
    }

    /// <summary>"array index/options" of the view cases.</summary>
    public static TheoryData<string> SliceIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in Json.Value.GetProperty("slices").EnumerateArray())
            data.Add(c.GetProperty("array").GetString() + " " + c.GetProperty("index").GetString() + "/" + c.GetProperty("options").GetString());
        return data;
    }

    /// <summary>The view WeightScope makes of the fixture array with the same numpy index, and numpy's str and repr of it.</summary>
    public static (TensorEntry View, NumpyPrintOptions Options, string Str, string Repr) Slice(string id)
    {
        foreach (var c in Json.Value.GetProperty("slices").EnumerateArray())
        {
            string index = c.GetProperty("index").GetString()!;
            if (c.GetProperty("array").GetString() + " " + index + "/" + c.GetProperty("options").GetString() != id) continue;
            return (Npz.Value.Tensor(c.GetProperty("array").GetString()!).Slice(index), Options(c.GetProperty("options").GetString()!),
                c.GetProperty("str").GetString()!, c.GetProperty("repr").GetString()!);
        }
        throw new KeyNotFoundException(id);
    }

    /// <summary>"index/options" of the list cases.</summary>
    public static TheoryData<string> ListIds()
    {
        var data = new TheoryData<string>();
        int i = 0;
        foreach (var l in Json.Value.GetProperty("lists").EnumerateArray())
            data.Add(i++ + "/" + l.GetProperty("options").GetString());
        return data;
    }

    /// <summary>The arrays, options and numpy's repr of the Python list of them.</summary>
    public static (TensorEntry[] Arrays, NumpyPrintOptions Options, string Repr) List(string id)
    {
        var l = Json.Value.GetProperty("lists")[int.Parse(id[..id.IndexOf('/')], System.Globalization.CultureInfo.InvariantCulture)];
        var arrays = l.GetProperty("arrays").EnumerateArray().Select(e => Npz.Value.Tensor(e.GetString()!)).ToArray();
        return (arrays, Options(l.GetProperty("options").GetString()!), l.GetProperty("repr").GetString()!);
    }

    /// <summary>numpy's refusals: option name, value, message.</summary>
    public static IEnumerable<(string Option, JsonElement Value, string Message)> Errors() =>
        Json.Value.GetProperty("errors").EnumerateArray()
            .Select(e => (e.GetProperty("option").GetString()!, e.GetProperty("value"), e.GetProperty("message").GetString()!));

    /// <summary>numpy's repr and str of np.zeros((10000, 10000), float32).</summary>
    public static (string Repr, string Str) Huge() =>
        (Json.Value.GetProperty("huge").GetProperty("repr").GetString()!, Json.Value.GetProperty("huge").GetProperty("str").GetString()!);

    /// <summary>Applies a named option set: np.set_printoptions(**options) over numpy's defaults.</summary>
    public static NumpyPrintOptions Options(string name)
    {
        var o = NumpyPrintOptions.Default;
        foreach (var p in Json.Value.GetProperty("options").GetProperty(name).EnumerateObject())
        {
            o = p.Name switch
            {
                "precision" => o with { Precision = p.Value.GetInt32() },
                "threshold" => o with { Threshold = p.Value.ValueKind == JsonValueKind.String ? double.PositiveInfinity : p.Value.GetDouble() },
                "edgeitems" => o with { EdgeItems = p.Value.GetInt32() },
                "linewidth" => o with { LineWidth = p.Value.GetInt32() },
                "suppress" => o with { Suppress = p.Value.GetBoolean() },
                "floatmode" => o with { FloatMode = p.Value.GetString()! },
                "sign" => o with { Sign = p.Value.GetString()! },
                _ => throw new NotSupportedException("option " + p.Name),
            };
        }
        return o;
    }
}
