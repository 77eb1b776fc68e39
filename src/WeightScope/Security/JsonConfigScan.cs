using System.Text.Json;
using WeightScope.IO;

namespace WeightScope.Security;

/// <summary>
/// A JSON file no reader claims as a model (Keras <c>model.to_json()</c>, a <c>config.json</c>, a tokenizer config):
/// data, but Keras builds it with <c>model_from_json</c> and transformers renders its chat template, so it is checked as
/// a Keras config (<see cref="KerasConfigRules"/>) and for Jinja escapes (<see cref="ChatTemplateScan"/>).
/// </summary>
internal static class JsonConfigScan
{
    /// <summary>True when the first byte that is not white space (after a UTF-8 BOM) opens a JSON object or array.</summary>
    public static bool LooksLikeJson(ReadOnlySpan<byte> header)
    {
        if (header.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) header = header[3..];
        int i = 0;
        while (i < header.Length && header[i] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') i++;
        return i < header.Length && header[i] is (byte)'{' or (byte)'[';
    }

    /// <summary>The report for a JSON file; null when the bytes are not JSON after all.</summary>
    /// <exception cref="ReaderLimitException">The file is larger than <see cref="ReaderLimits.MaxHeaderBytes"/>.</exception>
    public static ScanReport? Scan(string path, MappedFile file, ReaderLimits limits)
    {
        if (file.Length > limits.MaxHeaderBytes)
            throw new ReaderLimitException("json", nameof(ReaderLimits.MaxHeaderBytes), file.Length, limits.MaxHeaderBytes, 0) { FilePath = path };
        var bytes = file.Span(0, (int)file.Length).ToArray();
        var report = new ScanReport { Path = path, Container = "json" };
        if (!KerasLambdaScan.TryScan(report, bytes, Path.GetFileName(path), out _)) return null;
        ChatTemplates(report, bytes, Path.GetFileName(path));
        report.Notes.Add("no code-bearing content in the JSON itself (JSON is data); checked as a Keras config (Lambda layers, code named by module path) and for chat-template escapes");
        return report;
    }

    private static void ChatTemplates(ScanReport report, byte[] bytes, string source)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 100_000, AllowTrailingCommas = false });
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("chat_template", out var t))
            {
                if (t.ValueKind == JsonValueKind.String) ChatTemplateScan.Check(report, t.GetString()!, $"{source} chat_template");
                else if (t.ValueKind == JsonValueKind.Array)
                    foreach (var item in t.EnumerateArray())
                        if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("template", out var s) && s.ValueKind == JsonValueKind.String)
                            ChatTemplateScan.Check(report, s.GetString()!, $"{source} chat_template");
            }
        }
        catch (JsonException) { } // NaN/Infinity: the Keras walk above already read it; tokenizer configs never hold them
    }
}
