using System.Runtime.InteropServices;
using System.Text.Json;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Tensors;

/// <summary>Slicing, reshape and transpose against numpy's and torch's answers (tests/fixtures/core/indexing_cases.json).</summary>
public class IndexingTests
{
    private static readonly JsonElement Cases = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("core", "indexing_cases.json"))).RootElement;

    private static TensorEntry Arange(long[] shape)
    {
        var s = new Shape(shape);
        var values = Enumerable.Range(0, (int)s.ElementCount).Select(i => (float)i).ToArray();
        return new TensorEntry("a", DType.Float32, s, new ArrayStorage(MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), "a"));
    }

    private static long[] Longs(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt64()).ToArray();
    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();

    public static TheoryData<string, string> IndexCases()
    {
        var d = new TheoryData<string, string>();
        foreach (var c in Cases.GetProperty("index").EnumerateArray())
            d.Add(string.Join(",", Longs(c.GetProperty("shape"))), c.GetProperty("index").GetString()!);
        return d;
    }

    [Theory]
    [MemberData(nameof(IndexCases))]
    public void Slice_matches_numpy(string shape, string index)
    {
        var c = Cases.GetProperty("index").EnumerateArray()
            .First(x => string.Join(",", Longs(x.GetProperty("shape"))) == shape && x.GetProperty("index").GetString() == index);
        var view = Arange(Longs(c.GetProperty("shape"))).Slice(index);
        Assert.Equal(Longs(c.GetProperty("result_shape")), view.Shape.ToArray());
        Assert.Equal(Floats(c.GetProperty("values")), view.ToArray<float>());
    }

    [Fact]
    public void Reshape_matches_numpy_and_torch()
    {
        foreach (var c in Cases.GetProperty("reshape").EnumerateArray())
        {
            var t = Arange(Longs(c.GetProperty("shape")));
            if (c.TryGetProperty("transpose_first", out var tf) && tf.ValueKind == JsonValueKind.Array)
                t = t.Transpose((int)tf[0].GetInt64(), (int)tf[1].GetInt64());
            var r = t.Reshape(Longs(c.GetProperty("new_shape")));
            Assert.Equal(Longs(c.GetProperty("result_shape")), r.Shape.ToArray());
            Assert.Equal(Floats(c.GetProperty("values")), r.ToArray<float>());
        }
    }

    [Fact]
    public void Transpose_matches_torch_shape_stride_and_values()
    {
        foreach (var c in Cases.GetProperty("transpose").EnumerateArray())
        {
            var dims = Longs(c.GetProperty("dims"));
            var r = Arange(Longs(c.GetProperty("shape"))).Transpose((int)dims[0], (int)dims[1]);
            Assert.Equal(Longs(c.GetProperty("result_shape")), r.Shape.ToArray());
            Assert.Equal(Longs(c.GetProperty("result_stride")), r.Strides.ToArray());
            Assert.False(r.IsContiguous);
            Assert.Equal(Floats(c.GetProperty("values")), r.ToArray<float>());
        }
    }

    [Theory]
    [InlineData("[0,0,0,0,0]")] // more indices than dimensions
    [InlineData("[2]")]         // out of range for a dimension of 2
    [InlineData("[-3]")]
    public void Bad_indices_are_reported(string index) =>
        Assert.Throws<IndexOutOfRangeException>(() => Arange([2, 3, 4, 5]).Slice(index));

    [Theory]
    [InlineData("[a]")]
    [InlineData("[0")]
    [InlineData("[::-1]")]      // torch has no negative steps
    [InlineData("[...,...]")]
    public void Malformed_indices_are_format_errors(string index) =>
        Assert.Throws<FormatException>(() => Arange([2, 3]).Slice(index));

    [Fact]
    public void Reshape_rejects_wrong_sizes()
    {
        Assert.Throws<ArgumentException>(() => Arange([2, 3]).Reshape(4, -1));
        Assert.Throws<ArgumentException>(() => Arange([2, 3]).Reshape(-1, -1));
        Assert.Throws<ArgumentException>(() => Arange([2, 3]).Reshape(7));
    }

    [Fact]
    public void Views_share_the_storage_and_zero_copy_spans_need_contiguity()
    {
        var a = Arange([4, 7]);
        var row = a.Slice("[2]");
        Assert.Same(a.Storage, row.Storage);
        Assert.Equal(14, row.StorageOffset);
        Assert.True(row.TryGetSpan<float>(out var span));
        Assert.Equal(14f, span[0]);
        Assert.False(a.Slice("[:, 1]").TryGetSpan<float>(out _));
    }
}
