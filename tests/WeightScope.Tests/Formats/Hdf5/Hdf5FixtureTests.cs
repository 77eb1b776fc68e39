using System.Numerics;
using System.Text.Json;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.Hdf5;

/// <summary>
/// Files written by h5py (tests/fixtures/generate/hdf5_fixtures.py) compared with h5py's own answers in expected.json:
/// dataset paths in visititems order, dtypes (numpy's str), shapes, every value, every attribute, and every dataset that
/// is not a tensor (string datasets by value, compounds/vlen/references as a description and shape). The cycle_* files
/// hold hard links to ancestors (h5py's <c>f['a/back'] = f['/']</c>): listing terminates and visits each object once.
/// </summary>
public class Hdf5FixtureTests
{
    private static JsonElement Expected()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("hdf5", "expected.json")));
        return doc.RootElement.Clone();
    }

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var p in Expected().EnumerateObject()) data.Add(p.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Tensors_match_h5py(string file)
    {
        using var model = ModelFile.Open(TestPaths.Fixture("hdf5", file));
        AssertTensors(Expected().GetProperty(file), model);
    }

    /// <summary>The model's format, superblock version and tensors (names in order, dtypes, shapes, every value) are h5py's.</summary>
    internal static void AssertTensors(JsonElement expected, ModelFile model)
    {
        Assert.Equal("hdf5", model.Format.Name);
        Assert.Equal($"superblock v{expected.GetProperty("superblock").GetInt32()}", model.Format.Version);
        var tensors = expected.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(tensors.Select(t => t.GetProperty("name").GetString()), model.Tensors.Select(t => t.Name));
        foreach (var t in tensors)
        {
            var actual = model.Tensors[t.GetProperty("name").GetString()!];
            Assert.Equal(t.GetProperty("dtype").GetString(), NumpyStr(actual));
            Assert.Equal(t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), actual.Shape);
            var values = t.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.Equal(values, actual.ToFloat64());
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Metadata_matches_h5py(string file)
    {
        using var model = ModelFile.Open(TestPaths.Fixture("hdf5", file));
        AssertMetadata(Expected().GetProperty(file).GetProperty("attributes"), model);
    }

    /// <summary>The model's metadata has exactly h5py's keys (attributes, datasets that are not tensors, committed datatypes) and values.</summary>
    internal static void AssertMetadata(JsonElement expected, ModelFile model)
    {
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), model.Metadata.Keys.Order(StringComparer.Ordinal));
        foreach (var p in expected.EnumerateObject())
            AssertSame(p.Value, model.Metadata[p.Name], p.Name);
    }

    // h5py's value (as the generator wrote it to JSON) against the reader's: strings, numbers, bools, nested lists, and
    // for datasets that are neither numbers nor strings, the description built from h5py's dtype and h5py's shape; for a
    // committed datatype ({"datatype": …}), numpy's spelling of it.
    internal static void AssertSame(JsonElement expected, object? actual, string key)
    {
        switch (expected.ValueKind)
        {
            case JsonValueKind.String: Assert.Equal(expected.GetString(), actual); break;
            case JsonValueKind.True or JsonValueKind.False: Assert.Equal(expected.GetBoolean(), actual); break;
            case JsonValueKind.Number when actual is long l: Assert.Equal(expected.GetInt64(), l); break;
            case JsonValueKind.Number when actual is BigInteger b: Assert.Equal(BigInteger.Parse(expected.GetRawText()), b); break;
            case JsonValueKind.Number: Assert.Equal(expected.GetDouble(), Assert.IsType<double>(actual)); break;
            case JsonValueKind.Array:
                var list = Assert.IsType<List<object?>>(actual);
                var items = expected.EnumerateArray().ToList();
                Assert.Equal(items.Count, list.Count);
                for (int i = 0; i < items.Count; i++) AssertSame(items[i], list[i], key);
                break;
            case JsonValueKind.Object when expected.TryGetProperty("datatype", out var dtype):
                var named = Assert.IsType<WeightScope.Modules.OpaqueObject>(actual);
                Assert.Equal(WeightScope.Formats.Hdf5.Hdf5Reader.CommittedDatatype, named.TypeName);
                Assert.Equal(dtype.GetString(), Assert.Single(named.Arguments));
                break;
            case JsonValueKind.Object:
                var opaque = Assert.IsType<WeightScope.Modules.OpaqueObject>(actual);
                Assert.Equal(expected.GetProperty("opaque").GetString(), opaque.TypeName);
                Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(d => (object?)d.GetInt64()), Assert.IsType<object?[]>(Assert.Single(opaque.Arguments)));
                break;
            default: Assert.Fail($"{key}: unexpected JSON {expected.ValueKind}"); break;
        }
    }

    internal static string NumpyStr(TensorEntry t)
    {
        if (t.DType == DType.Bool) return "|b1";
        char kind = t.DType.IsFloatingPoint() ? 'f' : t.DType is DType.Int8 or DType.Int16 or DType.Int32 or DType.Int64 ? 'i' : 'u';
        int size = t.DType.ItemSize();
        char order = size == 1 ? '|' : t.IsBigEndian ? '>' : '<';
        return $"{order}{kind}{size}";
    }
}
