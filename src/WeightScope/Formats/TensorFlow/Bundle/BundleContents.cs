using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Formats.TensorFlow.Bundle;

/// <summary>What a V2 checkpoint holds, ready to become a <see cref="ModelFile"/> (or to be completed by a SavedModel's graph first).</summary>
/// <param name="Tensors">The tensors, in checkpoint key order, with readable names.</param>
/// <param name="Keys">Each tensor's checkpoint key, at the same index.</param>
/// <param name="Metadata">String tensors and the save counter, under their keys.</param>
/// <param name="Format">Format, version and producer.</param>
/// <param name="Owned">The mapped shards.</param>
/// <param name="SourceFiles">The index and every shard opened.</param>
internal sealed record BundleContents(
    List<TensorEntry> Tensors, List<string> Keys, Dictionary<string, object?> Metadata, ModelFormatInfo Format,
    IReadOnlyList<IDisposable> Owned, List<string> SourceFiles)
{
    /// <summary>The layer tree, when a SavedModel's Keras metadata gives one.</summary>
    public ModuleNode? Modules { get; init; }

    /// <summary>The model; it owns the shards from here on.</summary>
    public ModelFile ToModel()
    {
        var model = new ModelFile(Format, new TensorCollection(Tensors), Modules, Metadata, Owned, nameSeparator: '/');
        foreach (var p in SourceFiles) model.AddSourceFile(p);
        return model;
    }

    /// <summary>Releases the shards when no model was made.</summary>
    public void DisposeOwned()
    {
        foreach (var o in Owned) o.Dispose();
    }
}
