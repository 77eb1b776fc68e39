using System.Text.Json;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.SafeTensors;

/// <summary>
/// A sharded safetensors checkpoint: <c>model.safetensors.index.json</c> (<c>{"metadata": {...}, "weight_map":
/// {tensor: shard file}}</c>) beside its shards, opened as one model, from the index file or from its folder.
/// A folder with no index but exactly one <c>.safetensors</c> file opens that file.
/// </summary>
internal sealed class SafeTensorsShardedFormat : IModelFormat
{
    private const string IndexSuffix = ".safetensors.index.json";

    /// <inheritdoc />
    public string Name => "safetensors-sharded";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [IndexSuffix];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context)
    {
        if (context.IsDirectory)
        {
            // Any index (several are told apart in Read, with a message naming them) or exactly one shard.
            try { return Directory.GetFiles(context.Path!, "*" + IndexSuffix).Length > 0 || Directory.GetFiles(context.Path!, "*.safetensors").Length == 1; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        }
        // An index file: a JSON object that names a "weight_map" near its start.
        var h = context.Header.Span;
        int i = 0;
        while (i < h.Length && h[i] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') i++;
        return context.Zip is null && i < h.Length && h[i] == (byte)'{' && h.IndexOf("\"weight_map\""u8) >= 0;
    }

    private static string? FindIndex(string dir)
    {
        var found = Directory.GetFiles(dir, "*" + IndexSuffix);
        return found.Length == 1 ? found[0] : null;
    }

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        if (context.IsDirectory)
        {
            var dir = context.Path!;
            var indexes = Directory.GetFiles(dir, "*" + IndexSuffix);
            if (indexes.Length > 1)
                throw new UnsupportedModelFeatureException(Name,
                    $"a folder with several indexes ({string.Join(", ", indexes.Select(Path.GetFileName))}); open the index file you mean");
            var index = FindIndex(dir);
            if (index is null)
            {
                var single = Directory.GetFiles(dir, "*.safetensors");
                if (single.Length != 1)
                    throw new UnknownModelFormatException($"folder has {single.Length} .safetensors files and no single *{IndexSuffix}");
                return ModelFile.Open(single[0], options);
            }
            return ReadIndex(index, options);
        }
        if (context.Path is null)
            throw new UnsupportedModelFeatureException(Name, "a sharded index read from a stream (its shards are files beside it)");
        return ReadIndex(context.Path, options);
    }

    private ModelFile ReadIndex(string indexPath, ReaderOptions options)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var info = new FileInfo(indexPath);
        if (info.Length > options.Limits.MaxHeaderBytes)
            throw new ReaderLimitException(Name, nameof(ReaderLimits.MaxHeaderBytes), info.Length, options.Limits.MaxHeaderBytes, 0, indexPath);
        var (weightMap, metadata) = ParseIndex(File.ReadAllBytes(indexPath), options.Limits);

        var owned = new List<IDisposable>();
        try
        {
            var shards = new Dictionary<string, Dictionary<string, TensorEntry>>(StringComparer.Ordinal);
            var tensors = new List<TensorEntry>(weightMap.Count);
            foreach (var (name, shard) in weightMap.OrderBy(kv => kv.Key, Comparer<string>.Create(SafeTensorsHeader.CompareNames)))
            {
                if (!shards.TryGetValue(shard, out var byName))
                {
                    var shardPath = ResolveShard(dir, shard, options.AllowExternalPaths);
                    var file = MappedFile.Open(shardPath);
                    owned.Add(file);
                    SafeTensorsHeader header;
                    try { header = SafeTensorsHeader.Read(file, options.Limits); }
                    catch (ModelFormatException e) { e.FilePath = shardPath; throw; }
                    byName = SafeTensorsReader.MapTensors(header, file, shard + ":").ToDictionary(t => t.Name, StringComparer.Ordinal);
                    shards[shard] = byName;
                }
                if (!byName.TryGetValue(name, out var t))
                    throw new InvalidModelContentException(Name, $"weight_map says tensor '{name}' is in '{shard}', but that shard has no such tensor", null, name);
                tensors.Add(t);
            }
            metadata["shards"] = shards.Keys.Cast<object?>().ToList();
            var model = new ModelFile(new ModelFormatInfo(Name, null, $"{shards.Count} shards"), new TensorCollection(tensors), null, metadata, owned);
            model.AddSourceFile(indexPath);
            foreach (var shard in shards.Keys) model.AddSourceFile(ResolveShard(dir, shard, options.AllowExternalPaths));
            return model;
        }
        catch
        {
            foreach (var o in owned) o.Dispose();
            throw;
        }
    }

    // Shard names come from the file: ContainedPath's rule (inside the index's folder, symbolic links followed) unless
    // ReaderOptions.AllowExternalPaths lifts it.
    private string ResolveShard(string dir, string shard, bool allowOutside)
    {
        var full = ContainedPath.Resolve(dir, shard, allowOutside, out var refusal)
                   ?? throw new InvalidModelContentException(Name, $"shard path '{shard}' {refusal}; refused (shards must lie in the index's folder or below it; --allow-external-paths follows it for a trusted file)", null, shard);
        if (!File.Exists(full)) throw new InvalidModelContentException(Name, $"shard '{shard}' named by weight_map does not exist beside the index", null, shard);
        return full;
    }

    private (Dictionary<string, string>, Dictionary<string, object?>) ParseIndex(byte[] json, ReaderLimits limits)
    {
        IO.JsonDepth.Check(json, limits, Name);
        if (!System.Text.Unicode.Utf8.IsValid(json)) throw new InvalidModelContentException(Name, "index is not valid UTF-8 text", 0);
        try
        {
            using var doc = JsonDocument.Parse(json, IO.JsonDepth.Options(limits));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var wm) || wm.ValueKind != JsonValueKind.Object)
                throw new InvalidModelContentException(Name, "index has no 'weight_map' object", 0);
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in wm.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String)
                    throw new InvalidModelContentException(Name, $"weight_map entry '{p.Name}' is not a file name", null, p.Name);
                map[p.Name] = p.Value.GetString()!;
            }
            var metadata = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (root.TryGetProperty("metadata", out var md) && md.ValueKind == JsonValueKind.Object)
                foreach (var p in md.EnumerateObject())
                    metadata[p.Name] = p.Value.ValueKind switch
                    {
                        JsonValueKind.String => p.Value.GetString(),
                        JsonValueKind.Number when p.Value.TryGetInt64(out var l) => l,
                        JsonValueKind.Number => p.Value.GetDouble(),
                        JsonValueKind.True => true,
                        JsonValueKind.False => false,
                        JsonValueKind.Null => null,
                        _ => p.Value.GetRawText(),
                    };
            return (map, metadata);
        }
        catch (JsonException e)
        {
            throw new InvalidModelContentException(Name, $"index is not valid JSON: {e.Message}",
                TextPosition.Offset(json, e.LineNumber ?? 0, e.BytePositionInLine ?? 0), null, e);
        }
    }
}
