using System.Text.Json;
using WeightScope.Modules;
using WeightScope.Printing;
using Xunit;

namespace WeightScope.Tests.Modules;

/// <summary>
/// <c>for layer in model.modules(): [if isinstance(layer, T):] print(layer)</c> against torch's own output
/// (tests/fixtures/printing/module_loops.json, written by generate/module_loop_fixtures.py).
/// </summary>
public sealed class ModuleLoopTests
{
    private static readonly JsonElement Cases = LoadCases();

    private static JsonElement LoadCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("printing", "module_loops.json")));
        return doc.RootElement.GetProperty("cases").Clone();
    }

    public static TheoryData<string> CaseNames() => [.. Cases.EnumerateArray().Select(c => c.GetProperty("case").GetString()!)];

    private static JsonElement Case(string name) => Cases.EnumerateArray().Single(c => c.GetProperty("case").GetString() == name);

    private static ModelFile Open(JsonElement c) => ModelFile.Open(TestPaths.Fixture("printing", c.GetProperty("file").GetString()!));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Print_model_matches_torch_shared_modules_at_each_place(string name)
    {
        var c = Case(name);
        using var m = Open(c);
        if (c.GetProperty("blocks")[0].GetProperty("inherits_user_repr").GetBoolean()) return; // see the script's docstring
        Assert.Equal(c.GetProperty("print_model").GetString(), TreePrinter.Format(m.Modules) + "\n");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Modules_come_in_model_modules_order_each_once_and_print_as_torch(string name)
    {
        var c = Case(name);
        using var m = Open(c);
        var nodes = m.Modules.Descendants().Where(n => n.Type is not null).ToList();
        var blocks = c.GetProperty("blocks").EnumerateArray().ToList();
        Assert.Equal(c.GetProperty("module_count").GetInt32(), nodes.Count);
        Assert.Equal(blocks.Select(b => b.GetProperty("path").GetString()), nodes.Select(n => n.Path));
        Assert.Equal(blocks.Select(b => b.GetProperty("type").GetString()), nodes.Select(n => n.Type));
        int compared = 0;
        foreach (var (b, n) in blocks.Zip(nodes))
        {
            if (b.GetProperty("inherits_user_repr").GetBoolean()) continue;
            Assert.Equal(b.GetProperty("text").GetString(), TreePrinter.Format(n));
            compared++;
        }
        Assert.True(compared > 0);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Type_filters_keep_the_modules_isinstance_keeps(string name)
    {
        var c = Case(name);
        using var m = Open(c);
        foreach (var f in c.GetProperty("filters").EnumerateArray())
        {
            string type = f.GetProperty("type").GetString()!;
            var got = ModuleTypeName.Select(m.Modules, type).Select(n => n.Path).ToList();
            Assert.True(f.GetProperty("blocks").EnumerateArray().Select(b => b.GetProperty("path").GetString()).SequenceEqual(got),
                $"{name} --type {type}: got {string.Join(", ", got)}");
        }
    }

    [Fact]
    public void A_users_subclass_matches_its_own_name_only_and_the_difference_is_recorded()
    {
        var c = Case("custom");
        var linear = c.GetProperty("filters").EnumerateArray().Single(f => f.GetProperty("type").GetString() == "nn.Linear");
        // torch's isinstance also holds for __main__.MyLinear; the file does not say so, and WeightScope does not guess.
        Assert.Equal("__main__.MyLinear", linear.GetProperty("isinstance_only")[0].GetString());
        using var m = Open(c);
        Assert.DoesNotContain("proj", ModuleTypeName.Select(m.Modules, "nn.Linear").Select(n => n.Path));
        Assert.Equal(["proj"], ModuleTypeName.Select(m.Modules, "MyLinear").Select(n => n.Path));
        // NonDynamicallyQuantizableLinear is torch's own subclass of Linear: it counts.
        Assert.Contains("attn.out_proj", ModuleTypeName.Select(m.Modules, "torch.nn.modules.linear.Linear").Select(n => n.Path));
    }

    [Fact]
    public void An_unknown_type_is_an_error_listing_the_types_present_with_counts()
    {
        var c = Case("nested_sequential");
        using var m = Open(c);
        var e = Assert.Throws<ArgumentException>(() => ModuleTypeName.Select(m.Modules, "Conv2d"));
        string present = string.Join(", ", c.GetProperty("type_counts").EnumerateObject().Select(p => $"{p.Name} ({p.Value.GetInt32()})"));
        Assert.Equal($"no module in this file is a 'Conv2d'; the types present are: {present}", e.Message);
        Assert.Throws<ArgumentException>(() => ModuleTypeName.Select(m.Modules, "keras.layers.Linear"));
        Assert.Throws<ArgumentException>(() => ModuleTypeName.Select(m.Modules, "torchvision.ops.misc.Conv2dNormActivation"));
        Assert.Throws<ArgumentException>(() => ModuleTypeName.Select(m.Modules, "nn..Linear"));
    }

    [Theory]
    [InlineData("Dense")]
    [InlineData("keras.layers.Dense")]
    [InlineData("tf.keras.layers.Dense")]
    public void Keras_layer_names_as_Python_writes_them(string type)
    {
        using var m = ModelFile.Open(TestPaths.Fixture("keras", "nested_full_model.h5"));
        var dense = m.Modules.Descendants().Where(n => n.Type == "Dense").Select(n => n.Path).ToList();
        Assert.NotEmpty(dense);
        Assert.Equal(dense, ModuleTypeName.Select(m.Modules, type).Select(n => n.Path));
        Assert.Throws<ArgumentException>(() => ModuleTypeName.Select(m.Modules, "nn.Dense"));
    }
}
