using System.Buffers;
using System.Text;
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
    /// <exception cref="InvalidModelContentException">The config is not UTF-8 text, so it cannot be checked.</exception>
    public static void Scan(ScanReport report, byte[] json, string source)
    {
        // System.Text.Json checks the structure but not the UTF-8 inside strings: an invalid byte in "class_name" only
        // fails when the string is read, as an InvalidOperationException (found by ScanMutationTests). Checked first:
        // a config that cannot be decoded cannot be checked for Lambda layers, which is said (exit 3), not skipped.
        if (FirstInvalidUtf8(json) is int bad)
            throw new InvalidModelContentException("keras", $"the config is not UTF-8 text (invalid byte 0x{json[bad]:X2}): it cannot be checked for Lambda layers", bad, source);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 }); }
        catch (JsonException) { return; } // not JSON: nothing Keras would run
        using (doc) Visit(doc.RootElement, report, source, 0);
    }

    private static int? FirstInvalidUtf8(ReadOnlySpan<byte> b)
    {
        for (int i = 0; i < b.Length;)
        {
            if (Rune.DecodeFromUtf8(b[i..], out _, out int used) != OperationStatus.Done) return i;
            i += used;
        }
        return null;
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
