namespace WeightScope.Formats.PyTorch;

/// <summary>
/// TorchScript archives (<c>torch.jit.save</c>): the zip container of <see cref="PyTorchZipFormat"/> plus
/// <c>constants.pkl</c> and <c>code/</c> (PyTorch 1.3+), or the older <c>model.json</c> + <c>tensors/</c> layout
/// (PyTorch 1.0–1.2). Tensors are named as <c>torch.jit.load(f).state_dict()</c> names them.
/// </summary>
internal sealed class TorchScriptFormat : IModelFormat
{
    /// <summary>The format name.</summary>
    public const string FormatName = "torchscript";

    /// <inheritdoc />
    public string Name => FormatName;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".pt", ".pth", ".ptl", ".zip", ".torchscript"];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context) =>
        context.Zip is { } zip && TorchArchive.Find(zip, "data.pkl", "model.json", "constants.pkl") is { IsTorchScript: true };

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        var archive = TorchArchive.Find(context.Zip!, "data.pkl", "model.json", "constants.pkl")!;
        if (archive.Record("data.pkl") is not null) return TorchScriptReader.Read(archive, context.File!, options.Limits);
        if (archive.Record("model.json") is not null) return TorchScriptModelJsonReader.Read(archive, context.File!, options.Limits);
        throw PyTorchErrors.NoTorchScriptData(archive.Prefix);
    }
}
