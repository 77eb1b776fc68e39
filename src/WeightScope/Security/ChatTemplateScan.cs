namespace WeightScope.Security;

/// <summary>
/// Chat templates (GGUF <c>tokenizer.chat_template</c>, <c>chat_template</c> in a tokenizer config) are Jinja2 templates
/// the loader renders. Rendered in a sandbox they cannot reach Python, but llama-cpp-python before 0.2.72 rendered them
/// with a plain <c>jinja2.Environment</c> (CVE-2024-34359), where <c>{{ ''.__class__.__mro__[1].__subclasses__() }}</c>
/// reaches every class in the process. Honest templates never touch dunder attributes, so a template that does is the
/// signature of that escape and is dangerous.
/// </summary>
internal static class ChatTemplateScan
{
    private static readonly string[] EscapeMarkers =
    [
        "__class__", "__mro__", "__subclasses__", "__globals__", "__builtins__", "__import__", "__init__", "__base__",
        "__bases__", "__getattribute__", "__dict__", "__code__", "__reduce__", "__loader__", "__spec__",
    ];

    /// <summary>Checks every string entry whose key names a chat template.</summary>
    public static void Check(ScanReport report, IReadOnlyDictionary<string, object?> metadata, string source)
    {
        foreach (var (key, value) in metadata)
        {
            if (!key.Contains("chat_template", StringComparison.Ordinal)) continue;
            foreach (var template in Strings(value)) Check(report, template, $"{source} {key}");
        }
    }

    /// <summary>Checks one template.</summary>
    public static void Check(ScanReport report, string template, string source)
    {
        var found = EscapeMarkers.Where(m => template.Contains(m, StringComparison.Ordinal)).ToList();
        if (found.Count > 0)
            report.Code.Add(new CodeFinding("jinja-template", source,
                $"the chat template reaches Python internals ({string.Join(", ", found)}): a template-injection payload that runs code in loaders rendering it unsandboxed (llama-cpp-python < 0.2.72, CVE-2024-34359)",
                ScanVerdict.Dangerous));
    }

    private static IEnumerable<string> Strings(object? value) => value switch
    {
        string s => [s],
        System.Collections.IEnumerable e => e.Cast<object?>().SelectMany(Strings),
        _ => [],
    };
}
