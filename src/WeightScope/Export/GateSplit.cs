using System.Text.RegularExpressions;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Export;

/// <summary>
/// Splits GRU and LSTM weights and biases, which every framework stores with the gates stacked in one tensor, into one
/// view per gate (no copies), named with the source framework's own gate letters, optionally reordered for a target.
/// </summary>
/// <remarks>
/// <para>Names follow each framework's documentation of the gates, so a gate tensor reads like the formula it feeds
/// and stays a plain identifier (a C array or a <c>.mem</c> file name needs no brackets or dots added):</para>
/// <list type="bullet">
/// <item>PyTorch: <c>ih</c>/<c>hh</c> becomes <c>i&lt;gate&gt;</c>/<c>h&lt;gate&gt;</c>, the torch.nn.GRU docs' W_ir, W_hz, b_in…:
/// <c>gru.weight_ih_l0</c> → <c>gru.weight_ir_l0</c>, <c>gru.weight_iz_l0</c>, <c>gru.weight_in_l0</c>;
/// <c>lstm.bias_hh_l1_reverse</c> → <c>lstm.bias_hi_l1_reverse</c>, <c>…_hf_…</c>, <c>…_hg_…</c>, <c>…_ho_…</c>.
/// Each gate of <c>[G*H, I]</c> is <c>[H, I]</c>.</item>
/// <item>Keras: <c>_&lt;gate&gt;</c> after the variable, Keras 2's own cell attribute names (<c>kernel_z</c>,
/// <c>recurrent_kernel_r</c>, <c>bias_h</c>; a <c>reset_after</c> GRU's <c>[2, 3H]</c> bias becomes <c>input_bias_z</c>…
/// and <c>recurrent_bias_z</c>…), before any <c>:0</c>: <c>gru_1/kernel:0</c> → <c>gru_1/kernel_z:0</c>. Each gate of
/// <c>[I, G*H]</c> is <c>[I, H]</c>. Keras 3 variables the reader could not name (<c>cell/vars/0..2</c>) are recognised
/// by position and shape and get the suffix too (<c>cell/vars/0_z</c>).</item>
/// <item>ONNX: one tensor per direction and gate, the direction axis dropped so a gate is <c>[H, I]</c> as in PyTorch;
/// the ONNX spec's symbols appended to the initializer's name: <c>W_z</c>, <c>R_h</c>, <c>B_Wbz</c>, <c>B_Rbz</c>, and
/// <c>_reverse</c> for the reverse direction (as PyTorch names it).</item>
/// </list>
/// <para>Names keep the source framework's letters even when reordered for another framework, so a name always says
/// which gate it holds in the documentation of the file it came from.</para>
/// <para>The cell is told from the recurrent matrix (its gate axis is 3 or 4 times the hidden size); the framework from the
/// names, or for ONNX from the graph's <c>GRU</c>/<c>LSTM</c> nodes (use the <see cref="ModelFile"/> overloads).</para>
/// </remarks>
public static partial class GateSplit
{
    /// <summary>The tensors with every recognised GRU/LSTM weight and bias replaced by its gates.</summary>
    /// <exception cref="ArgumentException">The gate order is invalid (the message lists the valid letters).</exception>
    /// <exception cref="InvalidOperationException">A gate name would repeat another tensor's name.</exception>
    public static IReadOnlyList<TensorEntry> Apply(IReadOnlyList<TensorEntry> tensors, GateSplitOptions options) =>
        Run(tensors, options).Tensors;

    /// <summary>The model's tensors with every GRU/LSTM weight and bias replaced by its gates (ONNX nodes found in its graph).</summary>
    /// <exception cref="ArgumentException">The gate order is invalid (the message lists the valid letters).</exception>
    /// <exception cref="InvalidOperationException">A gate name would repeat another tensor's name.</exception>
    public static IReadOnlyList<TensorEntry> Apply(ModelFile model, GateSplitOptions options) => Run(model, options).Tensors;

