// The README's first library example: open a file, list it, read and print a tensor, filter by name, edit, cast and save.
// Python: sd = torch.load(path); for k, v in sd.items(): print(k, v.dtype, v.shape); print(sd["fc1.weight"][0, :4])
//         save_file({k: (torch.zeros_like(v) if k.startswith("fc2.") else v.half()) for k, v in sd.items()}, out)
// Run:    dotnet run --project samples/csharp/Quickstart   (from the repository root; writes simple_nn_half.safetensors
//         to the temp folder)
#region readme
using WeightScope;
using WeightScope.Printing;
using WeightScope.Tensors;
using WeightScope.Writing;

using var model = ModelFile.Open("samples/simple_nn.pth");      // format detected from content
Console.WriteLine($"{model.Format.Name}: {model.Tensors.Count} tensors, {model.Tensors.ParameterCount} parameters");

foreach (var t in model.Tensors)                                  // like state_dict().items()
    Console.WriteLine($"{t.Name,-12} {t.DType.Name()} {t.Shape}");

TensorEntry w = model.Tensors["fc1.weight"];
float[] values = w.ToArray<float>();                              // row-major copy; w.TryGetSpan<float>(…) is zero-copy
Console.WriteLine($"{values.Length} values, first {values[0]}");
Console.WriteLine(TensorFormatter.Format(w.Slice("[0,:4]").Reshape(-1, 1), new PrintOptions { Precision = 2 }));

foreach (var bias in model.Tensors.Match("*.bias"))               // glob over names
    Console.WriteLine($"{bias.Name}: {string.Join(", ", bias.ToFloat32())}");

// Writing: lazy edits and casts, saved atomically in the format the ending names (np.savez, torch.save, save_file…).
var edited = model.Tensors.Select(t => t.Name.StartsWith("fc2.") ? TensorEdits.Zeroed(t) : TensorCast.Cast(t, DType.Float16));
ModelFile.Save(edited, Path.Combine(Path.GetTempPath(), "simple_nn_half.safetensors"));
#endregion

