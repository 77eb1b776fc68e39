using System.Globalization;
using System.Text.Json;
using WeightScope.Export;
using WeightScope.Tensors;
using WeightScope.Tests.Interop;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Export;

/// <summary>Fixed point and int8/int16 quantization, checked against torch's quantize/fake_quantize and observers.</summary>
public sealed class QuantizationTests
{
    private static readonly string Fixture = TestPaths.Fixture("pytorch", "resnet_tiny_state_dict.pth");

    // torch loads the same fixture, takes the tensor, and quantizes it with our scale and zero point (and computes its own
    // observer qparams and the error report of its integers), printing JSON.
    private const string TorchScript = """
        import json, math, sys, torch
        from torch.ao.quantization import MinMaxObserver, PerChannelMinMaxObserver
        path, name, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
        x = torch.load(path)[name].float()
        bits, axis = spec["bits"], spec["axis"]
        qmin, qmax = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        scales = torch.tensor(spec["scales"], dtype=torch.float64)
        zps = torch.tensor(spec["zero_points"], dtype=torch.int64)
        out = {}
        if bits == 8 and axis is None:
            q = torch.quantize_per_tensor(x, float(scales[0]), int(zps[0]), torch.qint8).int_repr().long()
        elif bits == 8:
            q = torch.quantize_per_channel(x, scales, zps, axis, torch.qint8).int_repr().long()
        elif axis is None:
            fq = torch.fake_quantize_per_tensor_affine(x, float(scales[0]), int(zps[0]), qmin, qmax)
            q = (torch.round(fq.double() / float(scales[0])) + int(zps[0])).long()
        else:
            fq = torch.fake_quantize_per_channel_affine(x, scales.float(), zps.int(), axis, qmin, qmax)
            shape = [1] * x.dim(); shape[axis] = -1
            q = (torch.round(fq.double() / scales.float().double().reshape(shape)) + zps.reshape(shape)).long()
        out["q"] = q.flatten().tolist()
        if spec["scheme"] is not None:
            sym = spec["scheme"] == "symmetric"
            kw = dict(dtype=torch.qint8, quant_min=-qmax if sym else qmin, quant_max=qmax,
                      qscheme=(torch.per_channel_symmetric if sym else torch.per_channel_affine) if axis is not None
                      else (torch.per_tensor_symmetric if sym else torch.per_tensor_affine))
            obs = PerChannelMinMaxObserver(ch_axis=axis, **kw) if axis is not None else MinMaxObserver(**kw)
            obs(x)
            s, z = obs.calculate_qparams()
            out["scales"] = s.reshape(-1).double().tolist(); out["zero_points"] = z.reshape(-1).long().tolist()
        shape = [1] * x.dim()
        if axis is not None: shape[axis] = -1
        back = (q.double() - zps.reshape(shape)) * scales.reshape(shape)
        err = x.double() - back
        out["max_abs_error"] = err.abs().max().item()
        out["rmse"] = math.sqrt((err ** 2).mean().item())
        out["snr_db"] = 10 * math.log10((x.double() ** 2).sum().item() / (err ** 2).sum().item())
        print(json.dumps(out))
        """;

