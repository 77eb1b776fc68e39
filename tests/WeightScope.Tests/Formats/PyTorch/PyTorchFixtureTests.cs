using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using WeightScope.Formats.PyTorch;
using WeightScope.Modules;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.PyTorch;

/// <summary>A theory over tests/fixtures/pytorch/*.expected.json, skipped with the reason when that folder holds none.</summary>
public sealed class PyTorchFixturesTheoryAttribute : TheoryAttribute
{
    public PyTorchFixturesTheoryAttribute()
    {
        if (PyTorchFixtureTests.ExpectedFiles().Length == 0)
            Skip = $"no torch-written fixtures in {PyTorchFixtureTests.Folder} (tests/fixtures/generate writes them with Debian's python3-torch)";
    }
}

/// <summary>
/// Every file torch itself wrote under tests/fixtures/pytorch opens and matches torch's own answers in NAME.expected.json:
/// tensor names in reader order, dtype, shape, stride, storage offset, role, storage sharing and size, values (or sums),
/// quantization, metadata, and for whole modules and TorchScript the module tree.
/// </summary>
public class PyTorchFixtureTests
{
    public static string Folder => TestPaths.Fixture("pytorch");

    public static string[] ExpectedFiles() =>
        Directory.Exists(Folder) ? [.. Directory.GetFiles(Folder, "*.expected.json").Select(Path.GetFileName).OfType<string>().Order()] : [];

    public static TheoryData<string> Fixtures()
    {
        var d = new TheoryData<string>();
        foreach (var f in ExpectedFiles()) d.Add(f[..^".expected.json".Length]);
        if (d.Count == 0) d.Add("(none)");
        return d;
    }

