using Xunit;
using WeightScope.Modules;
using WeightScope.Printing;
using WeightScope.Tensors;

namespace WeightScope.Tests.Printing;

/// <summary>TreePrinter against torch 1.13's str(model) for torch.nn and torchvision modules (module_prints.json).</summary>
public class TreePrinterTests
{
    public static TheoryData<string> Cases => PrintingFixtures.ModuleCaseIds();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Prints_like_torch(string id)
    {
        var (root, expected) = PrintingFixtures.ModuleCase(id);
        Assert.Equal(expected, TreePrinter.Format(root));
    }

    [Fact]
    public void A_module_missing_an_attribute_its_extra_repr_reads_prints_without_extra_repr()
    {
        var (root, _) = PrintingFixtures.ModuleCase("conv2d");
        root.Attributes.Remove("kernel_size");
        Assert.Equal("Conv2d()", TreePrinter.Format(root));
    }

    [Fact]
    public void Name_tree_shows_types_counts_and_tensors()
    {
        var tensors = new[]
        {
            Zeros("fc1.weight", TensorRole.Parameter, 5, 10), Zeros("fc1.bias", TensorRole.Parameter, 5),
            Zeros("bn.running_mean", TensorRole.Buffer, 5), Zeros("fc2.weight", TensorRole.Parameter, 2, 5),
        };
        var root = ModuleTreeBuilder.FromNames(tensors);
        Assert.Equal(
            "model  (70 params)\n" +
            "├─ fc1  (55 params)\n" +
            "│  ├─ weight  float32[5, 10]\n" +
            "│  └─ bias    float32[5]\n" +
            "├─ bn  (5 params)\n" +
            "│  └─ running_mean  float32[5]  (buffer)\n" +
            "└─ fc2  (10 params)\n" +
            "   └─ weight  float32[2, 5]",
            TreePrinter.FormatNameTree(root));
        Assert.Equal(
            "model  (70 params)\n" +
            "├─ fc1  (55 params)\n" +
            "├─ bn  (5 params)\n" +
            "└─ fc2  (10 params)",
            TreePrinter.FormatNameTree(root, depth: 1));
    }

    [Fact]
    public void Name_tree_of_a_recorded_architecture_names_types_and_hidden_children()
    {
        var (root, _) = PrintingFixtures.ModuleCase("sequential");
        string text = TreePrinter.FormatNameTree(root, depth: 1);
        Assert.StartsWith("Sequential  (58 params)\n├─ 0  Linear  (40 params)\n├─ 1  ReLU  (0 params)", text);
        var (nested, _) = PrintingFixtures.ModuleCase("nested");
        Assert.Contains("(2 params; 1 child not shown)", TreePrinter.FormatNameTree(nested, depth: 1));
    }

    private static TensorEntry Zeros(string name, TensorRole role, params long[] shape)
    {
        var s = new Shape(shape);
        return new TensorEntry(name, DType.Float32, s, new ArrayStorage(new byte[s.ElementCount * 4], name), role: role);
    }
}
