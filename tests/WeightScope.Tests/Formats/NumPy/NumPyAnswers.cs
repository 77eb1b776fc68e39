using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.NumPy;

/// <summary>
/// numpy's own answers (written by tests/fixtures/generate/numpy_fixtures.py with np.load) and the checks that compare
/// an opened <see cref="ModelFile"/> against them: names in order, dtypes, shapes, strides, byte order and values.
/// </summary>
internal static class NumPyAnswers
{
    public static JsonElement Load(string fileName)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("numpy", fileName)));
        return doc.RootElement.GetProperty("files").Clone();
    }

    public static TheoryData<string> Names(string fileName)
    {
        var data = new TheoryData<string>();
        foreach (var p in Load(fileName).EnumerateObject()) data.Add(p.Name);
        return data;
    }

    /// <summary>Opens <paramref name="path"/> and checks it against numpy's answer <paramref name="expected"/>.</summary>
    public static void Check(string path, JsonElement expected)
    {
        string kind = expected.GetProperty("kind").GetString()!;
        if (kind == "npy" && expected.TryGetProperty("unsupported", out var feature))
        {
            var e = Assert.Throws<UnsupportedModelFeatureException>(() => ModelFile.Open(path));
            Assert.Equal("npy", e.Format);
            Assert.Contains(feature.GetString()!, e.Feature);
            Assert.NotNull(e.Offset);
            Assert.Equal(path, e.FilePath);
            return;
        }

        using var model = ModelFile.Open(path);
        Assert.Equal(kind, model.Format.Name);
        var arrays = expected.GetProperty("arrays").EnumerateObject().ToList();
        Assert.Equal(arrays.Select(a => a.Name), model.Tensors.Select(t => t.Name));
        if (kind == "npy")
        {
            Assert.Equal(expected.GetProperty("version").GetString(), model.Format.Version);
        }
        else
        {
            // Every key np.load lists is either a tensor or a note saying why it is not one.
            var unsupported = expected.GetProperty("unsupported").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            var keys = expected.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!).ToList();
            Assert.Equal(keys.Where(k => !unsupported.ContainsKey(k)), model.Tensors.Select(t => t.Name));
            foreach (var (key, word) in unsupported)
                Assert.Contains(word, Assert.IsType<string>(model.Metadata["unsupported:" + key]));
            Assert.Equal(unsupported.Count, model.Metadata.Keys.Count(k => k.StartsWith("unsupported:", StringComparison.Ordinal)));
            var versions = arrays.Select(a => a.Value.GetProperty("version").GetString()!).Distinct().Order(StringComparer.Ordinal).ToList();
            Assert.Equal(versions.Count == 0 ? null : string.Join(", ", versions), model.Format.Version);
        }
        foreach (var a in arrays) CheckTensor(model.Tensors[a.Name], a.Value);
    }

    public static void CheckTensor(TensorEntry t, JsonElement e)
    {
        Assert.Equal(e.GetProperty("dtype").GetString(), t.DType.Name());
        Assert.Equal(e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), t.Shape);
        Assert.Equal(e.GetProperty("strides").EnumerateArray().Select(d => d.GetInt64()), t.Strides);
        string descr = e.GetProperty("descr").GetString()!;
        Assert.Equal(descr[0] == '>' && t.DType.ItemSize() > 1, t.IsBigEndian);
        if (e.GetProperty("fortran").GetBoolean()) Assert.False(t.IsContiguous);

        if (e.TryGetProperty("values", out var values))
        {
            var expected = values.EnumerateArray().ToList();
            Assert.Equal(expected.Count, t.ElementCount);
            CheckNatural(t, expected);
            if (!t.DType.IsComplex()) Assert.Equal(expected.Select(ToDouble), t.ToFloat64());
        }
        else
        {
            var first = e.GetProperty("first").EnumerateArray().Select(ToDouble).ToList();
            var all = t.ToFloat64();
            Assert.Equal(first, all.Take(first.Count));
            double sum = Number(e.GetProperty("sum"));
            Assert.Equal(sum, all.Sum(), Math.Abs(sum) * 1e-9 + 1e-9); // numpy sums pairwise; the order of additions differs
        }
    }

    // ToArray<T> in the element's own .NET type, compared with numpy's tolist() values.
    private static void CheckNatural(TensorEntry t, List<JsonElement> v)
    {
        switch (t.DType)
        {
            case DType.Bool: Assert.Equal(v.Select(x => x.GetBoolean()), t.ToArray<bool>()); break;
            case DType.Int8: Assert.Equal(v.Select(x => x.GetSByte()), t.ToArray<sbyte>()); break;
            case DType.Int16: Assert.Equal(v.Select(x => x.GetInt16()), t.ToArray<short>()); break;
            case DType.Int32: Assert.Equal(v.Select(x => x.GetInt32()), t.ToArray<int>()); break;
            case DType.Int64: Assert.Equal(v.Select(x => x.GetInt64()), t.ToArray<long>()); break;
            case DType.UInt8: Assert.Equal(v.Select(x => x.GetByte()), t.ToArray<byte>()); break;
            case DType.UInt16: Assert.Equal(v.Select(x => x.GetUInt16()), t.ToArray<ushort>()); break;
            case DType.UInt32: Assert.Equal(v.Select(x => x.GetUInt32()), t.ToArray<uint>()); break;
            case DType.UInt64: Assert.Equal(v.Select(x => x.GetUInt64()), t.ToArray<ulong>()); break;
            case DType.Float16: Assert.Equal(v.Select(Number), t.ToArray<Half>().Select(h => (double)h)); break;
            case DType.Float32: Assert.Equal(v.Select(Number), t.ToArray<float>().Select(f => (double)f)); break;
            case DType.Float64: Assert.Equal(v.Select(Number), t.ToArray<double>()); break;
            case DType.Complex64:
                {
                    // complex64 has no .NET type: read its raw 8-byte elements and view them as (re, im) float pairs.
                    var parts = MemoryMarshal.Cast<ulong, float>(t.ToArray<ulong>().AsSpan()).ToArray();
                    Assert.Equal(v.SelectMany(c => c.EnumerateArray().Select(Number)), parts.Select(f => (double)f));
                    break;
                }
            case DType.Complex128:
                Assert.Equal(v.Select(c => new Complex(Number(c[0]), Number(c[1]))), t.ToArray<Complex>());
                break;
            default: Assert.Fail($"no check for {t.DType}"); break;
        }
    }

    private static double ToDouble(JsonElement x) => x.ValueKind switch
    {
        JsonValueKind.True => 1,
        JsonValueKind.False => 0,
        JsonValueKind.Number when x.TryGetInt64(out long l) => l,
        JsonValueKind.Number when x.TryGetUInt64(out ulong u) => u,
        _ => Number(x),
    };

    // JSON has no NaN or infinity: the generator writes them as strings.
    public static double Number(JsonElement x) => x.ValueKind == JsonValueKind.String
        ? x.GetString() switch { "nan" => double.NaN, "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity, var s => throw new FormatException(s) }
        : x.GetDouble();
}
