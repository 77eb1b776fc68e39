namespace WeightScope.Formats.TfJs;

/// <summary>
/// TensorFlow.js: a <c>model.json</c> (<c>modelTopology</c>, <c>format</c> layers-model or graph-model,
/// <c>weightsManifest</c>) beside its binary weight shards, opened from the JSON file or from its folder.
/// The model's kind is <see cref="ModelFormatInfo.Version"/> (<c>layers-model</c>, <c>graph-model</c>).
/// </summary>
internal sealed class TfJsFormat : IModelFormat
{
    /// <summary>The file name tfjs writers give the model JSON; a folder is opened through it.</summary>
    private const string ModelJsonName = "model.json";

    private static ReadOnlySpan<byte> ManifestKey => "\"weightsManifest\""u8;
    private static ReadOnlySpan<byte> TopologyKey => "\"modelTopology\""u8;
    private static ReadOnlySpan<byte> FormatKey => "\"format\""u8;

    /// <inheritdoc />
    public string Name => TfJsErrors.Format;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".json", ".bin"];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context)
    {
        if (context.IsDirectory) return FolderModelJson(context.Path!, context.Limits) is not null;
        if (context.Zip is not null || context.File is not { } file) return false;
        return LooksLikeModelJson(context.Header.Span, file.Length <= context.Limits.MaxHeaderBytes ? file.Span(0, (int)file.Length) : default);
    }

    /// <summary>
    /// A JSON object that names <c>modelTopology</c> or <c>format</c> near its start (writers put one of them first) and
    /// <c>weightsManifest</c> anywhere: converters write the manifest last, after a topology that may be megabytes long.
    /// </summary>
    internal static bool LooksLikeModelJson(ReadOnlySpan<byte> header, ReadOnlySpan<byte> whole)
    {
        int i = 0;
        while (i < header.Length && header[i] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') i++;
        if (i >= header.Length || header[i] != (byte)'{') return false;
        if (header.IndexOf(TopologyKey) < 0 && header.IndexOf(FormatKey) < 0) return false;
        return whole.IndexOf(ManifestKey) >= 0;
    }

    private static string? FolderModelJson(string dir, ReaderLimits limits)
    {
        try
        {
            // model.json by name; otherwise the folder's only JSON file (tfjs-layers' browserDownloads names it after the model).
            var path = Path.Combine(dir, ModelJsonName);
            if (!File.Exists(path))
            {
                var jsons = Directory.GetFiles(dir, "*.json");
                if (jsons.Length != 1) return null;
                path = jsons[0];
            }
            var info = new FileInfo(path);
            if (info.Length > limits.MaxHeaderBytes) return null;
            var bytes = File.ReadAllBytes(path);
            return LooksLikeModelJson(bytes.AsSpan(0, Math.Min(bytes.Length, DetectionContext.HeaderSize)), bytes) ? path : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        if (context.IsDirectory) return TfJsReader.Read(FolderModelJson(context.Path!, context.Limits) ?? throw TfJsErrors.ShardMissing(ModelJsonName), options);
        if (context.Path is null) throw TfJsErrors.FromStream();
        return TfJsReader.Read(context.Path, options);
    }
}
