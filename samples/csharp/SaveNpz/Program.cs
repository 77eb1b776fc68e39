// Saves every tensor of a model to a NumPy .npz archive (the format comes from the file name's ending).
// Python: np.savez("simple_nn.npz", **{k: v.numpy() for k, v in sd.items()})
// Run:    dotnet run --project samples/csharp/SaveNpz -- [MODEL] [OUT.npz]
//         (default samples/simple_nn.pth artifacts/samples/simple_nn.npz: artifacts/ is git-ignored)
using WeightScope;

string path = args.Length > 0 ? args[0] : "samples/simple_nn.pth";
string output = args.Length > 1 ? args[1] : Path.Combine("artifacts", "samples", Path.GetFileNameWithoutExtension(path) + ".npz");
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);

#region readme
using var model = ModelFile.Open(path);
ModelFile.Save(model.Tensors, output);           // written to a temporary file, then renamed: never half-written
Console.WriteLine($"wrote {model.Tensors.Count} arrays to {output}");
#endregion