    private static JsonElement Torch(string name, QuantizedValues q, string? scheme) =>
        JsonDocument.Parse(Python.Run(TorchScript, Fixture, name, JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["bits"] = q.Bits,
            ["axis"] = q.Axis,
            ["scheme"] = scheme,
            ["scales"] = q.Scales.ToArray(),
            ["zero_points"] = q.ZeroPoints.ToArray(),
        }))).RootElement;

    [PythonTheory("torch")]
    [InlineData("conv1.weight", 8, "symmetric", null)]
    [InlineData("conv1.weight", 8, "asymmetric", null)]
    [InlineData("conv1.weight", 8, "symmetric", 0)]
    [InlineData("conv1.weight", 8, "asymmetric", 0)]
    [InlineData("fc.weight", 8, "asymmetric", 1)]
    [InlineData("conv1.weight", 16, "symmetric", null)]
    [InlineData("conv1.weight", 16, "asymmetric", 0)]
    public void Integers_scales_and_zero_points_match_torch(string name, int bits, string scheme, int? axis)
    {
        var t = ModelFile.Open(Fixture).Tensors[name];
        var q = ExportTensor.Create(t, new ExportEncoding
        {
            IntegerBits = bits,
            PerChannelAxis = axis,
            Scheme = scheme == "symmetric" ? IntegerScheme.Symmetric : IntegerScheme.Asymmetric,
        }).Quantized!;
        var torch = Torch(name, q, bits == 8 ? scheme : null);
        Assert.Equal(torch.GetProperty("q").EnumerateArray().Select(e => e.GetInt64()), q.Words);
        if (bits == 8)
        {
            // The observer's qparams: exactly ours (both in float32).
            Assert.Equal(torch.GetProperty("scales").EnumerateArray().Select(e => e.GetDouble()), q.Scales);
            Assert.Equal(torch.GetProperty("zero_points").EnumerateArray().Select(e => e.GetInt64()), q.ZeroPoints);
        }
        AssertReport(torch, q.Report);
    }

    [PythonTheory("torch")]
    [InlineData("conv1.weight", "Q0.7")]  // 8 bits: torch.quantize_per_tensor with scale 2^-7
    [InlineData("fc.weight", "Q0.7")]
    [InlineData("conv1.weight", "Q3.12")] // 16 bits: fake_quantize with scale 2^-12
    [InlineData("conv1.weight", "Q0.3")]  // 4 bits (fake_quantize to [-8, 7]): coarse, many values saturate
    public void Fixed_point_matches_torch_with_a_power_of_two_scale(string name, string format)
    {
        var t = ModelFile.Open(Fixture).Tensors[name];
        var f = QFormat.Parse(format);
        var q = ExportTensor.Create(t, new ExportEncoding { Fixed = f }).Quantized!;
        var torch = Torch(name, q, null);
        Assert.Equal(torch.GetProperty("q").EnumerateArray().Select(e => e.GetInt64()), q.Words);
        Assert.Equal(Math.Pow(2, -f.FractionBits), q.Scales[0]);
        AssertReport(torch, q.Report);
    }

    private static void AssertReport(JsonElement torch, QuantizationReport r)
    {
        Assert.Equal(torch.GetProperty("max_abs_error").GetDouble(), r.MaxAbsError, 1e-15);
        Assert.Equal(torch.GetProperty("rmse").GetDouble(), r.Rmse, 1e-12);
        Assert.Equal(torch.GetProperty("snr_db").GetDouble(), r.SnrDb, 1e-9);
    }

    [PythonFact("json")]
    public void Truncation_and_wrap_around_match_python_integer_arithmetic()
    {
        var t = ModelFile.Open(Fixture).Tensors["conv1.weight"];
        var values = t.ToFloat64();
        // Q0.3: 4-bit words, so values beyond ±1 wrap; floor(x · 8) then the low 4 bits read as signed.
        var expected = JsonSerializer.Deserialize<long[]>(Python.Run("""
            import json, math, sys
            out = []
            for v in json.loads(sys.argv[1]):
                r = math.floor(v * 2 ** 3)
                out.append(((r + 8) % 16) - 8)
            print(json.dumps(out))
            """, JsonSerializer.Serialize(values.Select(v => v * 100)))); // scaled so many overflow
        var scaled = new TensorEntry("x", DType.Float64, t.Shape, new ArrayStorage(values.Select(v => v * 100).SelectMany(BitConverter.GetBytes).ToArray(), "x"));
        var q = ExportTensor.Create(scaled, new ExportEncoding { Fixed = QFormat.Parse("Q0.3"), Rounding = Rounding.Truncate, Overflow = Overflow.Wrap }).Quantized!;
        Assert.Equal(expected, q.Words);
        Assert.Equal(values.Count(v => Math.Floor(v * 100 * 8) is < -8 or > 7), q.Report.Saturated);
        Assert.True(q.Report.Saturated > 0);
    }

    [Fact]
    public void Saturation_counts_and_clamps_values_outside_the_range()
    {
        var values = new[] { -3.0, -1.0, 0.999, 1.0, 2.5, double.PositiveInfinity };
        var q = FixedPoint.Quantize("x", values, QFormat.Parse("Q0.7"));
        Assert.Equal([-128, -128, 127, 127, 127, 127], q.Words);
        Assert.Equal(5, q.Report.Saturated);
    }

    [Fact]
    public void Nan_and_unrepresentable_inputs_are_refused_with_the_reason()
    {
        var e = Assert.Throws<ModelWriteException>(() => FixedPoint.Quantize("w", [1.0, double.NaN], QFormat.Parse("Q3.12")));
        Assert.StartsWith("w: element 1 is NaN", e.Message);
        e = Assert.Throws<ModelWriteException>(() => IntegerQuantizer.Quantize("w", [double.NegativeInfinity], [1], 8, IntegerScheme.Symmetric));
        Assert.Contains("needs finite values", e.Message);
        e = Assert.Throws<ModelWriteException>(() => IntegerQuantizer.Quantize("w", [1.0, 2.0], [2], 8, IntegerScheme.Symmetric, axis: 1));
        Assert.Contains("axis 1 is out of range", e.Message);
        var ints = ModelFile.Open(TestPaths.Fixture("pytorch", "every_dtype.pt")).Tensors["int8"];
        // Integer tensors are kept as they are (a whole model quantizes its floats and keeps num_batches_tracked).
        var kept = ExportTensor.Create(ints, new ExportEncoding { IntegerBits = 16 });
        Assert.Null(kept.Quantized);
        Assert.Equal(8, kept.WordBits);
        Assert.Equal(ints.ToArray<sbyte>().Select(v => (long)v), kept.Words!);
        Assert.Throws<FormatException>(() => QFormat.Parse("3"));      // a bare number is not a format; "Q3" is TI's Q0.3
        Assert.Throws<FormatException>(() => QFormat.Parse("Q3.12.1"));
        Assert.Equal(new QFormat(0, 3), QFormat.Parse("Q3"));
        Assert.Contains("at most 32", Assert.Throws<FormatException>(() => QFormat.Parse("Q20.20")).Message);
        Assert.Equal(new QFormat(3, 12), QFormat.Parse("q3.12"));
        Assert.Equal(16, QFormat.Parse("Q3.12").TotalBits);
    }
}
