using System.Text.Json;
using WeightScope.Tensors;

namespace WeightScope.Formats.Keras;

/// <summary>
/// Names the optimizer's variables (<c>optimizer/vars/&lt;i&gt;</c>, <c>Optimizer.save_own_variables</c> writes
/// <c>self.variables</c> in creation order). Keras 3 (<c>keras/src/optimizers/base_optimizer.py</c>): <c>iteration</c>,
/// <c>learning_rate</c> (absent when the rate is a schedule), then the slots <c>build(var_list)</c> creates for
/// <c>model.trainable_variables</c>: Keras 3.0–3.x creates them per variable (<c>momentum</c>, <c>velocity</c> of the
/// first variable, then of the second…), later versions (<c>add_optimizer_variables</c>) per kind (all momentums, then
/// all velocities). tf-keras 2.11–2.15 (<c>keras/optimizers/optimizer.py</c>): <c>iteration</c> only, then per
/// variable <c>m</c>, <c>v</c>. The layout is chosen by what fits the file (count, scalar prefix, every slot's shape
/// equal to its variable's); when none or more than one naming fits, the variables keep their h5 names.
/// </summary>
internal static class Keras3Optimizer
{
    /// <summary>
    /// One way Keras may have laid the variables out: after <see cref="Prefix"/>, the first <see cref="Interleaved"/>
    /// kinds per variable (m₀ v₀ m₁ v₁…), the remaining kinds per kind (all velocity_hat after them).
    /// </summary>
    private sealed record Layout(string Family, string[] Prefix, string[] Kinds, int Interleaved);

    /// <summary>A model variable the optimizer tracks: its name and shape.</summary>
    internal readonly record struct Tracked(string Name, long[] Shape);

    /// <summary>
    /// Names for <paramref name="vars"/> (the optimizer's variables in index order), or null with
    /// <paramref name="note"/> saying why they keep their h5 names.
    /// </summary>
    public static List<string>? Name(IReadOnlyList<TensorEntry> vars, IReadOnlyList<Tracked> trainable, JsonElement compileConfig, string? kerasVersion, out string? note)
    {
        note = null;
        if (!Describe(compileConfig, out string cls, out JsonElement config, out string? configName))
        {
            note = "compile_config names no optimizer, so its class (and slot names) are unknown; its variables keep their h5 names";
            return null;
        }
        var layouts = Layouts(cls, config, kerasVersion).ToList();
        if (layouts.Count == 0)
        {
            note = $"optimizer class '{cls}' is not in the table (Adam, AdamW, SGD, RMSprop, Adagrad); its variables keep their h5 names";
            return null;
        }
        List<string>? chosen = null;
        string? chosenFamily = null;
        foreach (var layout in layouts)
        {
            if (Fit(layout, vars, trainable, configName ?? DefaultName(cls, layout.Family)) is not { } names) continue;
            if (chosen is null) { chosen = names; chosenFamily = layout.Family; continue; }
            if (layout.Family != chosenFamily) continue; // the first family that fits wins (Keras 3 before tf-keras)
            if (!chosen.SequenceEqual(names))
            {
                note = $"the {vars.Count} variables of optimizer '{cls}' fit more than one Keras layout (all model variables have the same shape); they keep their h5 names";
                return null;
            }
        }
        if (chosen is null)
            note = $"the {vars.Count} variables of optimizer '{cls}' do not match its Keras layouts for {trainable.Count} trainable variables; they keep their h5 names";
        return chosen;
    }

    private static List<string>? Fit(Layout layout, IReadOnlyList<TensorEntry> vars, IReadOnlyList<Tracked> trainable, string optimizerName)
    {
        int n = trainable.Count;
        long expected = layout.Prefix.Length + (long)layout.Kinds.Length * n;
        if (vars.Count != expected) return null;
        var names = new List<string>(vars.Count);
        for (int i = 0; i < layout.Prefix.Length; i++)
        {
            if (vars[i].Shape.Rank != 0) return null;
            names.Add(optimizerName + "/" + layout.Prefix[i]);
        }
        for (int k = 0; k < layout.Kinds.Length; k++)
            for (int v = 0; v < n; v++)
                if (!vars[layout.Prefix.Length + Slot(layout, n, k, v)].Shape.SequenceEqual(trainable[v].Shape)) return null;
        var slots = new string[vars.Count - layout.Prefix.Length];
        for (int k = 0; k < layout.Kinds.Length; k++)
            for (int v = 0; v < n; v++)
            {
                int at = Slot(layout, n, k, v);
                string kind = layout.Kinds[k];
                // Keras 3 add_variable_from_reference: name = path.replace("/", "_") + "_" + kind; tf-keras: kind + "/" + path.
                slots[at] = optimizerName + "/" + (layout.Family == "keras3" ? trainable[v].Name.Replace('/', '_') + "_" + kind : kind + "/" + trainable[v].Name);
            }
        names.AddRange(slots);
        return names;
    }

