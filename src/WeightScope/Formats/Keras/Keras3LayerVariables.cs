using System.Text.Json;

namespace WeightScope.Formats.Keras;

/// <summary>
/// One variable a Keras 3 layer saves: where <c>save_own_variables</c> puts it (<see cref="Group"/>, relative to the
/// layer's h5 path: <c>""</c> for the layer itself, <c>cell</c> for an RNN's cell, <c>forward_layer/cell</c>…, then
/// <c>vars/&lt;Index&gt;</c>), its name below the layer (<c>kernel</c>, <c>lstm_cell/kernel</c>), and whether Keras
/// creates it trainable. <see cref="Check"/> is a shape rule implied by the config (null when there is none or no config).
/// </summary>
internal sealed record Keras3Slot(string Group, int Index, string Name, bool Trainable, Func<long[], bool>? Check);

/// <summary>
/// The table of layer class → variables, in the order the layer's <c>build()</c> creates them (Keras 3
/// <c>keras/src/layers/**</c>). <c>Layer.save_own_variables</c> writes <c>_trainable_variables +
/// _non_trainable_variables</c> as <c>vars/0, vars/1…</c>, and <c>Layer.weights</c> lists the same variables in the same
/// order, followed by each tracked sub-layer's weights (an RNN's cell, Bidirectional's forward then backward layer,
/// MultiHeadAttention's query/key/value/output projections).
/// </summary>
internal static class Keras3LayerVariables
{
    /// <summary>What a rule sees: the layer config (default when there is none) and, without a config, whether to assume
    /// the optional variables (use_bias, center, scale…) exist.</summary>
    internal sealed class Builder(JsonElement config, bool assumeOptional)
    {
        private readonly List<Keras3Slot> _slots = [];
        private string _group = "";
        private string _prefix = "";
        private int _next;

        public JsonElement Config { get; private set; } = config;

        public bool HasConfig => Config.ValueKind == JsonValueKind.Object;

        public IReadOnlyList<Keras3Slot> Slots => _slots;

        /// <summary>A boolean config entry (Keras's default when absent); without a config, the assumption.</summary>
        public bool Flag(string key, bool kerasDefault = true)
        {
            if (!HasConfig) return assumeOptional;
            return Config.TryGetProperty(key, out var v) ? v.ValueKind != JsonValueKind.False && v.ValueKind != JsonValueKind.Null : kerasDefault;
        }

        /// <summary>An integer config entry, or null.</summary>
        public long? Int(string key) =>
            HasConfig && Config.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long l) ? l : null;

        /// <summary>True when the config entry is present and null (Normalization's mean when adapted).</summary>
        public bool IsNull(string key) => !HasConfig || !Config.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null;

        /// <summary>The layer's next own variable.</summary>
        public void Var(string name, bool trainable = true, Func<long[], bool>? check = null) =>
            _slots.Add(new Keras3Slot(_group, _next++, _prefix + name, trainable, HasConfig ? check : null));

