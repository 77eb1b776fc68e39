using System.Runtime.InteropServices;
using System.Text.Json;
using WeightScope.Analysis;
using WeightScope.Output;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Output;

/// <summary>
/// The parameters <see cref="ModelJson"/> takes for the viewer (indexes, diff pair numbers, a diff filter): absent, the
/// CLI's shapes are unchanged (the CLI tests compare those); present, the added keys hold the right values.
/// </summary>
public sealed class ModelJsonTests
{
    private static readonly string[] ListKeys = ["name", "dtype", "shape", "role", "params", "bytes"];

    private static TensorEntry Tensor(string name, params float[] values) =>
        new(name, DType.Float32, new Shape(values.Length), new ArrayStorage(MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), name));

    // Two tensors, "fc.weight" then "fc.bias"; weightScale changes fc.weight only.
    private static ModelFile Model(string path, float weightScale = 1) =>
        new(new ModelFormatInfo("safetensors"), new TensorCollection([Tensor("fc.weight", 1 * weightScale, 2 * weightScale, 3 * weightScale), Tensor("fc.bias", 0.5f)]))
        { Path = path };

    private static JsonElement Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream)) body(w);
        return JsonDocument.Parse(stream.ToArray()).RootElement.Clone();
    }

    private static int IndexOf(ModelFile model, string name) => model.Tensors.Select((t, i) => (t, i)).Single(x => x.t.Name == name).i;

    [Fact]
    public void List_without_indexOf_writes_the_cli_keys_only()
    {
        using var model = Model("/tmp/a.safetensors");
        var json = Write(w => ModelJson.TensorList(w, model, model.Tensors, model.Tensors.Totals));
        Assert.Equal(["file", "format", "tensors", "totals"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("/tmp/a.safetensors", json.GetProperty("file").GetString());
        foreach (var t in json.GetProperty("tensors").EnumerateArray())
            Assert.Equal(ListKeys, t.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void List_with_indexOf_puts_each_tensors_file_index_first_also_for_a_selection()
    {
        using var model = Model("/tmp/a.safetensors");
        var all = Write(w => ModelJson.TensorList(w, model, model.Tensors, model.Tensors.Totals, t => IndexOf(model, t.Name)));
        var tensors = all.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(["fc.weight", "fc.bias"], tensors.Select(t => t.GetProperty("name").GetString()));
        Assert.Equal([0, 1], tensors.Select(t => t.GetProperty("index").GetInt32()));
        Assert.All(tensors, t => Assert.Equal(["index", .. ListKeys], t.EnumerateObject().Select(p => p.Name)));

        // the index is the position in the file, not in the list written
        TensorEntry[] bias = [model.Tensors["fc.bias"]];
        var selected = Write(w => ModelJson.TensorList(w, model, bias, new TensorCollection(bias).Totals, t => IndexOf(model, t.Name)));
        Assert.Equal(1, selected.GetProperty("tensors")[0].GetProperty("index").GetInt32());
        Assert.Equal(1, selected.GetProperty("totals").GetProperty("tensors").GetInt32());
    }

    [Fact]
    public void Tree_adds_an_index_only_where_indexOf_finds_the_tensor()
    {
        using var model = Model("/tmp/a.safetensors");
        JsonElement Fc(JsonElement root) => root.GetProperty("children").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "fc");

        var plain = Fc(Write(w => ModelJson.Tree(w, model.Modules)));
        Assert.All(plain.GetProperty("parameters").EnumerateArray(), p => Assert.False(p.TryGetProperty("index", out _)));

        // fc.bias answers -1: not in the file's collection, so no index
        var indexed = Fc(Write(w => ModelJson.Tree(w, model.Modules, null, t => t.Name == "fc.weight" ? 0 : -1)));
        var parameters = indexed.GetProperty("parameters").EnumerateArray().ToDictionary(p => p.GetProperty("tensor").GetString()!);
        Assert.Equal(0, parameters["fc.weight"].GetProperty("index").GetInt32());
        Assert.False(parameters["fc.bias"].TryGetProperty("index", out _));
    }

    [Fact]
    public void Tree_depth_zero_writes_no_children()
    {
        using var model = Model("/tmp/a.safetensors");
        var root = Write(w => ModelJson.Tree(w, model.Modules, 0));
        Assert.Equal(0, root.GetProperty("children").GetArrayLength());
        Assert.NotEmpty(model.Modules.Children);
    }

    [Fact]
    public void Diff_filter_keeps_the_summary_whole_and_pair_numbers_are_positions_in_all_pairs()
    {
        using var a = Model("/tmp/a.safetensors");
        using var b = Model("/tmp/b.safetensors", weightScale: 2);
        var options = new DiffOptions { Atol = 1e-6 };
        var r = Diff.Compare(a, b, options);
        int weightPair = r.Pairs.ToList().FindIndex(c => c.NameA == "fc.weight");

        var all = Write(w => ModelJson.Diff(w, a, b, r, options));
        Assert.Equal(2, all.GetProperty("tensors").GetArrayLength());
        Assert.All(all.GetProperty("tensors").EnumerateArray(), t => Assert.Equal("name_a", t.EnumerateObject().First().Name));
        Assert.Equal(1e-6, all.GetProperty("atol").GetDouble());

        var different = Write(w => ModelJson.Diff(w, a, b, r, options, c => !c.Equal, IndexOf));
        var only = Assert.Single(different.GetProperty("tensors").EnumerateArray().ToList());
        Assert.Equal(["pair", "index_a", "index_b", "name_a"], only.EnumerateObject().Take(4).Select(p => p.Name));
        Assert.Equal("fc.weight", only.GetProperty("name_a").GetString());
        Assert.Equal(weightPair, only.GetProperty("pair").GetInt32());
        Assert.Equal(0, only.GetProperty("index_a").GetInt32());
        Assert.Equal(0, only.GetProperty("index_b").GetInt32());
        Assert.Equal(2, different.GetProperty("summary").GetProperty("compared").GetInt32());
        Assert.Equal(1, different.GetProperty("summary").GetProperty("different").GetInt32());
    }

    [Fact]
    public void Numbers_writes_non_finite_values_as_strings()
    {
        var json = Write(w =>
        {
            w.WriteStartObject();
            ModelJson.Numbers(w, "v", [1.5, double.NaN, double.PositiveInfinity, double.NegativeInfinity]);
            ModelJson.Number(w, "none", null);
            w.WriteEndObject();
        });
        var v = json.GetProperty("v").EnumerateArray().ToList();
        Assert.Equal(1.5, v[0].GetDouble());
        Assert.Equal(["NaN", "Infinity", "-Infinity"], v.Skip(1).Select(e => e.GetString()));
        Assert.Equal(JsonValueKind.Null, json.GetProperty("none").ValueKind);
    }
}