    // Where kind k of variable v sits after the prefix.
    private static int Slot(Layout layout, int n, int k, int v) =>
        k < layout.Interleaved ? v * layout.Interleaved + k : layout.Interleaved * n + (k - layout.Interleaved) * n + v;

    // Per variable, per kind, and — with three kinds — the first two per variable then the third per kind (Keras 3.0–3.x
    // and tf-keras Adam with amsgrad: a second loop creates velocity_hat / vhat).
    private static IEnumerable<int> Interleavings(int kinds) =>
        kinds > 2 ? [kinds, 0, 2] : [kinds, 0];

    private static IEnumerable<Layout> Layouts(string cls, JsonElement config, string? kerasVersion)
    {
        bool tfKeras = kerasVersion is not null && kerasVersion.StartsWith("2.", StringComparison.Ordinal);
        bool keras3 = kerasVersion is null || !tfKeras;
        bool schedule = config.ValueKind == JsonValueKind.Object && config.TryGetProperty("learning_rate", out var lr) && lr.ValueKind == JsonValueKind.Object;
        bool amsgrad = Bool(config, "amsgrad");
        double momentum = Number(config, "momentum");
        bool centered = Bool(config, "centered");
        (string[] k3, string[] tf)? kinds = cls switch
        {
            "Adam" or "AdamW" => (amsgrad ? ["momentum", "velocity", "velocity_hat"] : ["momentum", "velocity"], amsgrad ? ["m", "v", "vhat"] : ["m", "v"]),
            "SGD" => (momentum != 0 ? ["momentum"] : [], ["m"]),
            "RMSprop" => ([.. Rms("velocity", "momentum", "average_gradient", momentum, centered)], [.. Rms("velocity", "momentum", "average_gradient", momentum, centered)]),
            "Adagrad" => (["accumulator"], ["accumulator"]),
            _ => null,
        };
        if (kinds is null) yield break;
        if (keras3)
        {
            string[] prefix = schedule ? ["iteration"] : ["iteration", "learning_rate"];
            foreach (int i in Interleavings(kinds.Value.k3.Length)) yield return new Layout("keras3", prefix, kinds.Value.k3, i);
        }
        if (tfKeras || kerasVersion is null)
            foreach (int i in Interleavings(kinds.Value.tf.Length)) yield return new Layout("tf-keras", ["iteration"], kinds.Value.tf, i);
    }

    private static IEnumerable<string> Rms(string velocity, string mom, string avg, double momentum, bool centered)
    {
        yield return velocity;
        if (momentum > 0) yield return mom;
        if (centered) yield return avg;
    }

    // compile_config.optimizer is a string ("adam", Keras's get() alias) or a serialized optimizer {class_name, config}.
    private static bool Describe(JsonElement compileConfig, out string cls, out JsonElement config, out string? name)
    {
        cls = "";
        config = default;
        name = null;
        if (compileConfig.ValueKind != JsonValueKind.Object || !compileConfig.TryGetProperty("optimizer", out var o)) return false;
        if (o.ValueKind == JsonValueKind.String)
        {
            string alias = o.GetString()!;
            cls = alias.ToLowerInvariant() switch
            {
                "adam" => "Adam",
                "adamw" => "AdamW",
                "sgd" => "SGD",
                "rmsprop" => "RMSprop",
                "adagrad" => "Adagrad",
                _ => alias,
            };
            return true;
        }
        if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty("class_name", out var c) || c.ValueKind != JsonValueKind.String) return false;
        cls = c.GetString()!;
        if (o.TryGetProperty("config", out config) && config.ValueKind == JsonValueKind.Object
            && config.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
            name = n.GetString();
        return true;
    }

    // Keras 3 names an optimizer by auto_name(class) ("adam"); tf-keras by the class name ("Adam").
    private static string DefaultName(string cls, string family) => family == "keras3" ? Keras3Walk.ToSnakeCase(cls) : cls;

    private static bool Bool(JsonElement config, string key) =>
        config.ValueKind == JsonValueKind.Object && config.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.True;

    private static double Number(JsonElement config, string key) =>
        config.ValueKind == JsonValueKind.Object && config.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;
}
