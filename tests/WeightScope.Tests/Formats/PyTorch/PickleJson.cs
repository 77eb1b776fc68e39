using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using WeightScope.Formats.PyTorch;
using WeightScope.Formats.PyTorch.Pickle;
using Xunit;

namespace WeightScope.Tests.Formats.PyTorch;

/// <summary>
/// The tagged JSON form of tests/fixtures/generate/pickle_payloads.py's encode(): what the unpickler built, written the
/// way the generator wrote Python's own view, so the two can be compared. Containers get an "id" when first seen and
/// are {"ref": id} afterwards, which checks that shared and recursive references are the same objects.
/// </summary>
internal static class PickleJson
{
    public static JsonNode? Encode(object? value) => Encode(value, new Dictionary<object, int>(ReferenceEqualityComparer.Instance));

    private static JsonNode? Encode(object? v, Dictionary<object, int> seen)
    {
        switch (v)
        {
            case null: return null;
            case bool b: return new JsonObject { ["bool"] = b };
            case long or BigInteger: return new JsonObject { ["int"] = Convert.ToString(v, CultureInfo.InvariantCulture) };
            case double d: return new JsonObject { ["float"] = PyRepr.Float(d) };
            case string s: return new JsonObject { ["str"] = s };
            case byte[] bytes: return new JsonObject { ["bytes"] = Convert.ToHexStringLower(bytes) };
            case Complex c: return new JsonObject { ["complex"] = new JsonArray(PyRepr.Float(c.Real), PyRepr.Float(c.Imaginary)) };
            case PySlice s: return new JsonObject { ["slice"] = new JsonArray(Encode(s.Start, seen), Encode(s.Stop, seen), Encode(s.Step, seen)) };
            case PyPersistentId p: return new JsonObject { ["persid"] = Encode(p.Payload, seen) };
        }
        if (seen.TryGetValue(v, out int id)) return new JsonObject { ["ref"] = id };
        id = seen.Count;
        seen[v] = id;
        var node = new JsonObject { ["id"] = id };
        switch (v)
        {
            case PyList l: node["list"] = Array(l.Items, seen); break;
            case PyTuple t: node["tuple"] = Array(t.Items, seen); break;
            case PyDict d:
                node["dict"] = new JsonArray([.. d.Items.Select(kv => (JsonNode)new JsonArray(Encode(kv.Key, seen), Encode(kv.Value, seen)))]);
                node["class"] = d.ClassName;
                break;
            case PySet s: node[s.IsFrozen ? "frozenset" : "set"] = Array(s, seen); break;
            case PyObject o:
                node["object"] = o.TypeName;
                node["state"] = Encode(o.State, seen);
                break;
            default: throw new InvalidOperationException($"no JSON form for {v.GetType().Name}");
        }
        return node;
    }

    private static JsonArray Array(IEnumerable<object?> items, Dictionary<object, int> seen) => new([.. items.Select(i => Encode(i, seen))]);

    /// <summary>Asserts two tagged values are equal: floats by value (NaN equal), sets in any order, the rest exactly.</summary>
    public static void AssertEqual(JsonNode? expected, JsonNode? actual, string path = "$")
    {
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{path}: expected {expected?.ToJsonString() ?? "null"}, got {actual?.ToJsonString() ?? "null"}");
            return;
        }
        switch (expected)
        {
            case JsonObject eo:
                var ao = Assert.IsType<JsonObject>(actual);
                Assert.True(eo.Select(p => p.Key).Order().SequenceEqual(ao.Select(p => p.Key).Order()),
                    $"{path}: keys differ: expected {eo.ToJsonString()}, got {ao.ToJsonString()}");
                foreach (var (key, value) in eo)
                {
                    if (key == "float")
                        Assert.True(ParseFloat(value!).Equals(ParseFloat(ao[key]!)), $"{path}: float {value} != {ao[key]}");
                    else if (key is "set" or "frozenset")
                        AssertSameItems(value!.AsArray(), ao[key]!.AsArray(), $"{path}.{key}");
                    else AssertEqual(value, ao[key], $"{path}.{key}");
                }
                break;
            case JsonArray ea:
                var aa = Assert.IsType<JsonArray>(actual);
                Assert.True(ea.Count == aa.Count, $"{path}: expected {ea.Count} items, got {aa.Count}: {aa.ToJsonString()}");
                for (int i = 0; i < ea.Count; i++) AssertEqual(ea[i], aa[i], $"{path}[{i}]");
                break;
            default:
                Assert.True(expected.ToJsonString() == actual.ToJsonString(), $"{path}: expected {expected.ToJsonString()}, got {actual.ToJsonString()}");
                break;
        }
    }

    private static void AssertSameItems(JsonArray expected, JsonArray actual, string path)
    {
        var a = actual.Select(n => n?.ToJsonString()).Order().ToList();
        var e = expected.Select(n => n?.ToJsonString()).Order().ToList();
        Assert.True(a.SequenceEqual(e), $"{path}: expected items {string.Join(", ", e)}, got {string.Join(", ", a)}");
    }

    private static double ParseFloat(JsonNode n) => n.GetValue<string>() switch
    {
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        "nan" => double.NaN,
        var s => double.Parse(s, CultureInfo.InvariantCulture),
    };
}
