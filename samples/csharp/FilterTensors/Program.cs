// Filters a model's tensors by name (a glob) and by the type of the module that owns them.
// Python: [k for k in sd if fnmatch(k, "fc*")]
//         [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
// Module types need a file that records them (a pickled nn.Module, Keras, ONNX, TorchScript), not a bare state dict.
// Run:    dotnet run --project samples/csharp/FilterTensors -- [MODEL] [GLOB] [TYPE]
//         (default tests/fixtures/pytorch/whole_model_linear_conv.pt 'fc*' Linear)
using WeightScope;
using WeightScope.Tensors;

string path = args.Length > 0 ? args[0] : "tests/fixtures/pytorch/whole_model_linear_conv.pt";
string glob = args.Length > 1 ? args[1] : "fc*";
string type = args.Length > 2 ? args[2] : "Linear";

#region readme
using var model = ModelFile.Open(path);
Console.WriteLine($"names matching '{glob}':");
foreach (var t in model.Tensors.Match(glob))                          // fnmatch over the names
    Console.WriteLine($"  {t.Name}");
Console.WriteLine($"tensors of {type} modules:");
foreach (var t in new TensorQuery { ModuleType = type }.Apply(model))  // isinstance(m, nn.Linear)
    Console.WriteLine($"  {t.Name}");
#endregion
