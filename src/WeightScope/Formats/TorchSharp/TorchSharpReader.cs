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

    /// <summary>
    /// Optimizer state: tensors <c>state.&lt;i&gt;.&lt;field&gt;</c> (role OptimizerState, <c>i</c> the parameter's index
    /// across the groups, as torch numbers <c>optimizer.state_dict()['state']</c>); the optimizer's name, each group's
    /// options and the scalar state (<c>step</c>, <c>eta</c>…) as metadata.
    /// </summary>
    public static ModelFile MapOptimizer(TorchSharpOptimizer.Parsed parsed, MappedFile file)
    {
        var tensors = parsed.Tensors.Select(e => new TensorEntry(e.Name, TorchSharpRecords.ToDType((long)e.ScalarType)!.Value, new Shape(e.Shape),
            new MappedStorage(file, e.DataOffset, e.DataBytes, $"{e.Name}@{e.DataOffset}"), role: TensorRole.OptimizerState));
        var metadata = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["optimizer"] = parsed.Optimizer,
            ["param_groups"] = parsed.ParamGroups,
        };
        foreach (var (k, v) in parsed.StateValues) metadata[k] = v;
        return new ModelFile(new ModelFormatInfo(TorchSharpErrors.Format, "optimizer"), new TensorCollection(tensors), null, metadata);
    }
}
