using System.Globalization;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using WeightScope.Tests;
using WeightScope.Tests.Interop;
using Xunit;
using static TorchSharp.torch;

namespace WeightScope.TorchSharp.Tests;

/// <summary>
/// Keras models loaded into the equivalent TorchSharp modules compute what torch computes from the same Keras arrays:
/// the reference reads the file with h5py and converts each layer as torch's layer documentation lays it out
/// (Linear weight = kernelᵀ; LSTM weight_ih = kernelᵀ with the same i, f, g, o blocks and bias_hh = 0; GRU r, z, n
/// blocks taken from Keras's z, r, h and the reset_after bias rows as bias_ih and bias_hh; BatchNorm eps = Keras's 1e-3),
/// written apart from the library, in numpy, and runs the forward pass in torch.
/// </summary>
public sealed class KerasForwardTests
{
    // The reference: torch modules filled from a Keras file's arrays, run on x = linspace(-1, 1) of the given shape.
    private const string RecurrentReference = """
        import io, json, sys, zipfile
        import h5py, numpy as np, torch
        z = zipfile.ZipFile(sys.argv[1]); f = h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')
        v = lambda p: np.array(f[p])
        def blocks(m, order, n):  # rows of a torch-layout matrix/vector regrouped by gate
            u = m.shape[0] // n
            return np.concatenate([m[i * u:(i + 1) * u] for i in order])
        lstm = torch.nn.LSTM(3, 2, batch_first=True); gru = torch.nn.GRU(2, 3, batch_first=True); out = torch.nn.Linear(3, 2)
        with torch.no_grad():
            k, r, b = v('layers/lstm/cell/vars/0'), v('layers/lstm/cell/vars/1'), v('layers/lstm/cell/vars/2')
            lstm.weight_ih_l0.copy_(torch.from_numpy(k.T.copy())); lstm.weight_hh_l0.copy_(torch.from_numpy(r.T.copy()))
            lstm.bias_ih_l0.copy_(torch.from_numpy(b)); lstm.bias_hh_l0.zero_()
            k, r, b = v('layers/gru/cell/vars/0'), v('layers/gru/cell/vars/1'), v('layers/gru/cell/vars/2')
            zrh_to_rzn = [1, 0, 2]
            gru.weight_ih_l0.copy_(torch.from_numpy(blocks(k.T, zrh_to_rzn, 3))); gru.weight_hh_l0.copy_(torch.from_numpy(blocks(r.T, zrh_to_rzn, 3)))
            gru.bias_ih_l0.copy_(torch.from_numpy(blocks(b[0], zrh_to_rzn, 3))); gru.bias_hh_l0.copy_(torch.from_numpy(blocks(b[1], zrh_to_rzn, 3)))
            out.weight.copy_(torch.from_numpy(v('layers/dense/vars/0').T.copy())); out.bias.copy_(torch.from_numpy(v('layers/dense/vars/1')))
            x = torch.linspace(-1, 1, 2 * 5 * 3).reshape(2, 5, 3)
            y = out(gru(lstm(x)[0])[0])
        print(json.dumps([float(t) for t in y.flatten()]))
        """;

    private const string DenseBatchNormReference = """
        import json, sys
        import h5py, numpy as np, torch
        f = h5py.File(sys.argv[1], 'r')['model_weights']
        v = lambda layer, name: torch.from_numpy(np.array(f[layer][layer][name + ':0']))
        layers = []
        for dense, bn, n_in, n_out in [('fc1_relu', 'bn1', 16, 64), ('fc2_relu', 'bn2', 64, 32), ('fc3_relu', 'bn3', 32, 32), ('output_softmax', 'bn4', 32, 5)]:
            lin = torch.nn.Linear(n_in, n_out); norm = torch.nn.BatchNorm1d(n_out, eps=1e-3)
            with torch.no_grad():
                lin.weight.copy_(v(dense, 'kernel').T); lin.bias.copy_(v(dense, 'bias'))
                norm.weight.copy_(v(bn, 'gamma')); norm.bias.copy_(v(bn, 'beta'))
                norm.running_mean.copy_(v(bn, 'moving_mean')); norm.running_var.copy_(v(bn, 'moving_variance'))
            layers += [lin, norm]
        model = torch.nn.Sequential(*layers).eval()
        with torch.no_grad():
            y = model(torch.linspace(-1, 1, 3 * 16).reshape(3, 16))
        print(json.dumps([float(t) for t in y.flatten()]))
        """;

