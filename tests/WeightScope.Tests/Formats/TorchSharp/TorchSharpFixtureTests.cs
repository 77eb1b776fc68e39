using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.TorchSharp;

/// <summary>
/// tests/fixtures/torchsharp: tensors made by torch 1.13 and written in TorchSharp's Module.save / Tensor.Save byte
/// layout by tests/fixtures/generate/torchsharp_fixtures.py; expected.json is torch's own values for each.
/// </summary>
public sealed class TorchSharpFixtureTests
{
    private static readonly string Dir = TestPaths.Fixture("torchsharp");

    private static JsonElement Expected(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir, "expected.json")));
        return doc.RootElement.GetProperty(file).Clone();
    }

    private static double Number(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? e.GetString() switch { "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity, _ => double.NaN }
        : e.GetDouble();

    [Fact]
    public void State_dict_entries_equal_torch_values_in_file_order()
    {
        using var m = ModelFile.Open(Path.Combine(Dir, "state_dict.dat"));
        Assert.Equal("torchsharp", m.Format.Name);
        Assert.Equal("state_dict", m.Format.Version);
        var expected = Expected("state_dict.dat");
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name), m.Tensors.Select(t => t.Name));
        foreach (var p in expected.EnumerateObject())
        {
            var t = m.Tensors[p.Name];
            Assert.Equal(p.Value.GetProperty("dtype").GetString(), t.DType.Name());
            Assert.Equal(p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), t.Shape.AsSpan().ToArray());
            var values = p.Value.GetProperty("values");
            if (t.DType == DType.Complex64)
                Assert.Equal(values.EnumerateArray().SelectMany(v => v.EnumerateArray().Select(x => (float)Number(x))), MemoryMarshal.Cast<byte, float>(t.ReadBytes()).ToArray());
            else if (t.DType == DType.Complex128)
                Assert.Equal(values.EnumerateArray().Select(v => new Complex(Number(v[0]), Number(v[1]))), t.ToArray<Complex>());
            else if (t.DType == DType.Bool)
                Assert.Equal(values.EnumerateArray().Select(v => v.GetBoolean()), t.ToArray<bool>());
            else
                Assert.Equal(values.EnumerateArray().Select(Number), t.ToFloat64());
            Assert.Equal(TensorRole.Other, t.Role);
        }
    }

    [Fact]
    public void Module_tree_comes_from_the_dotted_names()
    {
        using var m = ModelFile.Open(Path.Combine(Dir, "state_dict.dat"));
        Assert.False(m.HasModuleTypes);
        Assert.Equal(["0", "1", "extra"], m.Modules.Children.Select(c => c.Name));
        Assert.Equal(1L, m.Tensors["1.num_batches_tracked"].ToArray<long>()[0]); // one training step
    }

    [Fact]
    public void Single_tensor_file_is_one_unnamed_tensor()
    {
        using var m = ModelFile.Open(Path.Combine(Dir, "tensor.dat"));
        Assert.Equal("tensor", m.Format.Version);
        var t = Assert.Single(m.Tensors);
        Assert.Equal("", t.Name);
        var expected = Expected("tensor.dat");
        Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), t.Shape.AsSpan().ToArray());
        Assert.Equal(expected.GetProperty("values").EnumerateArray().Select(Number), t.ToFloat64());
        Assert.True(t.TryGetSpan<double>(out _)); // zero-copy
    }
}
