using Xunit;
using System.Numerics;
using System.Text.Json;
using WeightScope.Modules;
using WeightScope.Printing;
using WeightScope.Tensors;

namespace WeightScope.Tests.Printing;

/// <summary>
/// Reads the answers torch 1.13 wrote (tests/fixtures/generate/printing_fixtures.py) and rebuilds the tensors and module
/// trees they describe.
/// </summary>
internal static class PrintingFixtures
{
    private static readonly Lazy<JsonElement> TensorJson = new(() => Load("tensor_prints.json"));
    private static readonly Lazy<JsonElement> ModuleJson = new(() => Load("module_prints.json"));
    private static readonly Lazy<JsonElement> FloatJson = new(() => Load("float_formats.json"));

    private static JsonElement Load(string name) =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("printing", name))).RootElement;

    // --- tensors ---------------------------------------------------------------------------------------

    /// <summary>"tensor/options" ids of every print case.</summary>
    public static TheoryData<string> TensorCaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in TensorJson.Value.GetProperty("cases").EnumerateArray())
            data.Add(c.GetProperty("tensor").GetString() + "/" + c.GetProperty("options_name").GetString());
        return data;
    }

    /// <summary>The tensor, options and torch's text of one print case.</summary>
    public static (TensorEntry Tensor, PrintOptions Options, string Expected) TensorCase(string id)
    {
        foreach (var c in TensorJson.Value.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("tensor").GetString() + "/" + c.GetProperty("options_name").GetString() != id) continue;
            return (Tensor(c.GetProperty("tensor").GetString()!), Options(c.GetProperty("options")), c.GetProperty("expected").GetString()!);
        }
        throw new KeyNotFoundException(id);
    }

    /// <summary>"tensor index" ids of the slice cases.</summary>
    public static TheoryData<string> SliceCaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in TensorJson.Value.GetProperty("slices").EnumerateArray())
            data.Add(c.GetProperty("tensor").GetString() + " " + c.GetProperty("index").GetString());
        return data;
    }

    /// <summary>The tensor, index and torch's <c>str(t[index])</c>.</summary>
    public static (TensorEntry Tensor, string Index, string Expected) SliceCase(string id)
    {
        foreach (var c in TensorJson.Value.GetProperty("slices").EnumerateArray())
        {
            if (c.GetProperty("tensor").GetString() + " " + c.GetProperty("index").GetString() != id) continue;
            return (Tensor(c.GetProperty("tensor").GetString()!), c.GetProperty("index").GetString()!, c.GetProperty("expected").GetString()!);
        }
        throw new KeyNotFoundException(id);
    }

    /// <summary>A fixture tensor, bit-exact, over an <see cref="ArrayStorage"/> of its bytes.</summary>
    public static TensorEntry Tensor(string name)
    {
        foreach (var r in TensorJson.Value.GetProperty("tensors").EnumerateArray())
        {
            if (r.GetProperty("name").GetString() != name) continue;
            Assert.True(DTypes.TryParse(r.GetProperty("dtype").GetString()!, out var dtype));
            var shape = new Shape(r.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray());
            var bytes = Convert.FromBase64String(r.GetProperty("data").GetString()!);
            long[]? strides = r.TryGetProperty("strides", out var s) ? s.EnumerateArray().Select(e => e.GetInt64()).ToArray() : null;
            long offset = r.TryGetProperty("offset", out var o) ? o.GetInt64() : 0;
            QuantizationInfo? quant = null;
            if (r.TryGetProperty("quant", out var q))
            {
                quant = new QuantizationInfo
                {
                    Scheme = q.GetProperty("scheme").GetString() == "per_tensor_affine"
                        ? QuantizationScheme.PerTensorAffine : QuantizationScheme.PerChannelAffine,
                    Scales = q.GetProperty("scales").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
                    ZeroPoints = q.GetProperty("zero_points").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
                    Axis = q.GetProperty("axis").GetInt32(),
                };
            }
            return new TensorEntry(name, dtype, shape, new ArrayStorage(bytes, name), offset, strides, TensorRole.Parameter,
                quantization: quant);
        }
        throw new KeyNotFoundException(name);
    }

    // torch.set_printoptions(profile="default"); torch.set_printoptions(**options)
    private static PrintOptions Options(JsonElement o)
    {
        var p = o.TryGetProperty("profile", out var profile) ? PrintOptions.FromProfile(profile.GetString()!) : PrintOptions.Default;
        if (o.TryGetProperty("precision", out var v)) p = p with { Precision = v.GetInt32() };
        if (o.TryGetProperty("threshold", out v)) p = p with { Threshold = v.GetDouble() };
        if (o.TryGetProperty("edgeitems", out v)) p = p with { EdgeItems = v.GetInt32() };
        if (o.TryGetProperty("linewidth", out v)) p = p with { LineWidth = v.GetInt32() };
        // set_printoptions always assigns sci_mode, None when not given.
        p = p with { SciMode = o.TryGetProperty("sci_mode", out v) ? v.GetBoolean() : null };
        return p;
    }

    // --- modules -----------------------------------------------------------------------------------------

    /// <summary>Names of the module cases.</summary>
    public static TheoryData<string> ModuleCaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in ModuleJson.Value.GetProperty("cases").EnumerateArray()) data.Add(c.GetProperty("case").GetString()!);
        return data;
    }

    /// <summary>The rebuilt module tree and torch's <c>str(model)</c>.</summary>
    public static (ModuleNode Root, string Expected) ModuleCase(string id)
    {
        foreach (var c in ModuleJson.Value.GetProperty("cases").EnumerateArray())
            if (c.GetProperty("case").GetString() == id)
                return (Node(c.GetProperty("tree"), ""), c.GetProperty("expected").GetString()!);
        throw new KeyNotFoundException(id);
    }

    private static ModuleNode Node(JsonElement j, string parentPath)
    {
        var name = j.GetProperty("name").GetString()!;
        var path = parentPath.Length == 0 ? name : parentPath + "." + name;
        var node = new ModuleNode(name, path, j.GetProperty("type").GetString()) { QualifiedType = j.GetProperty("qualified_type").GetString() };
        foreach (var a in j.GetProperty("attributes").EnumerateObject()) node.Attributes[a.Name] = Value(a.Value);
        foreach (var p in j.GetProperty("parameters").EnumerateObject()) node.Parameters[p.Name] = Slot(p.Value, path, p.Name, TensorRole.Parameter);
        foreach (var b in j.GetProperty("buffers").EnumerateObject()) node.Buffers[b.Name] = Slot(b.Value, path, b.Name, TensorRole.Buffer);
        foreach (var c in j.GetProperty("children").EnumerateArray()) node.Children.Add(Node(c, path));
        return node;
    }

    // A parameter or buffer: its dtype and shape over zeroed bytes (printing a module reads no values).
    private static TensorEntry? Slot(JsonElement j, string path, string name, TensorRole role)
    {
        if (j.ValueKind == JsonValueKind.Null) return null;
        Assert.True(DTypes.TryParse(j.GetProperty("dtype").GetString()!, out var dtype));
        var shape = new Shape(j.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray());
        var full = path.Length == 0 ? name : path + "." + name;
        return new TensorEntry(full, dtype, shape, new ArrayStorage(new byte[shape.ElementCount * dtype.ItemSize()], full), role: role);
    }

    // The metadata conventions: long, double, bool, string, null, tuple = object?[], list, dict, opaque.
    private static object? Value(JsonElement j)
    {
        switch (j.ValueKind)
        {
            case JsonValueKind.Null: return null;
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.String: return j.GetString();
            case JsonValueKind.Number: return j.GetInt64();
        }
        var (kind, v) = j.EnumerateObject().Select(p => (p.Name, p.Value)).Single();
        return kind switch
        {
            "float" => v.ValueKind == JsonValueKind.String ? double.Parse(v.GetString()!.Replace("inf", "Infinity"), System.Globalization.CultureInfo.InvariantCulture) : v.GetDouble(),
            "bigint" => BigInteger.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            "tuple" => v.EnumerateArray().Select(Value).ToArray(),
            "list" => v.EnumerateArray().Select(Value).ToList(),
            "dict" => Dict(v),
            "opaque" => new OpaqueObject(v.GetString()!, [], null),
            _ => throw new InvalidDataException($"unknown value kind '{kind}'"),
        };
    }

    private static OrderedDictionary<string, object?> Dict(JsonElement j)
    {
        var d = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var p in j.EnumerateObject()) d[p.Name] = Value(p.Value);
        return d;
    }

    // --- Python float formatting ---------------------------------------------------------------------------

    /// <summary>Hex bits of each double in float_formats.json.</summary>
    public static TheoryData<string> FloatCaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var c in FloatJson.Value.GetProperty("cases").EnumerateArray()) data.Add(c.GetProperty("bits").GetString()!);
        return data;
    }

    /// <summary>The double and Python's strings for it ("repr", "f4", "e2", …).</summary>
    public static (double Value, Dictionary<string, string> Expected) FloatCase(string bits)
    {
        foreach (var c in FloatJson.Value.GetProperty("cases").EnumerateArray())
        {
            if (c.GetProperty("bits").GetString() != bits) continue;
            var value = BitConverter.Int64BitsToDouble(Convert.ToInt64(bits, 16));
            return (value, c.EnumerateObject().Where(p => p.Name != "bits").ToDictionary(p => p.Name, p => p.Value.GetString()!));
        }
        throw new KeyNotFoundException(bits);
    }
}
