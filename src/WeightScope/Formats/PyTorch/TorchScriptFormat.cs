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

    // PyTorch Mobile's flatbuffer files (torch/csrc/jit/serialization/mobile_bytecode.fbs, file_identifier "PTMF"): a
    // flatbuffer's identifier follows the 4-byte root table offset. Recognised so that the refusal says what the file is.
    private const int FlatbufferIdentifierOffset = 4;
    private static ReadOnlySpan<byte> MobileFlatbufferIdentifier => "PTMF"u8;

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context) =>
        context.Zip is { } zip
            ? TorchArchive.Find(zip, "data.pkl", "model.json", "constants.pkl") is { IsTorchScript: true }
            : IsMobileFlatbuffer(context.Header.Span);

    private static bool IsMobileFlatbuffer(ReadOnlySpan<byte> header) =>
        header.Length >= FlatbufferIdentifierOffset + MobileFlatbufferIdentifier.Length
        && header.Slice(FlatbufferIdentifierOffset, MobileFlatbufferIdentifier.Length).SequenceEqual(MobileFlatbufferIdentifier);

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        if (context.Zip is null) throw PyTorchErrors.MobileFlatbuffer();
        var archive = TorchArchive.Find(context.Zip!, "data.pkl", "model.json", "constants.pkl")!;
        if (archive.Record("data.pkl") is not null) return TorchScriptReader.Read(archive, context.File!, options.Limits);
        if (archive.Record("model.json") is not null) return TorchScriptModelJsonReader.Read(archive, context.File!, options.Limits);
        throw PyTorchErrors.NoTorchScriptData(archive.Prefix);
    }
}
