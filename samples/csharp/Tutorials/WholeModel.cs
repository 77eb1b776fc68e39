using TorchSharp.Modules;
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
        using var weights = model.AsModelFile();
        foreach (var (name, module) in model.named_modules())          // for m in model.modules():
        {
            if (module is not Linear linear) continue;                 //     if isinstance(m, nn.Linear):
            Console.WriteLine($"Linear(in_features={linear.in_features}, out_features={linear.out_features}, bias={(linear.bias is null ? "False" : "True")})");
            Console.WriteLine(TensorFormatter.FormatParameter(weights.Tensors[$"{name}.weight"]));   // print(m.weight)
        }
        #endregion
        return 0;
    }
}