    [PyTorchFixturesTheory]
    [MemberData(nameof(Fixtures))]
    public void Matches_torchs_answer(string name)
    {
        var expected = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, name + ".expected.json")))!.AsObject();
        string path = Path.Combine(Folder, expected["file"]!.GetValue<string>());
        Assert.Equal(expected["file_size"]!.GetValue<long>(), new FileInfo(path).Length); // a stale answer would mislead

        if (expected["unsupported"] is { } unsupported)
        {
            // torch's side names what a reader should refuse; the error must name it too.
            var e = Assert.Throws<UnsupportedModelFeatureException>(() => ModelFile.Open(path));
            var words = System.Text.RegularExpressions.Regex.Matches(unsupported.GetValue<string>(), @"[\w.]{5,}").Select(w => w.Value.ToLowerInvariant());
            Assert.True(words.Any(w => e.Message.Contains(w, StringComparison.OrdinalIgnoreCase)), $"'{e.Message}' names none of: {unsupported}");
            Assert.NotNull(e.Offset);
            return;
        }

        using var m = ModelFile.Open(path);

        Assert.Equal(expected["format"]!.GetValue<string>() switch
        {
            "zip" => PyTorchZipFormat.FormatName,
            "legacy" => PyTorchLegacyFormat.FormatName,
            "torchscript" => TorchScriptFormat.FormatName,
            var f => f,
        }, m.Format.Name);

        var tensors = expected["tensors"]!.AsArray();
        Assert.Equal(tensors.Select(t => t!["name"]!.GetValue<string>()), m.Tensors.Select(t => t.Name));
        for (int i = 0; i < tensors.Count; i++) AssertTensor(tensors[i]!.AsObject(), m.Tensors[i]);
        AssertSharing(tensors, m.Tensors);
        if (expected["totals"] is JsonObject totals)
        {
            Assert.Equal(totals["tensors"]!.GetValue<int>(), m.Tensors.Count);
            Assert.Equal(totals["storages"]!.GetValue<int>(), m.Tensors.Select(t => t.Storage).Distinct().Count());
            Assert.Equal(totals["storage_bytes"]!.GetValue<long>(), m.Tensors.ByteSize);
        }

        if (expected["metadata"] is JsonObject metadata)
        {
            Assert.Equal(metadata.Select(kv => kv.Key).Order(StringComparer.Ordinal), m.Metadata.Keys.Order(StringComparer.Ordinal));
            foreach (var (key, value) in metadata) AssertValue(value, m.Metadata[key], $"metadata '{key}'");
        }

        if (expected["modules"] is JsonArray modules)
        {
            Assert.True(m.HasModuleTypes, "the file holds a module, so the tree should come from it");
            var nodes = m.Modules.Descendants().ToList();
            Assert.Equal(modules.Select(x => x!["path"]!.GetValue<string>()), nodes.Select(n => n.Path));
            for (int i = 0; i < modules.Count; i++) AssertModule(modules[i]!.AsObject(), nodes[i], m.Tensors);
        }
    }

    internal static void AssertTensor(JsonObject e, TensorEntry t)
    {
        string what = $"tensor '{t.Name}'";
        Assert.True(e["dtype"]!.GetValue<string>() == t.DType.Name(), $"{what}: dtype {t.DType.Name()}, torch says {e["dtype"]}");
        Assert.Equal(Longs(e["shape"]), t.Shape.ToArray());
        if (e["stride"] is { } stride) Assert.Equal(Longs(stride), t.Strides.ToArray());
        if (e["storage_offset"] is { } offset) Assert.Equal(offset.GetValue<long>(), t.StorageOffset);
        // file_role is what the file itself says (a state dict stores detached tensors, so their module roles are not in it).
        if ((e["file_role"] ?? e["role"]) is { } role)
            Assert.True(Enum.Parse<TensorRole>(role.GetValue<string>()) == t.Role, $"{what}: role {t.Role}, the file says {role}");
        if (e["storage_nbytes"] is { } nbytes) Assert.Equal(nbytes.GetValue<long>(), t.Storage.ByteLength);

        if (t.DType.IsComplex())
        {
            var parts = ComplexParts(t);
            if (e["sum"] is { } re) AssertClose(Number(re), parts.Where((_, i) => i % 2 == 0).Sum(), $"{what} real sum");
            if (e["sum_imag"] is { } im) AssertClose(Number(im), parts.Where((_, i) => i % 2 == 1).Sum(), $"{what} imaginary sum");
            if ((e["values"] ?? e["head"]) is JsonArray cv)
                Assert.Equal(cv.SelectMany(p => p!.AsArray().Select(x => Number(x!))), parts.Take(2 * cv.Count));
        }
        else
        {
            var values = t.ToFloat64();
            if (e["sum"] is { } sum) AssertClose(Number(sum), values.Sum(), $"{what} sum");
            if (e["values"] is JsonArray v)
            {
                Assert.Equal(v.Count, values.Length);
                for (int i = 0; i < values.Length; i++) AssertClose(Number(v[i]!), values[i], $"{what}[{i}]");
            }
            if (e["head"] is JsonArray head)
                for (int i = 0; i < head.Count; i++) AssertClose(Number(head[i]!), values[i], $"{what}[{i}]");
        }
        if ((e["int_repr"] ?? e["int_repr_head"]) is JsonArray ints)
        {
            var raw = new float[t.ElementCount];
            ElementConverter.ConvertRaw(t.DType, t.ReadBytes(), raw);
            Assert.Equal(Longs(ints), raw.Take(ints.Count).Select(x => (long)x));
        }
        if (e["q"] is JsonObject q)
        {
            var info = Assert.IsType<QuantizationInfo>(t.Quantization);
            if (q["scale"] is { } scale)
            {
                Assert.Equal(QuantizationScheme.PerTensorAffine, info.Scheme);
                Assert.Equal(scale.GetValue<double>(), Assert.Single(info.Scales));
                Assert.Equal(q["zero_point"]!.GetValue<long>(), Assert.Single(info.ZeroPoints));
            }
            else
            {
                Assert.Equal(QuantizationScheme.PerChannelAffine, info.Scheme);
                Assert.Equal(q["scales"]!.AsArray().Select(x => Number(x!)), info.Scales);
                Assert.Equal(q["zero_points"]!.AsArray().Select(x => (long)Number(x!)), info.ZeroPoints);
                Assert.Equal(q["axis"]!.GetValue<int>(), info.Axis);
            }
        }
    }

    // Equal storage ids in torch's answer ⇔ the same TensorStorage object here (read once, counted once).
    internal static void AssertSharing(JsonArray expected, TensorCollection tensors)
    {
        for (int i = 0; i < tensors.Count; i++)
            for (int j = i + 1; j < tensors.Count; j++)
            {
                if (expected[i]!["storage_id"] is not { } a || expected[j]!["storage_id"] is not { } b) continue;
                bool torchShares = a.ToJsonString() == b.ToJsonString();
                Assert.True(torchShares == ReferenceEquals(tensors[i].Storage, tensors[j].Storage),
                    $"'{tensors[i].Name}' and '{tensors[j].Name}': torch {(torchShares ? "shares" : "does not share")} their storage");
            }
    }

    private static void AssertModule(JsonObject e, ModuleNode n, TensorCollection listed)
    {
        string what = $"module '{n.Path}'";
        if (e["type"] is { } type) Assert.True(type.GetValue<string>() == n.Type, $"{what}: type {n.Type}, torch says {type}");
        if (e["qualified_type"] is { } qt) Assert.True(qt.GetValue<string>() == n.QualifiedType, $"{what}: qualified type {n.QualifiedType}, torch says {qt}");
        if (e["attributes"] is JsonObject attrs)
            foreach (var (key, value) in attrs)
            {
                Assert.True(n.Attributes.TryGetValue(key, out var actual), $"{what}: no attribute '{key}'");
                AssertValue(value, actual, $"{what} attribute '{key}'");
            }
        AssertNames(e, "parameters", "none_parameters", n.Parameters, what);
        AssertNames(e, "buffers", "none_buffers", n.Buffers, what);
        // Non-persistent buffers belong to the module but are not in state_dict(), so not in the listing.
        foreach (var b in e["non_persistent_buffers"]?.AsArray() ?? [])
        {
            var tensor = n.Buffers[b!.GetValue<string>()];
            Assert.True(tensor is null || !listed.Any(t => ReferenceEquals(t, tensor)), $"{what}: non-persistent buffer {b} is listed");
        }
    }

    private static void AssertNames(JsonObject e, string all, string none, OrderedDictionary<string, TensorEntry?> actual, string what)
    {
        if (e[all] is not JsonArray names) return;
        Assert.True(names.Select(x => x!.GetValue<string>()).SequenceEqual(actual.Keys), $"{what} {all}: [{string.Join(", ", actual.Keys)}], torch says {names.ToJsonString()}");
        if (e[none] is JsonArray nones)
            Assert.Equal(nones.Select(x => x!.GetValue<string>()), actual.Where(kv => kv.Value is null).Select(kv => kv.Key));
    }

    // A JSON value torch's side wrote against a metadata/attribute value in the conventions of ModelFile.Metadata.
    private static void AssertValue(JsonNode? expected, object? actual, string what)
    {
        switch (expected)
        {
            case null: Assert.True(actual is null, $"{what}: {actual}, torch says None"); return;
            case JsonArray arr:
                var items = actual switch
                {
                    object?[] a => a.ToList(),
                    List<object?> l => l,
                    _ => throw new Xunit.Sdk.XunitException($"{what}: {actual} is not a sequence; torch says {arr.ToJsonString()}"),
                };
                Assert.True(arr.Count == items.Count, $"{what}: {items.Count} items, torch says {arr.Count}");
                for (int i = 0; i < arr.Count; i++) AssertValue(arr[i], items[i], $"{what}[{i}]");
                return;
            case JsonObject obj:
                var dict = Assert.IsType<OrderedDictionary<string, object?>>(actual);
                Assert.Equal(obj.Select(kv => kv.Key), dict.Keys);
                foreach (var (k, v) in obj) AssertValue(v, dict[k], $"{what}.{k}");
                return;
        }
        var value = (JsonValue)expected;
        switch (value.GetValueKind())
        {
            case JsonValueKind.True or JsonValueKind.False: Assert.Equal(value.GetValue<bool>(), actual); return;
            case JsonValueKind.String:
                string s = value.GetValue<string>();
                if (actual is OpaqueObject o) Assert.True(s.Contains(o.TypeName.Split('.')[^1], StringComparison.Ordinal), $"{what}: {o.TypeName}, torch says {s}");
                else if (actual is double d) AssertClose(Number(value), d, what); // inf / nan are strings in JSON
                else Assert.Equal(s, actual);
                return;
            case JsonValueKind.Number:
                string text = value.ToJsonString();
                if (text.Contains('.') || text.Contains('e') || text.Contains('E')) AssertClose(value.GetValue<double>(), Assert.IsType<double>(actual), what);
                else if (actual is BigInteger big) Assert.Equal(BigInteger.Parse(text, CultureInfo.InvariantCulture), big);
                else Assert.Equal(long.Parse(text, CultureInfo.InvariantCulture), Assert.IsType<long>(actual));
                return;
        }
    }

    private static double[] ComplexParts(TensorEntry t)
    {
        var bytes = t.ReadBytes();
        int part = t.DType.ItemSize() / 2;
        var o = new double[bytes.Length / part];
        for (int i = 0; i < o.Length; i++)
            o[i] = part == 4 ? BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4)) : BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i * 8));
        return o;
    }

    private static long[] Longs(JsonNode? n) => [.. n!.AsArray().Select(x => x!.GetValue<long>())];

    // Answers write non-finite floats as "NaN", "Infinity", "-Infinity" and bool values as true/false.
    private static double Number(JsonNode n) => n.GetValueKind() switch
    {
        JsonValueKind.String => n.GetValue<string>() switch
        {
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var s => throw new Xunit.Sdk.XunitException($"'{s}' is not a number"),
        },
        JsonValueKind.True => 1,
        JsonValueKind.False => 0,
        _ => n.GetValue<double>(),
    };

    // Values are exact; sums differ from torch's math.fsum only by the rounding of a naive summation.
    private static void AssertClose(double expected, double actual, string what)
    {
        if (double.IsNaN(expected) || double.IsInfinity(expected)) { Assert.True(expected.Equals(actual), $"{what}: {actual}, torch says {expected}"); return; }
        Assert.True(Math.Abs(expected - actual) <= 1e-9 * Math.Max(1, Math.Abs(expected)),
            $"{what}: {actual.ToString("R", CultureInfo.InvariantCulture)}, torch says {expected.ToString("R", CultureInfo.InvariantCulture)}");
    }
}
