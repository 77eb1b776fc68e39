using TorchSharp;
using WeightScope.Writing;

namespace WeightScope.TorchSharp;

/// <summary>
/// WeightScope on a live TorchSharp module: <see cref="LoadWeights(torch.nn.Module, string, LoadOptions?)"/> fills it from
/// any file WeightScope reads, <see cref="AsModelFile"/> shows it to everything WeightScope does, and
/// <see cref="SaveWeights"/> writes it to any format WeightScope writes.
/// </summary>
public static class ModuleWeights
{
    /// <summary>
    /// Loads the weights in <paramref name="path"/> (any format WeightScope reads) into <paramref name="module"/>, as
    /// <c>module.load_state_dict(torch.load(path))</c> would, with names paired, layouts converted and values converted to
    /// each parameter's dtype and device. See <see cref="LoadOptions"/>.
    /// </summary>
    /// <exception cref="WeightLoadException">Strict load and keys missing, unexpected or of another shape; nothing was copied.</exception>
    /// <exception cref="ModelFormatException">The file cannot be read. Values found corrupt only when read (a bad
    /// compressed chunk) stop the load there: the tensors before it in <c>state_dict()</c> order hold the file's values.</exception>
    /// <exception cref="NotSupportedException">A layer's weights cannot be converted to torch's (a Keras GRU with reset_after=False).</exception>
    public static LoadResult LoadWeights(this torch.nn.Module module, string path, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(path);
        options ??= new LoadOptions();
        using var file = ModelFile.Open(path, options.Reader);
        return WeightLoader.Load(module, file, options, path);
    }

    /// <summary>Loads the weights of an open <paramref name="file"/> (or of another module's <see cref="AsModelFile"/>).</summary>
    /// <inheritdoc cref="LoadWeights(torch.nn.Module, string, LoadOptions?)" path="/exception"/>
    public static LoadResult LoadWeights(this torch.nn.Module module, ModelFile file, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(file);
        return WeightLoader.Load(module, file, options ?? new LoadOptions(), file.Path ?? file.Format.Name);
    }

    /// <summary>
    /// The module as a <see cref="ModelFile"/>, without saving it: its <c>state_dict()</c> (parameters with role
    /// Parameter, or Buffer when frozen; buffers with role Buffer; tied weights sharing one storage) and its module tree
    /// with torch.nn's type names (<c>Linear</c>, <c>Conv2d</c>, <c>GRU</c>). Values are read from the live tensors when
    /// asked, so formatting, statistics, histograms, diffs and writers see the module as it is at that moment. Make a
    /// new one after changing the module's structure.
    /// </summary>
    public static ModelFile AsModelFile(this torch.nn.Module module) => LiveModel.Build(module);

    /// <summary>
    /// Writes the module's <c>state_dict()</c> to <paramref name="path"/>: <c>.pt</c>/<c>.pth</c> (a zip that
    /// <c>torch.load(weights_only=True)</c> reads into the equivalent torch module), <c>.safetensors</c>, <c>.npz</c>,
    /// <c>.weights.h5</c> (Keras 3, with <see cref="SaveOptions.KerasLayout"/>: Keras's layouts), <c>.dat</c> (TorchSharp),
    /// or <see cref="SaveOptions.Format"/>. The write is atomic.
    /// </summary>
    public static void SaveWeights(this torch.nn.Module module, string path, SaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        options ??= new SaveOptions();
        var writer = options.Format is null ? TensorWriters.ForPath(path) : TensorWriters.ByName(options.Format);
        // A Keras weights file is read by position into Keras layers, whose layouts differ from torch's: torch's
        // arrays there would be read back transposed wherever a Dense or RNN weight is square. Never write that file.
        if (!options.KerasLayout && writer.Name is Formats.Keras.Keras3WeightsFormat.FormatName or Formats.Keras.KerasH5Format.FormatName)
            throw new ModelWriteException($"{path}: a Keras weights file ({writer.Name}) holds Keras's layouts, not torch's; save with "
                + "SaveOptions.KerasLayout = true for the equivalent Keras model, or to .pt, .safetensors, .npz or .dat to keep torch's layout");
        using var live = LiveModel.Build(module);
        var tensors = options.KerasLayout ? Layout.KerasExport.Convert(live) : [.. live.Tensors];
        ModelFile.Save(tensors, path, writer.Name, options.Write);
    }
}

/// <summary>How <see cref="ModuleWeights.SaveWeights"/> writes.</summary>
public sealed class SaveOptions
{
    /// <summary>A writer's name (<c>pt</c>, <c>safetensors</c>, <c>npz</c>…; <c>convert --help</c> lists them); null: from the path's ending.</summary>
    public string? Format { get; init; }

    /// <summary>
    /// Write the weights as the equivalent Keras model holds them (for <c>.weights.h5</c> and <c>.h5</c>): layers named by
    /// their Keras class in module order (<c>dense</c>, <c>dense_1</c>…), Dense kernels (in, out), convolution kernels
    /// (k…, in, out), LSTM's two biases summed, GRU gates z, r, h with the (2, 3·units) reset_after bias — what Keras's
    /// <c>model.load_weights</c> reads into the same architecture. A module Keras has no layer for is refused.
    /// </summary>
    public bool KerasLayout { get; init; }

    /// <summary>Metadata, shared-storage policy, progress (see <see cref="WriteOptions"/>).</summary>
    public WriteOptions? Write { get; init; }
}