    /// <summary>Splits the model's recurrent weights and says which were split.</summary>
    /// <exception cref="ArgumentException">The gate order is invalid (the message lists the valid letters).</exception>
    /// <exception cref="InvalidOperationException">A gate name would repeat another tensor's name.</exception>
    public static GateSplitResult Run(ModelFile model, GateSplitOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Run(model.Tensors, options, model.HasModuleTypes ? model.Modules : null);
    }

    /// <summary>
    /// Splits recurrent weights and says which were split. <paramref name="modules"/> is the model's typed module tree,
    /// needed for ONNX (whose initializer names say nothing); PyTorch and Keras weights are found by name.
    /// </summary>
    /// <exception cref="ArgumentException">The gate order is invalid (the message lists the valid letters).</exception>
    /// <exception cref="InvalidOperationException">A gate name would repeat another tensor's name.</exception>
    public static GateSplitResult Run(IReadOnlyList<TensorEntry> tensors, GateSplitOptions options, ModuleNode? modules = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(options);
        var plan = new Plan(tensors, GateOrder.Parse(options.GateOrder));
        var layout = options.Layout;
        if (layout is null or GateLayout.Onnx)
        {
            if (modules is not null) FindOnnx(plan, modules);
            else if (layout == GateLayout.Onnx)
                plan.Notes.Add("ONNX gates are found through the graph's GRU/LSTM nodes: pass the model (or its module tree), not only its tensors");
        }
        if (layout is null or GateLayout.PyTorch) FindPyTorch(plan);
        if (layout is null or GateLayout.Keras) FindKeras(plan);
        return plan.Build();
    }

    // --- PyTorch -------------------------------------------------------------------------------------------

    // nn.GRU/nn.LSTM: weight_ih_l0, bias_hh_l1_reverse; GRUCell/LSTMCell: weight_ih, bias_hh. The prefix is the module path.
    [GeneratedRegex(@"^(?<prefix>(?:.*\.)?)(?<kind>weight|bias)_(?<side>ih|hh)(?<suffix>(?:_l\d+)?(?:_reverse)?)$", RegexOptions.CultureInvariant)]
    private static partial Regex PyTorchName();

    private static void FindPyTorch(Plan plan)
    {
        foreach (var group in plan.Unclaimed().Select(t => (t, m: PyTorchName().Match(t.Name))).Where(x => x.m.Success)
                     .GroupBy(x => (prefix: x.m.Groups["prefix"].Value, suffix: x.m.Groups["suffix"].Value)))
        {
            var (prefix, suffix) = group.Key;
            if (!plan.TryGet(prefix + "weight_hh" + suffix, out var hh) || hh.Shape.Rank != 2) continue;
            // An LSTM with proj_size has weight_hh [4H, P] and weight_hr [P, H]: the hidden size comes from weight_hr.
            long hidden = plan.TryGet(prefix + "weight_hr" + suffix, out var hr) && hr.Shape.Rank == 2 ? hr.Shape[1] : hh.Shape[1];
            if (CellOf(hh.Shape[0], hidden) is not { } cell)
            {
                plan.Notes.Add($"{hh.Name}: {hh.Shape} is not 3 or 4 gates of hidden size {hidden}; left whole");
                continue;
            }
            string letters = GateOrder.Letters(GateLayout.PyTorch, cell);
            int[] order = GateOrder.Permutation(GateLayout.PyTorch, cell, plan.Order);
            long rows = hh.Shape[0];
            foreach (var (t, m) in group)
            {
                if (t.Shape.Rank != (m.Groups["kind"].Value == "weight" ? 2 : 1) || t.Shape[0] != rows)
                {
                    plan.Notes.Add($"{t.Name}: {t.Shape} does not match {hh.Name} {hh.Shape}; left whole");
                    continue;
                }
                string head = prefix + m.Groups["kind"].Value + "_" + m.Groups["side"].Value[0];
                plan.Add(t, GateLayout.PyTorch, cell, letters, order,
                    [.. order.Select(g => (head + letters[g] + suffix, t.Slice($"[{g * hidden}:{(g + 1) * hidden}]")))]);
            }
        }
    }

