using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.TorchSharp;

/// <summary>
/// Maps a parsed TorchSharp file into the uniform model: each entry a zero-copy tensor named by its state-dict key
/// (a single-tensor file names its tensor <c>""</c>, as the PyTorch reader names a bare saved tensor); the module tree
/// comes from the dotted names. Roles stay Other: a state dict does not record which tensors are parameters.
/// </summary>
internal static class TorchSharpReader
{
    public static ModelFile Map(TorchSharpFile parsed, MappedFile file)
    {
        var tensors = new List<TensorEntry>(parsed.Entries.Count);
        foreach (var e in parsed.Entries)
        {
            var dtype = TorchSharpRecords.ToDType((long)e.ScalarType)!.Value;
            var storage = new MappedStorage(file, e.DataOffset, e.DataBytes, $"{(e.Name.Length == 0 ? "tensor" : e.Name)}@{e.DataOffset}");
            tensors.Add(new TensorEntry(e.Name, dtype, new Shape(e.Shape), storage));
        }
        string version = parsed.Kind == TorchSharpKind.StateDict ? "state_dict" : "tensor";
        return new ModelFile(new ModelFormatInfo(TorchSharpErrors.Format, version), new TensorCollection(tensors));
    }
}
