namespace WeightScope.Formats.Gguf;

/// <summary>
/// GGUF (ggml / llama.cpp), versions 1 to 3: the magic "GGUF", a version, typed metadata key/values, tensor infos,
/// then aligned tensor data. Detected by the magic alone.
/// </summary>
internal sealed class GgufFormat : IModelFormat
{
    /// <inheritdoc />
    public string Name => GgufErrors.Format;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".gguf"];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context) =>
        context.File is not null && context.Zip is null && GgufParser.HasMagic(context.Header.Span);

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        var file = context.File!;
        var gguf = GgufParser.Parse(file, options.Limits);
        return GgufReader.Map(gguf, file);
    }
}