    // --- Keras ---------------------------------------------------------------------------------------------

    // Keras 2 h5 (gru_1/kernel:0), Keras 3 (lstm/lstm_cell/recurrent_kernel); a Dense's kernel has no recurrent_kernel beside it.
    [GeneratedRegex(@"^(?<prefix>(?:.*/)?)(?<var>kernel|recurrent_kernel|bias)(?<tail>:\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex KerasName();

    // Keras 3 variables the reader could not name keep their h5 paths: vars/0 kernel, vars/1 recurrent kernel, vars/2 bias
    // (the order RNN cells create them in, keras/src/layers/rnn/gru.py and lstm.py build()).
    [GeneratedRegex(@"^(?<prefix>(?:.*/)?)vars/(?<index>[012])$", RegexOptions.CultureInvariant)]
    private static partial Regex KerasVarsName();

    private static readonly string[] s_kerasVariables = ["kernel", "recurrent_kernel", "bias"];

    private static void FindKeras(Plan plan)
    {
        var named = plan.Unclaimed().Select(t => (t, m: KerasName().Match(t.Name))).Where(x => x.m.Success)
            .Select(x => (x.t, key: x.m.Groups["prefix"].Value + "|" + x.m.Groups["tail"].Value, var: x.m.Groups["var"].Value,
                head: x.m.Groups["prefix"].Value + x.m.Groups["var"].Value, tail: x.m.Groups["tail"].Value));
        var positional = plan.Unclaimed().Select(t => (t, m: KerasVarsName().Match(t.Name))).Where(x => x.m.Success)
            .Select(x => (x.t, key: x.m.Groups["prefix"].Value + "|vars", var: s_kerasVariables[x.m.Groups["index"].Value[0] - '0'],
                head: x.t.Name, tail: ""));
        foreach (var group in named.Concat(positional).ToList().GroupBy(x => x.key))
        {
            var recurrent = group.FirstOrDefault(x => x.var == "recurrent_kernel").t;
            if (recurrent is null || recurrent.Shape.Rank < 2) continue;
            // Last axis G*H, the one before it H (ConvLSTM2D's [kh, kw, H, 4H] too).
            long hidden = recurrent.Shape[^2], stacked = recurrent.Shape[^1];
            if (CellOf(stacked, hidden) is not { } cell)
            {
                // vars/0..2 of any other layer land here too; only a named recurrent_kernel is worth a note.
                if (!group.Key.EndsWith("|vars", StringComparison.Ordinal))
                    plan.Notes.Add($"{recurrent.Name}: {recurrent.Shape} is not 3 or 4 gates of hidden size {hidden}; left whole");
                continue;
            }
            bool positionalGroup = group.Key.EndsWith("|vars", StringComparison.Ordinal);
            if (positionalGroup && group.Any(x => x.var == "kernel" && (x.t.Shape.Rank != recurrent.Shape.Rank || x.t.Shape[^1] != stacked)))
                continue; // not an RNN cell's variables after all
            string letters = GateOrder.Letters(GateLayout.Keras, cell);
            int[] order = GateOrder.Permutation(GateLayout.Keras, cell, plan.Order);
            foreach (var (t, _, variable, head, tail) in group)
            {
                if (t.Shape.Rank == 0 || t.Shape[^1] != stacked || (variable == "bias" && t.Shape.Rank > 2))
                {
                    plan.Notes.Add($"{t.Name}: {t.Shape} does not match {recurrent.Name} {recurrent.Shape}; left whole");
                    continue;
                }
                string Range(int g) => $"{g * hidden}:{(g + 1) * hidden}";
                if (variable == "bias" && t.Shape.Rank == 2)
                {
                    // GRU reset_after=True: row 0 the input bias, row 1 the recurrent bias (Keras 2's input_bias/recurrent_bias).
                    if (t.Shape[0] != 2)
                    {
                        plan.Notes.Add($"{t.Name}: {t.Shape} is neither [G*H] nor [2, G*H]; left whole");
                        continue;
                    }
                    string input = positionalGroup ? head + "_input_" : head[..^"bias".Length] + "input_bias_";
                    string rec = positionalGroup ? head + "_recurrent_" : head[..^"bias".Length] + "recurrent_bias_";
                    plan.Add(t, GateLayout.Keras, cell, letters, order,
                    [
                        .. order.Select(g => (input + letters[g] + tail, t.Slice($"[0, {Range(g)}]"))),
                        .. order.Select(g => (rec + letters[g] + tail, t.Slice($"[1, {Range(g)}]"))),
                    ]);
                    continue;
                }
                plan.Add(t, GateLayout.Keras, cell, letters, order,
                    [.. order.Select(g => (head + "_" + letters[g] + tail, t.Slice($"[..., {Range(g)}]")))]);
            }
        }
    }

    // --- ONNX ----------------------------------------------------------------------------------------------

    private static void FindOnnx(Plan plan, ModuleNode modules)
    {
        foreach (var node in modules.Descendants())
        {
            RecurrentCell? kind = node.Type switch { "GRU" => RecurrentCell.Gru, "LSTM" => RecurrentCell.Lstm, _ => null };
            // A PyTorch or Keras tree has GRU/LSTM modules too; only ONNX's reader qualifies types with the ai.onnx domain.
            if (kind is not { } cell || node.QualifiedType?.StartsWith("ai.onnx.", StringComparison.Ordinal) != true) continue;
            int gates = GateOrder.Count(cell);
            string direction = node.Attributes.TryGetValue("direction", out var d) && d is string s ? s : "forward";
            int directions = direction == "bidirectional" ? 2 : 1;
            long? hiddenSize = node.Attributes.TryGetValue("hidden_size", out var h) && h is long hl ? hl : null;
            // Inputs in order: X, W, R, B, sequence_lens, initial_h… ; only those that are tensors are listed, so W and R
            // are the first consecutive pair [D, G*H, I], [D, G*H, H], and B the next [D, 2*G*H].
            var inputs = node.Parameters.Values.OfType<TensorEntry>().Select(t => plan.TryGet(t.Name, out var own) ? own : null).ToList();
            int w = -1;
            for (int i = 0; i + 1 < inputs.Count && w < 0; i++)
            {
                if (inputs[i] is not { } a || inputs[i + 1] is not { } b || a.Shape.Rank != 3 || b.Shape.Rank != 3) continue;
                long hid = b.Shape[2];
                if (a.Shape[0] == directions && b.Shape[0] == directions && a.Shape[1] == gates * hid && b.Shape[1] == gates * hid
                    && (hiddenSize is null || hiddenSize == hid))
                    w = i;
            }
            if (w < 0)
            {
                plan.Notes.Add($"{node.Path}: {node.Type} node whose W and R are not initializers (or not [{directions}, {gates}*hidden, …]); left whole");
                continue;
            }
            var (W, R) = (inputs[w]!, inputs[w + 1]!);
            long hidden = R.Shape[2];
            var bias = inputs.Skip(w + 2).FirstOrDefault(t => t is { Shape.Rank: 2 } && t.Shape[0] == directions && t.Shape[1] == 2 * gates * hidden);
            string letters = GateOrder.Letters(GateLayout.Onnx, cell);
            int[] order = GateOrder.Permutation(GateLayout.Onnx, cell, plan.Order);
            string[] suffixes = directions == 2 ? ["", "_reverse"] : [direction == "reverse" ? "_reverse" : ""];
            string Range(long start, int g) => $"{start + g * hidden}:{start + (g + 1) * hidden}";
            foreach (var t in new[] { W, R })
                plan.Add(t, GateLayout.Onnx, cell, letters, order,
                    [.. suffixes.SelectMany((sfx, dir) => order.Select(g => (t.Name + "_" + letters[g] + sfx, t.Slice($"[{dir}, {Range(0, g)}]"))))]);
            if (bias is not null)
                plan.Add(bias, GateLayout.Onnx, cell, letters, order,
                [
                    .. suffixes.SelectMany((sfx, dir) =>
                        order.Select(g => (bias.Name + "_Wb" + letters[g] + sfx, bias.Slice($"[{dir}, {Range(0, g)}]")))
                        .Concat(order.Select(g => (bias.Name + "_Rb" + letters[g] + sfx, bias.Slice($"[{dir}, {Range(gates * hidden, g)}]"))))),
                ]);
        }
    }

    // --- shared --------------------------------------------------------------------------------------------

    private static RecurrentCell? CellOf(long stacked, long hidden) =>
        hidden <= 0 ? null : stacked == 3 * hidden ? RecurrentCell.Gru : stacked == 4 * hidden ? RecurrentCell.Lstm : null;

    /// <summary>The splits found so far, by the index of the tensor they replace.</summary>
    private sealed class Plan(IReadOnlyList<TensorEntry> tensors, GateOrder.ParsedOrder? order)
    {
        private readonly Dictionary<string, int> _index = Index(tensors);
        // By reference: a file may repeat a name, and the entry found is the one replaced.
        private readonly Dictionary<TensorEntry, int> _position = Positions(tensors);
        private readonly Dictionary<int, (GateSplitRecord Record, TensorEntry[] Outputs)> _splits = [];

        public GateOrder.ParsedOrder? Order { get; } = order;

        public List<string> Notes { get; } = [];

        private static Dictionary<string, int> Index(IReadOnlyList<TensorEntry> tensors)
        {
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < tensors.Count; i++) index.TryAdd(tensors[i].Name, i);
            return index;
        }

        private static Dictionary<TensorEntry, int> Positions(IReadOnlyList<TensorEntry> tensors)
        {
            var positions = new Dictionary<TensorEntry, int>(ReferenceEqualityComparer.Instance);
            for (int i = 0; i < tensors.Count; i++) positions.TryAdd(tensors[i], i);
            return positions;
        }

        public bool TryGet(string name, out TensorEntry tensor)
        {
            bool found = _index.TryGetValue(name, out int i);
            tensor = found ? tensors[i] : null!;
            return found;
        }

        /// <summary>Tensors no layout has claimed yet (an ONNX node's initializer is not read again by name).</summary>
        public IEnumerable<TensorEntry> Unclaimed() => tensors.Where((_, i) => !_splits.ContainsKey(i));

        public void Add(TensorEntry source, GateLayout layout, RecurrentCell cell, string letters, int[] order,
            IReadOnlyList<(string Name, TensorEntry View)> gates)
        {
            int i = _position[source];
            if (_splits.ContainsKey(i)) return; // an initializer shared by two ONNX nodes is split once
            var outputs = gates.Select(g => g.View.With(name: g.Name)).ToArray();
            var record = new GateSplitRecord(source.Name, layout, cell, string.Concat(order.Select(g => letters[g])), [.. outputs.Select(o => o.Name)]);
            _splits[i] = (record, outputs);
        }

        public GateSplitResult Build()
        {
            var result = new List<TensorEntry>(tensors.Count);
            var records = new List<GateSplitRecord>();
            for (int i = 0; i < tensors.Count; i++)
            {
                if (_splits.TryGetValue(i, out var split))
                {
                    result.AddRange(split.Outputs);
                    records.Add(split.Record);
                }
                else result.Add(tensors[i]);
            }
            // Tensors left whole keep their names even where a file repeats one; a gate must not take an existing name.
            var taken = new HashSet<string>(tensors.Where((_, i) => !_splits.ContainsKey(i)).Select(t => t.Name), StringComparer.Ordinal);
            foreach (var record in records)
                foreach (var name in record.Outputs)
                    if (!taken.Add(name))
                        throw new InvalidOperationException(
                            $"splitting gates would create a second tensor named '{name}' (a gate of '{record.Source}'); " +
                            "rename the clashing tensor first, or split only the tensors you need");
            return new GateSplitResult(result, records, Notes);
        }
    }
}
