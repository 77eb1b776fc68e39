using System.Security.Cryptography;
using System.Text.Json;
using WeightScope.Export;
using WeightScope.Tensors;
using WeightScope.Tests.Interop;
using Xunit;

namespace WeightScope.Tests.Export;

/// <summary>
/// <see cref="GateSplit"/> against the frameworks' own gates: torch's <c>chunk(G, 0)</c> of modules loaded from the
/// fixtures, numpy's <c>np.split(v, G, axis=-1)</c> of Keras cells, and, for ONNX, torch's gates of the modules that
/// torch.onnx.export turned into GRU/LSTM nodes (gate_split_answers.py wrote all three).
/// </summary>
public sealed class GateSplitTests
{
    private static JsonElement Json(params string[] path) => JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture(path))).RootElement;

    private static readonly GateSplitOptions Detect = new();

    // Our PyTorch naming: ih/hh becomes i<gate>/h<gate> (W_ir, b_hn in torch's docs), the rest of the name kept.
    private static string TorchGateName(string source, char gate) =>
        source.Replace("weight_ih", "weight_i" + gate).Replace("weight_hh", "weight_h" + gate)
              .Replace("bias_ih", "bias_i" + gate).Replace("bias_hh", "bias_h" + gate);

    private static void AssertGate(JsonElement expected, TensorEntry actual)
    {
        Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), actual.Shape);
        Assert.Equal(expected.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble()), actual.ToFloat32());
    }

    [Theory]
    [InlineData("gru_lstm_state_dict.pt", "gru_lstm_state_dict.pt")]
    [InlineData("gru_whole.pt", "gru_lstm_state_dict.pt")] // the same model pickled whole: a typed module tree, same names
    [InlineData("gate_split_cells.pt", "gate_split_cells.pt")]
    public void PyTorch_gates_are_torch_chunks_named_by_torch_letters(string file, string answers)
    {
        using var model = ModelFile.Open(TestPaths.Fixture("pytorch", file));
        var result = GateSplit.Run(model, Detect);
        Assert.Empty(result.Notes);
        var expected = Json("pytorch", "gru_lstm_gates.json").GetProperty("files").GetProperty(answers).EnumerateArray().ToList();
        Assert.Equal(expected.Select(e => e.GetProperty("source").GetString()), result.Split.Select(s => s.Source));
        var byName = result.Tensors.ToDictionary(t => t.Name);
        foreach (var e in expected)
        {
            string source = e.GetProperty("source").GetString()!;
            var record = Assert.Single(result.Split, s => s.Source == source);
            var gates = e.GetProperty("gates").EnumerateObject().ToList();
            Assert.Equal(GateLayout.PyTorch, record.Layout);
            Assert.Equal(e.GetProperty("cell").GetString() == "GRU" ? RecurrentCell.Gru : RecurrentCell.Lstm, record.Cell);
            Assert.Equal(string.Concat(gates.Select(g => g.Name)), record.Gates);
            Assert.Equal(gates.Select(g => TorchGateName(source, g.Name[0])), record.Outputs);
            foreach (var g in gates)
            {
                var view = byName[TorchGateName(source, g.Name[0])];
                AssertGate(g.Value, view);
                Assert.Same(model.Tensors[source].Storage, view.Storage); // a view, not a copy
            }
            Assert.DoesNotContain(source, byName.Keys);
        }
        // Everything not split passes through unchanged, in place (the LSTM projection weight_hr_l0 has no gates).
        var kept = model.Tensors.Where(t => !result.Split.Any(s => s.Source == t.Name)).ToList();
        Assert.All(kept, t => Assert.Same(t, byName[t.Name]));
        Assert.Equal(model.Tensors.Count + result.Split.Sum(s => s.Outputs.Count - 1), result.Tensors.Count);
        if (file == "gate_split_cells.pt") Assert.Contains(kept, t => t.Name == "proj.weight_hr_l0");
    }

    [Fact]
    public void PyTorch_split_replaces_each_tensor_in_place_in_gate_order()
    {
        using var model = ModelFile.Open(TestPaths.Fixture("pytorch", "gru_lstm_state_dict.pt"));
        var names = GateSplit.Apply(model.Tensors, Detect).Select(t => t.Name).ToList();
        Assert.Equal(["gru.weight_ir_l0", "gru.weight_iz_l0", "gru.weight_in_l0", "gru.weight_hr_l0"], names.Take(4));
        Assert.Equal(["lstm.bias_hi_l0", "lstm.bias_hf_l0", "lstm.bias_hg_l0", "lstm.bias_ho_l0"], names.TakeLast(4));
        Assert.Contains("gru.bias_hn_l1_reverse", names);
    }

    [Theory]
    [InlineData("z,r,h", "zrn", "ifgo")] // a GRU order leaves LSTMs in storage order
    [InlineData("z,r,n", "zrn", "ifgo")]
    [InlineData("nrz", "nrz", "ifgo")]
    [InlineData("i,o,f,c", "rzn", "iofg")] // c is g
    [InlineData(" I, F, G, O ", "rzn", "ifgo")]
    [InlineData("onnx", "zrn", "iofg")] // a framework's order for both cells
    [InlineData("Keras", "zrn", "ifgo")]
    [InlineData("pytorch", "rzn", "ifgo")]
    public void Gate_order_reorders_outputs_and_keeps_source_letters_in_names(string order, string gru, string lstm)
    {
        using var model = ModelFile.Open(TestPaths.Fixture("pytorch", "gru_lstm_state_dict.pt"));
        var result = GateSplit.Run(model, new GateSplitOptions { GateOrder = order });
        var expected = Json("pytorch", "gru_lstm_gates.json").GetProperty("files").GetProperty("gru_lstm_state_dict.pt");
        var byName = result.Tensors.ToDictionary(t => t.Name);
        foreach (var record in result.Split)
        {
            string want = record.Cell == RecurrentCell.Gru ? gru : lstm;
            Assert.Equal(want, record.Gates);
            Assert.Equal(want.Select(g => TorchGateName(record.Source, g)), record.Outputs);
            var gates = expected.EnumerateArray().Single(e => e.GetProperty("source").GetString() == record.Source).GetProperty("gates");
            foreach (char g in want) AssertGate(gates.GetProperty(g.ToString()), byName[TorchGateName(record.Source, g)]);
        }
        // The output sequence follows the order: the first GRU tensor's gates come first, in that order.
        Assert.Equal(gru.Select(g => TorchGateName("gru.weight_ih_l0", g)), result.Tensors.Take(3).Select(t => t.Name));
    }

    [Theory]
    [InlineData("r,z", "has 3 gates, the order names 2")]
    [InlineData("r,z,z", "the gate 'zz' appears more than once")]
    [InlineData("n,r,h", "the gate 'nh' appears more than once")] // h is n
    [InlineData("x,y,z", "'x' is not a gate letter")]
    [InlineData("r,z,n,i", "it mixes GRU and LSTM gates")]
    [InlineData("i,f,g", "has 4 gates, the order names 3")]
    [InlineData("i,f,gg,o", "'gg' is not a gate letter")]
    [InlineData("tensorflow", "'t' is not a gate letter")]
    public void Invalid_gate_orders_say_why_and_list_the_valid_letters(string order, string why)
    {
        using var model = ModelFile.Open(TestPaths.Fixture("pytorch", "gru_lstm_state_dict.pt"));
        var e = Assert.Throws<ArgumentException>(() => GateSplit.Apply(model, new GateSplitOptions { GateOrder = order }));
        Assert.Contains($"invalid gate order '{order}'", e.Message);
        Assert.Contains(why, e.Message);
        Assert.Contains("each of r, z, n once", e.Message);
        Assert.Contains("each of i, f, g, o once", e.Message);
        Assert.Contains("pytorch, keras, onnx", e.Message);
    }

    [Fact]
    public void Keras3_lstm_and_reset_after_gru_gates_are_numpy_splits()
    {
        using var model = ModelFile.Open(TestPaths.Fixture("keras", "keras3_deflated.keras"));
        var result = GateSplit.Run(model, Detect);
        Assert.Empty(result.Notes);
        var byName = result.Tensors.ToDictionary(t => t.Name);
        var layers = Json("keras", "keras3_gates.json").GetProperty("layers");
        int outputs = 0;
        foreach (var layer in layers.EnumerateArray())
        {
            string prefix = $"{layer.GetProperty("layer").GetString()}/{layer.GetProperty("class").GetString()!.ToLowerInvariant()}_cell/";
            foreach (var variable in layer.GetProperty("variables").EnumerateObject())
                foreach (var gate in variable.Value.EnumerateObject())
                {
                    AssertGate(gate.Value, byName[$"{prefix}{variable.Name}_{gate.Name}"]);
                    outputs++;
                }
        }
        Assert.Equal(outputs, result.Split.Sum(s => s.Outputs.Count));
        Assert.Equal(["encoder/lstm_cell/kernel", "encoder/lstm_cell/recurrent_kernel", "encoder/lstm_cell/bias",
                      "decoder/gru_cell/kernel", "decoder/gru_cell/recurrent_kernel", "decoder/gru_cell/bias"], result.Split.Select(s => s.Source));
        Assert.All(result.Split, s => Assert.Equal(GateLayout.Keras, s.Layout));
        var gruBias = result.Split.Single(s => s.Source == "decoder/gru_cell/bias");
        Assert.Equal(["decoder/gru_cell/input_bias_z", "decoder/gru_cell/input_bias_r", "decoder/gru_cell/input_bias_h",
                      "decoder/gru_cell/recurrent_bias_z", "decoder/gru_cell/recurrent_bias_r", "decoder/gru_cell/recurrent_bias_h"], gruBias.Outputs);
        // The Dense layer and the optimizer's slots (same shapes as the cells' variables) are left whole.
        Assert.Same(model.Tensors["out/kernel"], byName["out/kernel"]);
        Assert.Same(model.Tensors["adam/encoder_lstm_cell_kernel_momentum"], byName["adam/encoder_lstm_cell_kernel_momentum"]);
    }

    [Fact]
    public void Keras3_unnamed_cell_variables_are_found_by_position_and_shape()
    {
        // The reader's fallback names (cell/vars/0..2) when a layer is not in its table: same tensors, renamed.
        using var model = ModelFile.Open(TestPaths.Fixture("keras", "keras3_deflated.keras"));
        string[] vars = ["kernel", "recurrent_kernel", "bias"];
        var renamed = model.Tensors.Select(t => t.Name.StartsWith("encoder/lstm_cell/", StringComparison.Ordinal)
            ? t.With(name: "encoder/cell/vars/" + Array.IndexOf(vars, t.Name["encoder/lstm_cell/".Length..])) : t).ToList();
        var result = GateSplit.Run(renamed, new GateSplitOptions { Layout = GateLayout.Keras, GateOrder = "i,f,g,o" });
        var byName = result.Tensors.ToDictionary(t => t.Name);
        var encoder = Json("keras", "keras3_gates.json").GetProperty("layers")[0];
        Assert.Equal("encoder", encoder.GetProperty("layer").GetString());
        for (int v = 0; v < 3; v++)
            foreach (var gate in encoder.GetProperty("variables").GetProperty(vars[v]).EnumerateObject())
                AssertGate(gate.Value, byName[$"encoder/cell/vars/{v}_{gate.Name}"]);
        Assert.Equal(["encoder/cell/vars/0", "encoder/cell/vars/1", "encoder/cell/vars/2", "decoder/gru_cell/kernel",
                      "decoder/gru_cell/recurrent_kernel", "decoder/gru_cell/bias"], result.Split.Select(s => s.Source));
        // A Dense layer's vars/0 and vars/1 are not a cell: vars/1 is a bias, not a [H, G*H] matrix.
        var dense = model.Tensors.Select(t => t.Name.StartsWith("out/", StringComparison.Ordinal) ? t.With(name: "out/vars/" + (t.Shape.Rank == 2 ? 0 : 1)) : t).ToList();
        Assert.DoesNotContain(GateSplit.Run(dense, Detect).Split, s => s.Source.StartsWith("out/", StringComparison.Ordinal));
    }

    [Fact]
    public void Onnx_gates_from_torch_export_equal_torch_gates_under_onnx_letters()
    {
        using var model = ModelFile.Open(TestPaths.Fixture("onnx", "gru_lstm.onnx"));
        var result = GateSplit.Run(model, Detect);
        Assert.Empty(result.Notes);
        var byName = result.Tensors.ToDictionary(t => t.Name);
        // The GRU node reads W, R, B; the LSTM node too (torch.onnx.export's initializer names).
        Assert.Equal(["onnx::GRU_280", "onnx::GRU_281", "onnx::GRU_282", "onnx::LSTM_301", "onnx::LSTM_302", "onnx::LSTM_303"],
            result.Split.Select(s => s.Source));
        Assert.All(result.Split, s => Assert.Equal(GateLayout.Onnx, s.Layout));
        Assert.Equal(["zrh", "zrh", "zrh", "iofc", "iofc", "iofc"], result.Split.Select(s => s.Gates));
        var gates = Json("onnx", "gru_lstm_gates.json").GetProperty("gates").EnumerateArray().ToList();
        // torch's letter for each ONNX letter: the same gate (n = h, g = c).
        static char TorchLetter(char onnx) => onnx switch { 'h' => 'n', 'c' => 'g', _ => onnx };
        var map = new[]
        {
            ("onnx::GRU_281", "", "gru.weight_ih_l0"), ("onnx::GRU_282", "", "gru.weight_hh_l0"),
            ("onnx::GRU_280", "Wb", "gru.bias_ih_l0"), ("onnx::GRU_280", "Rb", "gru.bias_hh_l0"),
            ("onnx::LSTM_301", "", "lstm.weight_ih_l0"), ("onnx::LSTM_302", "", "lstm.weight_hh_l0"),
            ("onnx::LSTM_303", "Wb", "lstm.bias_ih_l0"), ("onnx::LSTM_303", "Rb", "lstm.bias_hh_l0"),
        };
        int compared = 0;
        foreach (var (onnx, part, torch) in map)
            foreach (var reverse in onnx.Contains("GRU") ? new[] { false, true } : [false])
            {
                var source = result.Split.Single(s => s.Source == onnx);
                var expected = gates.Single(g => g.GetProperty("source").GetString() == torch + (reverse ? "_reverse" : "")).GetProperty("gates");
                foreach (char letter in source.Gates)
                {
                    AssertGate(expected.GetProperty(TorchLetter(letter).ToString()), byName[$"{onnx}_{part}{letter}{(reverse ? "_reverse" : "")}"]);
                    compared++;
                }
            }
        Assert.Equal(result.Split.Sum(s => s.Outputs.Count), compared);
        Assert.Same(model.Tensors["/gru/Constant_output_0"], byName["/gru/Constant_output_0"]); // initial_h stays whole
    }

    [Fact]
    public void Onnx_needs_the_graph_and_a_forced_layout_finds_only_its_own_framework()
    {
        using var onnx = ModelFile.Open(TestPaths.Fixture("onnx", "gru_lstm.onnx"));
        var tensorsOnly = GateSplit.Run(onnx.Tensors, new GateSplitOptions { Layout = GateLayout.Onnx });
        Assert.Empty(tensorsOnly.Split);
        Assert.Contains(tensorsOnly.Notes, n => n.Contains("GRU/LSTM nodes", StringComparison.Ordinal));

        using var torch = ModelFile.Open(TestPaths.Fixture("pytorch", "gru_lstm_state_dict.pt"));
        Assert.Empty(GateSplit.Run(torch, new GateSplitOptions { Layout = GateLayout.Keras }).Split);
        Assert.Empty(GateSplit.Run(torch, new GateSplitOptions { Layout = GateLayout.Onnx }).Split);
        Assert.Equal(20, GateSplit.Run(torch, new GateSplitOptions { Layout = GateLayout.PyTorch }).Split.Count);
        using var keras = ModelFile.Open(TestPaths.Fixture("keras", "keras3_deflated.keras"));
        Assert.Empty(GateSplit.Run(keras, new GateSplitOptions { Layout = GateLayout.PyTorch }).Split);
    }

    [Fact]
    public void A_gate_name_that_repeats_an_existing_tensor_is_refused()
    {
        using var model = ModelFile.Open(TestPaths.Fixture("pytorch", "gate_split_cells.pt"));
        var tensors = model.Tensors.Append(model.Tensors["gru_cell.bias_ih"].With(name: "gru_cell.weight_iz")).ToList();
        var e = Assert.Throws<InvalidOperationException>(() => GateSplit.Apply(tensors, Detect));
        Assert.Contains("'gru_cell.weight_iz' (a gate of 'gru_cell.weight_ih')", e.Message);
    }

    [Fact]
    public void A_recurrent_matrix_without_3_or_4_gates_is_left_whole_with_a_note()
    {
        // An nn.RNN's weight_hh is [H, H]: no gates. Made from a real GRU weight by slicing one gate.
        using var model = ModelFile.Open(TestPaths.Fixture("pytorch", "gate_split_cells.pt"));
        var hh = model.Tensors["gru_cell.weight_hh"];
        var rnn = new[] { hh.Slice("[0:2]").With(name: "rnn.weight_hh_l0"), model.Tensors["gru_cell.bias_ih"].With(name: "rnn.bias_ih_l0") };
        var result = GateSplit.Run(rnn, Detect);
        Assert.Empty(result.Split);
        Assert.Equal(rnn, result.Tensors);
        Assert.Contains("rnn.weight_hh_l0: [2, 2] is not 3 or 4 gates of hidden size 2; left whole", result.Notes);
    }

    // --- corpus: numpy's split of the same h5 datasets ------------------------------------------------------

    private sealed class CorpusPythonFactAttribute : FactAttribute
    {
        public CorpusPythonFactAttribute()
        {
            if (!TestPaths.CorpusAvailable) Skip = $"shared corpus not found at {TestPaths.Corpus}";
            else if (!Python.Has("h5py", "numpy")) Skip = $"{Python.Interpreter} with h5py and numpy not available";
        }
    }

    // Keras 2 h5: each layer group's weight_names attribute holds Keras's own names (lstm_1/kernel:0), the layer's class
    // comes from model_config (a Bidirectional's from its inner layer). Keras 3 .weights.h5 without a config: the model
    // JSON beside it; layers/<snake_case class>[_k]/cell/vars/0..2 are kernel, recurrent_kernel, bias, and Keras 3 names
    // them <layer>/<class>_cell/<variable>. Prints, per split tensor, sha256 of each gate's bytes.
    private const string CorpusScript = """
        import hashlib, json, sys, h5py, numpy as np
        LET = {"GRU": "zrh", "LSTM": "ifco"}
        path, cfg = sys.argv[1], sys.argv[2]
        out = {}
        def add(name, cls, a):
            a = np.asarray(a)
            out[name] = {l: hashlib.sha256(np.ascontiguousarray(g).tobytes()).hexdigest() for l, g in zip(LET[cls], np.split(a, len(LET[cls]), axis=-1))}
        f = h5py.File(path, "r")
        if cfg == "-":
            layers = json.loads(f.attrs["model_config"])["config"]["layers"]
            cls = {l["config"]["name"]: (l["config"]["layer"]["class_name"] if l["class_name"] == "Bidirectional" else l["class_name"]) for l in layers}
            g = f["model_weights"]
            for layer in g.attrs["layer_names"]:
                layer = layer.decode() if isinstance(layer, bytes) else layer
                if cls.get(layer) not in LET: continue
                for wn in g[layer].attrs["weight_names"]:
                    wn = wn.decode() if isinstance(wn, bytes) else wn
                    if wn.split("/")[-1].split(":")[0] in ("kernel", "recurrent_kernel", "bias"):
                        add(wn, cls[layer], g[layer][wn])
        else:
            layers = json.load(open(cfg))["config"]["layers"]
            seen = {}
            for l in layers:
                c = l["class_name"]
                if c not in LET: continue
                k = seen.get(c, 0); seen[c] = k + 1
                grp = f["layers/" + c.lower() + ("" if k == 0 else "_%d" % k) + "/cell/vars"]
                for i, var in enumerate(("kernel", "recurrent_kernel", "bias")):
                    add("%s/%s_cell/%s" % (l["config"]["name"], c.lower(), var), c, grp[str(i)])
        print(json.dumps(out))
        """;

    [CorpusPythonFact]
    public void Keras_corpus_gates_equal_numpy_splits()
    {
        (string file, string config)[] files =
        [
            ("keras-h5/frugally-deep/gru_stateful_tfkeras2.2.4-tf.h5", "-"),
            ("keras-h5/frugally-deep/lstm_bidirectional_keras2.2.5.h5", "-"),
            ("keras3/emoji-lstm/emoji_lstm_model.weights.h5", TestPaths.CorpusFile("keras3/emoji-lstm/emoji_lstm_model.json")),
        ];
        foreach (var (file, config) in files)
        {
            string path = TestPaths.CorpusFile(file);
            var expected = JsonDocument.Parse(Python.Run(CorpusScript, path, config)).RootElement.EnumerateObject().ToList();
            Assert.NotEmpty(expected);
            using var model = ModelFile.Open(path);
            var result = GateSplit.Run(model, Detect);
            Assert.Equal(expected.Select(e => e.Name).Order(StringComparer.Ordinal), result.Split.Select(s => s.Source).Order(StringComparer.Ordinal));
            var byName = result.Tensors.ToDictionary(t => t.Name);
            foreach (var e in expected)
            {
                var record = result.Split.Single(s => s.Source == e.Name);
                Assert.Equal(string.Concat(e.Value.EnumerateObject().Select(g => g.Name)), record.Gates);
                int colon = e.Name.LastIndexOf(':');
                string stem = colon < 0 ? e.Name : e.Name[..colon], tail = colon < 0 ? "" : e.Name[colon..];
                foreach (var g in e.Value.EnumerateObject())
                    Assert.Equal(g.Value.GetString(), Convert.ToHexStringLower(SHA256.HashData(byName[$"{stem}_{g.Name}{tail}"].ReadBytes())));
            }
        }
    }
}