    private sealed class Recurrent : nn.Module<Tensor, Tensor>
    {
        private readonly LSTM _lstm;
        private readonly GRU _gru;
        private readonly Linear _out;

        public Recurrent(string lstm, string gru, string linear) : base(nameof(Recurrent))
        {
            _lstm = nn.LSTM(3, 2, batchFirst: true);
            _gru = nn.GRU(2, 3, batchFirst: true);
            _out = nn.Linear(3, 2);
            register_module(lstm, _lstm);
            register_module(gru, _gru);
            register_module(linear, _out);
        }

        public override Tensor forward(Tensor x) => _out.forward(_gru.forward(_lstm.forward(x).Item1).Item1);
    }

    private static float[] Reference(string script, string path) =>
        JsonSerializer.Deserialize<float[]>(Python.Run(script, path))!;

    private static void AssertClose(float[] expected, Tensor actual)
    {
        var got = actual.contiguous().data<float>().ToArray();
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(expected[i] - got[i]) <= 1e-5f, $"[{i}] torch {expected[i].ToString("R", CultureInfo.InvariantCulture)}, TorchSharp {got[i].ToString("R", CultureInfo.InvariantCulture)}");
    }

    [PythonTheory("torch", "h5py")]
    [InlineData("encoder", "decoder", "out")]   // the Keras layer names: paired by name
    [InlineData("rnn1", "rnn2", "fc")]          // other names: paired in order, as Keras's set_weights does
    public void Lstm_gru_dense_keras3_computes_what_torch_computes(string lstm, string gru, string linear)
    {
        var path = TestPaths.Fixture("keras", "keras3_deflated.keras");
        using var model = new Recurrent(lstm, gru, linear);
        var result = model.LoadWeights(path);
        Assert.True(result.IsComplete, result.DescribeProblems());
        Assert.Contains(result.Loaded, l => l.Name == $"{gru}.weight_ih_l0" && l.Transform!.Contains("r, z, n", StringComparison.Ordinal));
        Assert.Contains(result.Loaded, l => l.Name == $"{lstm}.bias_hh_l0" && l.Transform!.StartsWith("zeros", StringComparison.Ordinal));
        model.eval();
        using var x = torch.linspace(-1, 1, 2 * 5 * 3).reshape(2, 5, 3);
        AssertClose(Reference(RecurrentReference, path), model.forward(x));
    }

    [PythonFact("torch", "h5py")]
    public void Dense_batchnorm_keras2_h5_computes_what_torch_computes()
    {
        Assert.True(TestPaths.CorpusAvailable, $"shared corpus not found at {TestPaths.Corpus}");
        var path = TestPaths.CorpusFile("keras-h5/hls4ml/keras_3layer_batch_norm.h5");
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        foreach (var (i, n_in, n_out) in new[] { (1, 16, 64), (2, 64, 32), (3, 32, 32), (4, 32, 5) })
        {
            layers.Add(($"fc{i}", nn.Linear(n_in, n_out)));
            layers.Add(($"bn{i}", nn.BatchNorm1d(n_out, eps: 1e-3)));
        }
        using var model = nn.Sequential(layers);
        var result = model.LoadWeights(path);
        Assert.True(result.IsComplete, result.DescribeProblems());
        Assert.Contains(result.Warnings, w => w.StartsWith("Keras layers paired with the module's in order", StringComparison.Ordinal));
        model.eval();
        using var x = torch.linspace(-1, 1, 3 * 16).reshape(3, 16);
        AssertClose(Reference(DenseBatchNormReference, path), model.forward(x));
    }

    // Keras 3's zoo fixture: a Bidirectional LSTM, a DepthwiseConv1D, a Conv1DTranspose and a SimpleRNN, each converted
    // here in numpy from the arrays as stored, then run by torch on linspace inputs.
    private const string ZooReference = """
        import io, json, sys, zipfile
        import h5py, numpy as np, torch
        z = zipfile.ZipFile(sys.argv[1]); f = h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')
        v = lambda p: torch.from_numpy(np.ascontiguousarray(np.array(f['layers/' + p])))
        x = lambda *shape: torch.linspace(-1, 1, int(np.prod(shape))).reshape(*shape)
        out = {}
        with torch.no_grad():
            lstm = torch.nn.LSTM(4, 2, batch_first=True, bidirectional=True)
            for d, s in (('forward_layer', ''), ('backward_layer', '_reverse')):
                getattr(lstm, 'weight_ih_l0' + s).copy_(v(f'bidirectional/{d}/cell/vars/0').T)
                getattr(lstm, 'weight_hh_l0' + s).copy_(v(f'bidirectional/{d}/cell/vars/1').T)
                getattr(lstm, 'bias_ih_l0' + s).copy_(v(f'bidirectional/{d}/cell/vars/2'))
                getattr(lstm, 'bias_hh_l0' + s).zero_()
            out['bidi'] = lstm(x(1, 5, 4))[0]
            dw = torch.nn.Conv1d(5, 5, 3, groups=5, bias=False)
            dw.weight.copy_(v('depthwise_conv1d/vars/0').permute(1, 2, 0))        # (k, in, 1) -> (in, 1, k)
            out['dw'] = dw(x(1, 5, 7))
            deconv = torch.nn.ConvTranspose1d(5, 2, 3)
            deconv.weight.copy_(v('conv1d_transpose/vars/0').permute(2, 1, 0))   # (k, out, in) -> (in, out, k)
            deconv.bias.copy_(v('conv1d_transpose/vars/1'))
            out['deconv'] = deconv(x(1, 5, 7))
            rnn = torch.nn.RNN(2, 3, bias=False, batch_first=True)
            rnn.weight_ih_l0.copy_(v('simple_rnn/cell/vars/0').T); rnn.weight_hh_l0.copy_(v('simple_rnn/cell/vars/1').T)
            out['srnn'] = rnn(x(1, 5, 2))[0]
        print(json.dumps({k: [float(t) for t in y.flatten()] for k, y in out.items()}))
        """;

    [PythonFact("torch", "h5py")]
    public void Bidirectional_depthwise_transposed_conv_and_simple_rnn_compute_what_torch_computes()
    {
        var path = TestPaths.Fixture("keras", "keras3_zoo.keras");
        var bidi = nn.LSTM(4, 2, batchFirst: true, bidirectional: true);
        var dw = nn.Conv1d(5, 5, 3, groups: 5, bias: false);
        var deconv = nn.ConvTranspose1d(5, 2, 3);
        var srnn = nn.RNN(2, 3, bias: false, batchFirst: true);
        using var model = new Bag(("bidi", bidi), ("dw", dw), ("deconv", deconv), ("srnn", srnn));
        // The zoo has layers these four are not (attention, einsum, normalization…): not strict, and every module key loaded.
        var result = model.LoadWeights(path, new LoadOptions { Strict = false });
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.ShapeMismatches);
        var expected = JsonSerializer.Deserialize<Dictionary<string, float[]>>(Python.Run(ZooReference, path))!;
        Tensor X(params long[] shape) => torch.linspace(-1, 1, shape.Aggregate(1L, (a, b) => a * b)).reshape(shape);
        using var scope = torch.NewDisposeScope();
        AssertClose(expected["bidi"], bidi.forward(X(1, 5, 4)).Item1);
        AssertClose(expected["dw"], dw.forward(X(1, 5, 7)));
        AssertClose(expected["deconv"], deconv.forward(X(1, 5, 7)));
        AssertClose(expected["srnn"], srnn.forward(X(1, 5, 2), null).Item1);
    }
}
