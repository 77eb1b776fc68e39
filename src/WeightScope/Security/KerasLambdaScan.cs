using System.Text.Json;

namespace WeightScope.Security;

/// <summary>
/// Flags Keras <c>Lambda</c> layers in a model config (<c>config.json</c> of a <c>.keras</c> zip, <c>model_config</c> of an HDF5 model). A Lambda layer stores
/// its function as marshalled Python bytecode (or a module.function name) that Keras runs when the model is loaded
/// with <c>safe_mode=False</c> — and tf.keras before 2.13 ran it with no opt-in. It is arbitrary code by construction,
/// so it is reported as dangerous.
/// </summary>
internal static class KerasLambdaScan
{
    public static void Scan(ScanReport report, byte[] json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 }); }
        catch (JsonException) { return; } // not JSON: nothing Keras would run
        using (doc) Visit(doc.RootElement, report, source, 0);
    }

    private static void Visit(JsonElement e, ScanReport report, string source, int depth)
    {
        if (depth > 256) return;
        if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in e.EnumerateArray()) Visit(item, report, source, depth + 1);
            return;
        }
        if (e.ValueKind != JsonValueKind.Object) return;
        if (e.TryGetProperty("class_name", out var cls) && cls.ValueKind == JsonValueKind.String
            && cls.GetString() is "Lambda" or "keras.layers.Lambda")
        {
            string name = e.TryGetProperty("config", out var cfg) && cfg.ValueKind == JsonValueKind.Object
                          && cfg.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "?";
            report.Code.Add(new CodeFinding("keras-lambda", source, $"Lambda layer '{name}': its function is Python code Keras runs on load",
                                            ScanVerdict.Dangerous));
        }
        foreach (var p in e.EnumerateObject()) Visit(p.Value, report, source, depth + 1);
    }
}
