// Prints one layer's weight and bias exactly as torch prints them, under torch.set_printoptions(precision=…).
// Python: torch.set_printoptions(precision=4); print(sd["fc1.weight"]); print(sd["fc1.bias"])
// Run:    dotnet run --project samples/csharp/PrintLayer -- [MODEL] [LAYER] [PRECISION]   (default samples/simple_nn.pth fc1 4)
using System.Globalization;
using WeightScope;
using WeightScope.Printing;

string path = args.Length > 0 ? args[0] : "samples/simple_nn.pth";
string layer = args.Length > 1 ? args[1] : "fc1";
int precision = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;

#region readme
using var model = ModelFile.Open(path);
var options = new PrintOptions { Precision = precision };       // torch.set_printoptions(precision=…)
foreach (string name in new[] { $"{layer}.weight", $"{layer}.bias" })
{
    Console.WriteLine(name);
    Console.WriteLine(TensorFormatter.Format(model.Tensors[name], options));   // print(sd[name])
}
#endregion