        /// <summary>The variables of a sub-layer saved under <paramref name="attribute"/> and named <paramref name="name"/>.</summary>
        public void Sub(string attribute, string name, JsonElement config, Action<Builder> rule)
        {
            var (group, prefix, next, saved) = (_group, _prefix, _next, Config);
            _group = group.Length == 0 ? attribute : group + "/" + attribute;
            _prefix = prefix + name + "/";
            _next = 0;
            Config = config;
            rule(this);
            (_group, _prefix, _next, Config) = (group, prefix, next, saved);
        }
    }

    // Shape rules: a dimension equals a config value (true when the value is unknown).
    private static Func<long[], bool> Last(long? units, long factor = 1) => s => units is null || (s.Length > 0 && s[^1] == units * factor);
    private static Func<long[], bool> Vector(long? units) => s => units is null || (s.Length == 1 && s[0] == units);

    private static void DenseRule(Builder b)
    {
        long? units = b.Int("units");
        b.Var("kernel", check: s => s.Length >= 2 && Last(units)(s));
        if (b.Flag("use_bias")) b.Var("bias", check: Vector(units));
    }

    private static void BiasedKernel(Builder b, string kernel, long? outputs)
    {
        b.Var(kernel, check: Last(outputs));
        if (b.Flag("use_bias")) b.Var("bias", check: Vector(outputs));
    }

    private static void NormRule(Builder b)
    {
        if (b.Flag("scale")) b.Var("gamma");
        if (b.Flag("center")) b.Var("beta");
    }

    // RNN cells: the layer config carries the cell's arguments (Keras 3 LSTM/GRU/SimpleRNN get_config merges them).
    private static Action<Builder> Cell(long gates) => b =>
    {
        long? units = b.Int("units");
        b.Var("kernel", check: Last(units, gates));
        b.Var("recurrent_kernel", check: s => units is null || (s.Length == 2 && s[0] == units && s[1] == units * gates));
        if (b.Flag("use_bias")) b.Var("bias", check: Last(units, gates)); // GRU reset_after: (2, 3·units)
    };

    private static Action<Builder> Rnn(string cellName, long gates) => b => b.Sub("cell", cellName, b.Config, Cell(gates));

    private static readonly Dictionary<string, Action<Builder>> Rules = new(StringComparer.Ordinal)
    {
        ["Dense"] = DenseRule,
        ["EinsumDense"] = b => { b.Var("kernel"); if (!b.IsNull("bias_axes") || !b.HasConfig) b.Var("bias"); },
        ["Conv1D"] = b => BiasedKernel(b, "kernel", b.Int("filters")),
        ["Conv2D"] = b => BiasedKernel(b, "kernel", b.Int("filters")),
        ["Conv3D"] = b => BiasedKernel(b, "kernel", b.Int("filters")),
        // Transposed kernels are (…, filters, in_channels): only the bias is checked.
        ["Conv1DTranspose"] = b => BiasedKernel(b, "kernel", null),
        ["Conv2DTranspose"] = b => BiasedKernel(b, "kernel", null),
        ["Conv3DTranspose"] = b => BiasedKernel(b, "kernel", null),
        ["DepthwiseConv1D"] = b => BiasedKernel(b, "kernel", null),
        ["DepthwiseConv2D"] = b => BiasedKernel(b, "kernel", null),
        ["SeparableConv1D"] = b => { b.Var("depthwise_kernel"); b.Var("pointwise_kernel", check: Last(b.Int("filters"))); if (b.Flag("use_bias")) b.Var("bias", check: Vector(b.Int("filters"))); },
        ["SeparableConv2D"] = b => { b.Var("depthwise_kernel"); b.Var("pointwise_kernel", check: Last(b.Int("filters"))); if (b.Flag("use_bias")) b.Var("bias", check: Vector(b.Int("filters"))); },
        ["BatchNormalization"] = b => { NormRule(b); b.Var("moving_mean", trainable: false); b.Var("moving_variance", trainable: false); },
        ["LayerNormalization"] = NormRule,
        ["GroupNormalization"] = NormRule,
        ["Embedding"] = b => b.Var("embeddings", check: Last(b.Int("output_dim"))),
        ["PReLU"] = b => b.Var("alpha"),
        ["Normalization"] = b =>
        {
            if (!b.IsNull("mean") && b.HasConfig) return; // mean/variance given in the config: constants, not variables
            b.Var("mean", trainable: false);
            b.Var("variance", trainable: false);
            b.Var("count", trainable: false);
        },
        ["LSTM"] = Rnn("lstm_cell", 4),
        ["GRU"] = Rnn("gru_cell", 3),
        ["SimpleRNN"] = Rnn("simple_rnn_cell", 1),
        ["LSTMCell"] = Cell(4),
        ["GRUCell"] = Cell(3),
        ["SimpleRNNCell"] = Cell(1),
        ["MultiHeadAttention"] = b =>
        {
            // build() creates and tracks the projections in this order; each is an EinsumDense with bias iff use_bias.
            foreach (var (attribute, name) in new[] { ("_query_dense", "query"), ("_key_dense", "key"), ("_value_dense", "value"), ("_output_dense", "attention_output") })
                b.Sub(attribute, name, b.Config, s => { s.Var("kernel"); if (s.Flag("use_bias")) s.Var("bias"); });
        },
        ["Bidirectional"] = b =>
        {
            // Keras 3 Bidirectional.__init__ re-creates the forward layer named "forward_" + name (prefix not doubled);
            // get_config saves it as "layer" and the backward one as "backward_layer" (named "backward_" + name).
            if (!b.HasConfig || !Inner(b.Config, "layer", out var cls, out var cfg, out var name) || !TryRule(cls, out var rule))
                throw new KeyNotFoundException("Bidirectional without a known inner layer");
            b.Sub("forward_layer", "forward_" + RemovePrefix(name, "forward_"), cfg, rule);
            if (Inner(b.Config, "backward_layer", out var bcls, out var bcfg, out var bname) && TryRule(bcls, out var brule))
                b.Sub("backward_layer", bname, bcfg, brule);
            else
                b.Sub("backward_layer", "backward_" + RemovePrefix(name, "backward_"), cfg, rule);
        },
        ["TimeDistributed"] = b =>
        {
            if (!b.HasConfig || !Inner(b.Config, "layer", out var cls, out var cfg, out var name) || !TryRule(cls, out var rule))
                throw new KeyNotFoundException("TimeDistributed without a known inner layer");
            b.Sub("layer", name, cfg, rule);
        },
    };

    /// <summary>The class names the table knows, by Keras's snake_case h5 name (for files without a config).</summary>
    public static IReadOnlyDictionary<string, string> BySnakeName { get; } =
        Rules.Keys.Where(k => k is not ("Bidirectional" or "TimeDistributed")).ToDictionary(Keras3Walk.ToSnakeCase, k => k, StringComparer.Ordinal);

    /// <summary>
    /// The variables of a layer of class <paramref name="className"/>, or null when the class is not in the table (or
    /// a wrapper's inner layer is not). Without a config, <paramref name="assumeOptional"/> decides optional variables.
    /// </summary>
    public static IReadOnlyList<Keras3Slot>? Slots(string className, JsonElement config, bool assumeOptional = true)
    {
        if (!Rules.TryGetValue(className, out var rule)) return null;
        var b = new Builder(config, assumeOptional);
        try { rule(b); }
        catch (KeyNotFoundException) { return null; }
        return b.Slots;
    }

    /// <summary>
    /// The Dense rule for a class the table does not know (QKeras <c>QDense</c>…), only when its config proves it: the
    /// class name ends in <c>Dense</c>, the config has integer <c>units</c> and boolean <c>use_bias</c>. The caller still
    /// checks the count and shapes.
    /// </summary>
    public static IReadOnlyList<Keras3Slot>? DenseLike(string className, JsonElement config)
    {
        if (!className.EndsWith("Dense", StringComparison.Ordinal) || config.ValueKind != JsonValueKind.Object) return null;
        if (!config.TryGetProperty("units", out var u) || u.ValueKind != JsonValueKind.Number) return null;
        if (!config.TryGetProperty("use_bias", out var ub) || ub.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) return null;
        var b = new Builder(config, true);
        DenseRule(b);
        return b.Slots;
    }

    // Wrappers look their inner layer up in the table (a method, because the table's initializer cannot name itself).
    private static bool TryRule(string cls, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Action<Builder>? rule) => Rules.TryGetValue(cls, out rule);

    private static string RemovePrefix(string s, string prefix) => s.StartsWith(prefix, StringComparison.Ordinal) ? s[prefix.Length..] : s;

    private static bool Inner(JsonElement config, string key, out string cls, out JsonElement cfg, out string name)
    {
        cls = name = "";
        cfg = default;
        if (!config.TryGetProperty(key, out var l) || l.ValueKind != JsonValueKind.Object) return false;
        if (!l.TryGetProperty("class_name", out var c) || c.ValueKind != JsonValueKind.String) return false;
        if (!l.TryGetProperty("config", out cfg) || cfg.ValueKind != JsonValueKind.Object) return false;
        cls = c.GetString()!;
        name = cfg.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : Keras3Walk.ToSnakeCase(cls);
        return true;
    }
}
