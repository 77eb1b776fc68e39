using System.Text.Json;
using WeightScope.IO;

namespace WeightScope.Formats.TfJs;

/// <summary>
/// A weight's <c>quantization</c> (tfjs <c>WeightsManifestEntry.quantization</c>): the stored dtype and, for the affine
/// kinds, <c>scale</c> and <c>min</c> (value = q × scale + min).
/// </summary>
internal sealed record TfJsQuantization(string DType, double? Scale, double? Min);

/// <summary>One entry of a group's <c>weights</c> (tfjs <c>WeightsManifestEntry</c>): name, shape, dtype, quantization.</summary>
internal sealed record TfJsWeightSpec(string Name, long[] Shape, string DType, TfJsQuantization? Quantization);

/// <summary>One <c>weightsManifest</c> group (tfjs <c>WeightsManifestGroupConfig</c>): its shard files, concatenated, and its weights in order.</summary>
internal sealed record TfJsWeightGroup(List<string> Paths, List<TfJsWeightSpec> Weights);

/// <summary>
/// <c>model.json</c> (tfjs <c>ModelJSON</c>): <c>modelTopology</c>, <c>format</c>, <c>generatedBy</c>, <c>convertedBy</c>,
/// <c>weightsManifest</c>, and the optional entries (<c>signature</c>, <c>userDefinedMetadata</c>, <c>trainingConfig</c>,
/// <c>modelInitializer</c>…) kept as values.
/// </summary>
internal sealed record TfJsModelJson(
    string? Format,
    string? GeneratedBy,
    string? ConvertedBy,
    string? ModelTopologyJson,
    List<TfJsWeightGroup> WeightsManifest,
    OrderedDictionary<string, object?> OtherEntries)
{
    /// <summary>The JSON nesting the parser accepts; a Keras topology nests a few levels per layer, far below this.</summary>
    private const int MaxJsonDepth = 256;

    /// <summary>Parses the bytes of a model.json.</summary>
    public static TfJsModelJson Parse(byte[] json, ReaderLimits limits)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json)) throw TfJsErrors.NotUtf8();
        IO.JsonDepth.Check(json, limits, TfJsErrors.Format, "model.json");
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = Math.Min(MaxJsonDepth, limits.MaxNestingDepth) });
            return FromRoot(doc.RootElement, limits);
        }
        catch (JsonException e)
        {
            throw TfJsErrors.NotJson(e.Message, TextPosition.Offset(json, e.LineNumber ?? 0, e.BytePositionInLine ?? 0));
        }
    }

    private static TfJsModelJson FromRoot(JsonElement root, ReaderLimits limits)
    {
        if (root.ValueKind != JsonValueKind.Object) throw TfJsErrors.NotJson($"the top level is a JSON {root.ValueKind}, expected an object", 0);
        if (!root.TryGetProperty("weightsManifest", out var manifest) || manifest.ValueKind != JsonValueKind.Array)
            throw TfJsErrors.BadManifest("model.json has no 'weightsManifest' array");
        string? topology = root.TryGetProperty("modelTopology", out var t) && t.ValueKind == JsonValueKind.Object ? t.GetRawText() : null;
        var others = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var p in root.EnumerateObject())
            if (p.Name is not ("weightsManifest" or "modelTopology" or "format" or "generatedBy" or "convertedBy"))
                others[p.Name] = JsonValues.ToValue(p.Value);
        int count = 0;
        var groups = new List<TfJsWeightGroup>();
        foreach (var g in manifest.EnumerateArray()) groups.Add(Group(g, groups.Count, ref count, limits));
        return new TfJsModelJson(StringOrNull(root, "format"), StringOrNull(root, "generatedBy"), StringOrNull(root, "convertedBy"), topology, groups, others);
    }

    private static TfJsWeightGroup Group(JsonElement g, int index, ref int count, ReaderLimits limits)
    {
        if (g.ValueKind != JsonValueKind.Object) throw TfJsErrors.BadManifest($"group {index} is a JSON {g.ValueKind}, expected an object");
        if (!g.TryGetProperty("paths", out var paths) || paths.ValueKind != JsonValueKind.Array)
            throw TfJsErrors.BadManifest($"group {index} has no 'paths' array");
        if (!g.TryGetProperty("weights", out var weights) || weights.ValueKind != JsonValueKind.Array)
            throw TfJsErrors.BadManifest($"group {index} has no 'weights' array");
        var files = new List<string>();
        foreach (var p in paths.EnumerateArray())
        {
            if (p.ValueKind != JsonValueKind.String) throw TfJsErrors.BadManifest($"group {index} has a path that is a JSON {p.ValueKind}, expected a string");
            files.Add(p.GetString()!);
        }
        var specs = new List<TfJsWeightSpec>();
        foreach (var w in weights.EnumerateArray())
        {
            if (++count > limits.MaxTensorCount)
                throw new ReaderLimitException(TfJsErrors.Format, nameof(ReaderLimits.MaxTensorCount), count, limits.MaxTensorCount);
            specs.Add(Weight(w, index));
        }
        return new TfJsWeightGroup(files, specs);
    }

    private static TfJsWeightSpec Weight(JsonElement w, int group)
    {
        if (w.ValueKind != JsonValueKind.Object) throw TfJsErrors.BadManifest($"group {group} has a weight that is a JSON {w.ValueKind}, expected an object");
        string name = StringOrNull(w, "name") ?? throw TfJsErrors.BadManifest($"group {group} has a weight without a string 'name'");
        string dtype = StringOrNull(w, "dtype") ?? throw TfJsErrors.BadManifest($"weight '{name}' has no string 'dtype'", name);
        if (!w.TryGetProperty("shape", out var shapeJson) || shapeJson.ValueKind != JsonValueKind.Array)
            throw TfJsErrors.BadManifest($"weight '{name}' has no 'shape' array", name);
        var shape = new List<long>();
        foreach (var d in shapeJson.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim) || dim < 0)
                throw TfJsErrors.BadManifest($"weight '{name}' has shape dimension {d.GetRawText()}, expected a non-negative integer", name);
            shape.Add(dim);
        }
        TfJsQuantization? quantization = null;
        if (w.TryGetProperty("quantization", out var q))
        {
            if (q.ValueKind != JsonValueKind.Object) throw TfJsErrors.BadQuantization(name, "'quantization' must be an object");
            string qtype = StringOrNull(q, "dtype") ?? throw TfJsErrors.BadQuantization(name, "'quantization' has no string 'dtype'");
            quantization = new TfJsQuantization(qtype, NumberOrNull(q, "scale"), NumberOrNull(q, "min"));
        }
        return new TfJsWeightSpec(name, [.. shape], dtype, quantization);
    }

    private static string? StringOrNull(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? NumberOrNull(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
}

/// <summary>JSON values in the metadata conventions: objects → ordered dictionaries, arrays → lists, integral numbers → long.</summary>
internal static class JsonValues
{
    public static object? ToValue(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number when e.TryGetInt64(out long l) => l,
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => e.EnumerateArray().Select(ToValue).ToList(),
        JsonValueKind.Object => ToDictionary(e),
        _ => null,
    };

    private static OrderedDictionary<string, object?> ToDictionary(JsonElement e)
    {
        var d = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject()) d[p.Name] = ToValue(p.Value); // a repeated key keeps the last value, as JSON.parse does
        return d;
    }
}
