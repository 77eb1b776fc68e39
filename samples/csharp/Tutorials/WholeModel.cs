using TorchSharp.Modules;
using WeightScope.Modules;
using WeightScope.Printing;
using WeightScope.TorchSharp;

namespace Tutorials;

/// <summary>
/// Third tutorial: a whole model saved with <c>torch.save(model)</c> (a pickled PolynomialRegression, read without
/// running it) loaded into the same network in TorchSharp; <c>model.modules()</c> filtered with
/// <c>isinstance(m, nn.Linear)</c>; each Linear and its weight printed as torch prints them.
/// </summary>
internal static class WholeModel
{
    public static int Run(string fixtures)
    {
        string path = Path.Combine(fixtures, "polynomial_regression.pt");
        #region readme
        var model = new PolynomialRegression();
        model.LoadWeights(path);                                      // the pickled module's tensors, by name
        using var live = model.AsModelFile();                         // its module tree: torch's type names and repr attributes
        foreach (var (name, module) in model.named_modules())          // for m in model.modules():
        {
            if (module is not Linear) continue;                        //     if isinstance(m, nn.Linear):
            ModuleNode node = live.Modules.Descendants().First(n => n.Path == name);
            Console.WriteLine(TreePrinter.Format(node));               //         print(m)
            Console.WriteLine(TensorFormatter.FormatParameter(node.Parameters["weight"]!));   // print(m.weight)
        }
        #endregion
        return 0;
    }
}
