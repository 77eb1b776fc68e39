using System.Text.Json;
using WeightScope.Printing;
using Xunit;

namespace WeightScope.Tests.Tensors;

/// <summary>Slices and transposes of quantized tensors keep the right per-channel scales (torch's answers: quantized_views.json).</summary>
public class QuantizedViewTests
{
    public static TheoryData<int> Cases()
    {
        var d = new TheoryData<int>();
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("pytorch", "quantized_views.json")));
        for (int i = 0; i < doc.RootElement.GetProperty("cases").GetArrayLength(); i++) d.Add(i);
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void View_values_and_print_match_torch(int i)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("pytorch", "quantized_views.json")));
        var c = doc.RootElement.GetProperty("cases")[i];
        using var m = ModelFile.Open(TestPaths.Fixture("pytorch", "quantized.pt"));
        var t = m.Tensors[c.GetProperty("name").GetString()!];
        var v = c.GetProperty("transpose").GetBoolean() ? t.Transpose() : t.Slice(c.GetProperty("index").GetString()!);
        Assert.Equal(c.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()), v.Shape);
        Assert.Equal(c.GetProperty("values").EnumerateArray().Select(x => (float)x.GetDouble()), v.ToFloat32());
        Assert.Equal(c.GetProperty("text").GetString(), TensorFormatter.Format(v));
    }

    [Fact]
    public void Integer_index_on_the_channel_axis_gives_a_per_tensor_view()
    {
        // torch 1.13 cannot dequantize this view ("Channel axis out of range"); WeightScope keeps that channel's
        // scale and zero point, so the values equal the matching row of the whole tensor's dequantized values.
        using var m = ModelFile.Open(TestPaths.Fixture("pytorch", "quantized.pt"));
        var t = m.Tensors["per_channel_axis0"]; // [3, 4], axis 0
        var row = t.Slice("[2]");
        Assert.Equal(WeightScope.Tensors.QuantizationScheme.PerTensorAffine, row.Quantization!.Scheme);
        Assert.Equal(t.ToFloat32()[8..12], row.ToFloat32());
    }

    [Fact]
    public void Reshape_that_would_split_channels_is_refused()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("pytorch", "quantized.pt"));
        var t = m.Tensors["per_channel_axis0"]; // [3, 4], axis 0
        Assert.Equal(0, t.Reshape(3, 2, 2).Quantization!.Axis);
        Assert.Throws<NotSupportedException>(() => t.Reshape(-1));
    }
}
