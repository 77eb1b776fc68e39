using System.Text.Json;
using WeightScope.Analysis;
using WeightScope.Export;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Tensors;

/// <summary>
/// A bool tensor whose stored bytes are not all 0 and 1 (<c>analysis/bool_nonbinary.npy</c> and <c>.pt</c>: a uint8
/// buffer viewed as bool, bytes 0, 1, 2, 7, 100, 128, 255) reads as numpy and torch read it — every non-zero byte is
/// True — on every path: values, float conversion, statistics (<see cref="Analysis.StatsTests"/> covers those with
/// numpy's figures), histograms, diffs, export and writing. The answers are numpy's and torch's
/// (<c>tests/fixtures/generate/stats_answers.py</c>).
/// </summary>
public sealed class BoolBytesTests
{
    private static readonly JsonElement Answers =
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("analysis", "bool_nonbinary_expected.json"))).RootElement;

    public static TheoryData<string> Files() => new() { "bool_nonbinary.npy", "bool_nonbinary.pt" };

    private static ModelFile Open(string file) => ModelFile.Open(TestPaths.Fixture("analysis", file));

    private static T[] Expected<T>(string key) => Answers.GetProperty(key).EnumerateArray().Select(e => e.Deserialize<T>()!).ToArray();

    [Theory]
    [MemberData(nameof(Files))]
    public void The_fixture_really_stores_other_bytes(string file)
    {
        // Guards the test itself: if the generator ever wrote canonical bytes, every other test here would pass vacuously.
        using var m = Open(file);
        var t = m.Tensors.Single();
        var stored = new byte[t.ByteSize];
        t.Storage.Read(t.StorageOffset, stored);
        Assert.Equal(Expected<int>("stored_bytes"), stored.Select(b => (int)b).ToArray());
        Assert.Contains(stored, b => b > 1);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Values_are_numpys_tolist(string file)
    {
        using var m = Open(file);
        var t = m.Tensors.Single();
        var values = t.ToArray<bool>();
        Assert.Equal(Expected<bool>("numpy_tolist"), values);
        // .NET compares bools by their byte: a stored 100 handed out as is would be unequal to true.
        Assert.All(values.Where(v => v), v => Assert.True(v == true));
        Assert.All(t.ReadBytes(), b => Assert.InRange(b, (byte)0, (byte)1));
        Assert.False(t.TryGetSpan<bool>(out _)); // zero-copy would expose the stored bytes: refused, so callers copy
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Float_values_are_astype_float32_and_torch_float(string file)
    {
        using var m = Open(file);
        var t = m.Tensors.Single();
        Assert.Equal(Expected<float>("numpy_as_float32"), t.ToFloat32());
        Assert.Equal(Expected<float>("torch_float"), t.ToFloat32());
        Assert.Equal(Expected<float>("numpy_as_float32").Select(v => (double)v), t.ToFloat64());
        Assert.Equal(Answers.GetProperty("torch_sum").GetInt32(), (int)t.ToFloat64().Sum());
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Histogram_is_numpys(string file)
    {
        using var m = Open(file);
        var h = Histogram.Compute(m.Tensors.Single(), 4);
        var expected = Answers.GetProperty("histogram_bins4");
        Assert.Equal(expected.GetProperty("counts").EnumerateArray().Select(e => e.GetInt64()), h.Counts);
        Assert.Equal(expected.GetProperty("edges").EnumerateArray().Select(e => e.GetDouble()), h.Edges);
    }

    [Fact]
    public void Diff_against_the_canonical_mask_is_equal_as_numpy_array_equal_says()
    {
        Assert.True(Answers.GetProperty("numpy_equal_to_canonical").GetBoolean());
        using var m = Open("bool_nonbinary.npy");
        var t = m.Tensors.Single();
        var canonical = new TensorEntry("canonical", DType.Bool, t.Shape, new ArrayStorage(t.ReadBytes(), "canonical"));
        var c = Diff.ComparePair(t, canonical);
        Assert.True(c.Equal, $"max |Δ| {c.MaxAbsDiff}");
        Assert.Equal(0, c.MaxAbsDiff);
    }

    [Fact]
    public void Export_writes_ones_not_the_stored_bytes()
    {
        using var m = Open("bool_nonbinary.npy");
        var e = ExportTensor.Create(m.Tensors.Single());
        Assert.Equal(Expected<float>("numpy_as_float32").Select(v => (double)v), e.Values);
    }

    [Theory]
    [InlineData("out.npy")]
    [InlineData("out.safetensors")]
    [InlineData("out.pt")]
    [InlineData("out.h5")]
    public void Writers_store_zero_and_one(string name)
    {
        using var m = Open("bool_nonbinary.pt");
        string dir = Directory.CreateTempSubdirectory("ws-bool-").FullName;
        try
        {
            string path = Path.Combine(dir, name);
            ModelFile.Save(m.Tensors, path);
            using var back = ModelFile.Open(path);
            var t = back.Tensors.Single();
            var stored = new byte[t.ByteSize];
            t.Storage.Read(t.StorageOffset, stored);
            Assert.Equal(Expected<bool>("numpy_tolist").Select(v => v ? (byte)1 : (byte)0), stored);
        }
        finally { Directory.Delete(dir, true); }
    }
}
