using System.Text.Json;

namespace WeightScope.Formats.Keras;

/// <summary>
/// One layer of a Keras <c>model_config</c> (the JSON of <c>model.to_json()</c>): its name, class, its own config and,
/// for a nested model (a Sequential inside a Functional model), its layers.
/// </summary>
internal sealed record KerasLayer(string Name, string ClassName, JsonElement Config, bool Trainable, List<KerasLayer> Layers)
{
    /// <summary>True for a model used as a layer: its config has its own layer list.</summary>
    public bool IsModel => Layers.Count > 0;

    /// <summary>The entry's <c>module</c> (<c>keras.layers</c>, <c>qkeras.qlayers</c>), when the config records it (Keras ≥ 2.13).</summary>
    public string? Module { get; init; }

    /// <summary>The entry's <c>registered_name</c>: null for Keras's own classes, <c>package&gt;Class</c> for registered custom ones.</summary>
    public string? RegisteredName { get; init; }
}

/// <summary>
/// Parses <c>model_config</c>. Three shapes exist: Keras ≥ 2.2.3 Sequential <c>{"name", "layers": [...]}</c>, Keras
/// 2.0–2.2.2 Sequential whose config is the layer list itself, and Functional/Model <c>{"name", "layers": [{"name",
/// "class_name", "config", "inbound_nodes"}], ...}</c> (Keras's <c>Network.get_config</c> / <c>Sequential.get_config</c>).
/// </summary>
internal static class KerasConfig
{
    public static KerasLayer Parse(string json, ReaderLimits limits)
    {
        IO.JsonDepth.Check(json, limits, "keras", "model_config");
        using var doc = JsonDocument.Parse(json, IO.JsonDepth.Options(limits));
        return Layer(doc.RootElement.Clone(), "model_config", 0, limits);
    }

    private static KerasLayer Layer(JsonElement e, string fallbackName, int depth, ReaderLimits limits)
    {
        if (depth > limits.MaxNestingDepth) throw KerasErrors.BadConfig("model_config", "models nested too deeply");
        if (e.ValueKind != JsonValueKind.Object) throw KerasErrors.BadConfig("model_config", $"a layer entry is a JSON {e.ValueKind}, expected an object");
        string cls = e.TryGetProperty("class_name", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "?";
        var config = e.TryGetProperty("config", out var cfg) ? cfg : default;
        string name = config.ValueKind == JsonValueKind.Object && config.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()!
            : e.TryGetProperty("name", out var n2) && n2.ValueKind == JsonValueKind.String ? n2.GetString()! : fallbackName;
        bool trainable = !(config.ValueKind == JsonValueKind.Object && config.TryGetProperty("trainable", out var t) && t.ValueKind == JsonValueKind.False);
        var layers = new List<KerasLayer>();
        JsonElement list = config.ValueKind == JsonValueKind.Array ? config // Keras 2.0–2.2.2 Sequential
            : config.ValueKind == JsonValueKind.Object && config.TryGetProperty("layers", out var l) && l.ValueKind == JsonValueKind.Array ? l : default;
        if (list.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var item in list.EnumerateArray()) layers.Add(Layer(item, $"layer_{i++}", depth + 1, limits));
        }
        return new KerasLayer(name, cls, config, trainable, layers)
        {
            Module = e.TryGetProperty("module", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null,
            RegisteredName = e.TryGetProperty("registered_name", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null,
        };
    }

    /// <summary>
    /// The config's scalar entries as module attributes: strings, numbers (long when integral), bools, nulls, and
    /// arrays of those as tuples (<c>kernel_size</c> → <c>(3, 3)</c>). Nested dicts (initializers, regularizers) are left
    /// out; they stay readable in the <c>model_config</c> metadata.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, object?>> ScalarEntries(JsonElement config)
    {
        if (config.ValueKind != JsonValueKind.Object) yield break;
        foreach (var p in config.EnumerateObject())
        {
            if (p.Name == "layers") continue;
            if (TryScalar(p.Value, out var v)) yield return new(p.Name, v);
            else if (p.Value.ValueKind == JsonValueKind.Array)
            {
                var items = new List<object?>();
                bool allScalar = true;
                foreach (var item in p.Value.EnumerateArray())
                {
                    if (TryScalar(item, out var iv)) items.Add(iv);
                    else { allScalar = false; break; }
                }
                if (allScalar) yield return new(p.Name, items.ToArray());
            }
        }
    }

    private static bool TryScalar(JsonElement e, out object? value)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String: value = e.GetString(); return true;
            case JsonValueKind.True: value = true; return true;
            case JsonValueKind.False: value = false; return true;
            case JsonValueKind.Null: value = null; return true;
            case JsonValueKind.Number:
                value = e.TryGetInt64(out long l) ? (object)l : e.GetDouble(); // the cast keeps integers long (a bare ternary would make them double)
                return true;
            default: value = null; return false;
        }
    }
}
