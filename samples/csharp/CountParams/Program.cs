// Counts parameters (all, and trainable) and the size of the weights in MB.
// Python: sum(p.numel() for p in sd.values())
//         sum(p.numel() for p in model.parameters() if p.requires_grad)
//         sum(p.numel() * p.element_size() for p in sd.values()) / 1024**2
// Run:    dotnet run --project samples/csharp/CountParams -- [MODEL]   (default samples/simple_nn.pth)
using WeightScope;
using WeightScope.Tensors;

string path = args.Length > 0 ? args[0] : "samples/simple_nn.pth";

#region readme
using var model = ModelFile.Open(path);
TensorTotals totals = model.Tensors.Totals;      // tied weights and views are counted once
// Trainable = nn.Parameter / Keras trainable weights; a bare state_dict() does not record which tensors those were.
string trainable = totals.ByRole.TryGetValue(TensorRole.Parameter, out TotalsGroup? group)
    ? $"{group.Parameters}" : "not recorded in this file";
Console.WriteLine($"tensors:    {totals.Tensors}");
Console.WriteLine($"parameters: {totals.Parameters}");
Console.WriteLine($"trainable:  {trainable}");
Console.WriteLine($"size:       {totals.Bytes} bytes = {totals.Bytes / 1024.0 / 1024.0:F6} MB");
#endregion
