// Lists a state dict: every tensor's name, dtype and shape, in the order the file holds them.
// Python: for k, v in torch.load(path).items(): print(k, v.dtype, v.shape)
// Run:    dotnet run --project samples/csharp/ListStateDict -- [MODEL]   (default samples/simple_nn.pth)
using WeightScope;
using WeightScope.Tensors;

string path = args.Length > 0 ? args[0] : "samples/simple_nn.pth";

#region readme
using var model = ModelFile.Open(path);          // any supported format, detected from the content
foreach (TensorEntry t in model.Tensors)         // like state_dict().items(), in file order
    Console.WriteLine($"{t.Name,-24} {t.DType.Name(),-8} {t.Shape}");
#endregion
