using System.Buffers.Binary;
using System.Text;
using WeightScope.Modules;
using WeightScope.Printing;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.PyTorch;

/// <summary>
/// TorchScript archives assembled here, record by record, one per bug of the naming rule and the printer: the parts of
/// data.pkl, constants.pkl and code/ that python_print and the TorchScript pickler write (torch/csrc/jit/serialization/
/// python_print.cpp, pickler.cpp), each field commented.
/// </summary>
public class TorchScriptCraftedTests
{
    private const byte NewObj = 0x81, NewTrue = 0x88;

    // code/__torch__.py: the root class. `k` is a Final tuple constant (the value that printed `System.Object[]`).
    private const string RootSource = """
        class Net(Module):
          __parameters__ = ["w", ]
          __buffers__ = []
          w : Tensor
          training : bool
          conv : __torch__.torch.ao.nn.quantized.modules.conv.Conv2d
          packed : __torch__.torch.classes.quantized.LinearPackedParamsBase
          k : Final[Tuple[int, int]] = (3, 3)
        """;

    // code/__torch__/torch/ao/nn/quantized/modules/conv.py: a quantized conv pickles its __getstate__ tuple;
    // __setstate__ names the items and packs two of them (the layout of torch's _ConvNd, shortened).
    private const string ConvSource = """
        class Conv2d(Module):
          __parameters__ = []
          __buffers__ = []
          training : bool
          in_channels : int
          scale : float
          zero_point : int
          def __setstate__(self: __torch__.torch.ao.nn.quantized.modules.conv.Conv2d,
            state: Tuple[int, Tensor, Optional[Tensor], float, int, bool]) -> NoneType:
            self.in_channels = (state)[0]
            _0 = (self).set_weight_bias((state)[1], (state)[2], )
            self.scale = (state)[3]
            self.zero_point = (state)[4]
            self.training = (state)[5]
            return None
        """;

    private static byte[] DataPkl()
    {
        var p = new PickleWriter();
        p.Global("__torch__", "Net").Op(')').Op(NewObj);                        // Net.__new__(Net)
        p.Op('}').Op('(');                                                       // its attributes, in slot order:
        p.Str("w").Tensor("0", 2, 0, [2], [1]);                                  //   w: parameter, data/0
        p.Str("training").Op(NewTrue);                                           //   training: True
        p.Str("conv").Global("__torch__.torch.ao.nn.quantized.modules.conv", "Conv2d").Op(')').Op(NewObj);
        p.Op('(').Int(1)                                                         //   conv state: (in_channels=1,
            .Tensor("1", 4, 0, [4], [1])                                         //     weight → set_weight_bias, data/1,
            .Op('N')                                                             //     bias None,
            .Float(0.5).Int(3).Op(NewTrue).Op('t').Op('b');                      //     scale, zero_point, training); BUILD
        p.Str("packed").Global("__torch__.torch.classes.quantized", "LinearPackedParamsBase").Op(')').Op(NewObj);
        p.Op('(').Tensor("2", 3, 0, [3], [1]).Op('N').Op('t').Op('b');           //   packed: torchbind, state (weight data/2, None)
        p.Op('u').Op('b');                                                       // SETITEMS, BUILD
        return p.Stop();
    }

    private static byte[] ConstantsPkl() =>
        new PickleWriter().Op('(').Tensor("0", 1, 0, [], []).Op('t').Stop();   // (tensor constants/0,)

    private static ModelFile Open() => TorchZip.Open(TorchZip.Build([
        ("a/data/0", TorchZip.Floats(1, 2)),
        ("a/data/1", TorchZip.Floats(3, 4, 5, 6)),
        ("a/data/2", TorchZip.Floats(7, 8, 9)),
        ("a/data.pkl", DataPkl()),
        ("a/code/__torch__.py", Encoding.UTF8.GetBytes(RootSource)),
        ("a/code/__torch__/torch/ao/nn/quantized/modules/conv.py", Encoding.UTF8.GetBytes(ConvSource)),
        ("a/constants/0", TorchZip.Floats(10)),
        ("a/constants.pkl", ConstantsPkl()),
        ("a/version", "3\n"u8.ToArray()),
    ]));

    [Fact]
    public void The_state_dict_comes_first_then_packed_weights_then_constants()
    {
        using var m = Open();
        Assert.Equal(["w", "packed.0", "conv.weight", "conv.scale", "conv.zero_point", "constants.0"], m.Tensors.Select(t => t.Name));
        Assert.Equal([TensorRole.Parameter, TensorRole.Packed, TensorRole.Packed, TensorRole.Packed, TensorRole.Packed, TensorRole.Constant],
            m.Tensors.Select(t => t.Role));
        Assert.Equal(["w"], new TensorQuery { StateDictOnly = true }.Apply(m).Select(t => t.Name));
    }

    [Fact]
    public void A_setstate_tuple_is_named_by_setstate_and_its_packed_pair_is_weight_and_bias()
    {
        // The bug: a quantized conv's tuple state was not walked, so its weight was listed under no name at all.
        using var m = Open();
        Assert.Equal([3f, 4f, 5f, 6f], m.Tensors["conv.weight"].ToFloat32());
        Assert.DoesNotContain(m.Tensors, t => t.Name == "conv.bias"); // None: as state_dict() skips None
        var conv = m.Modules.Child("conv")!;
        Assert.Equal(1L, conv.Attributes["in_channels"]);
        Assert.Equal(0.5, conv.Attributes["scale"]);
        // scale and zero_point as the eager _save_to_state_dict makes them: torch.tensor(0.5), torch.tensor(3)
        Assert.Equal(DType.Float32, m.Tensors["conv.scale"].DType);
        Assert.Equal([0.5f], m.Tensors["conv.scale"].ToFloat32());
        Assert.Equal(DType.Int64, m.Tensors["conv.zero_point"].DType);
        Assert.Equal([3.0], m.Tensors["conv.zero_point"].ToFloat64());
    }

    [Fact]
    public void A_torchbind_object_is_flattened_by_its_getstate_tuple()
    {
        using var m = Open();
        Assert.Equal([7f, 8f, 9f], m.Tensors["packed.0"].ToFloat32());
        Assert.Equal([10f], m.Tensors["constants.0"].ToFloat32());
    }

    [Fact]
    public void Final_tuples_are_python_tuples_and_the_tree_is_torchs()
    {
        // The bug: `k : Final[Tuple[int, int]] = (3, 3)` reached the printers as "System.Object[]".
        using var m = Open();
        Assert.Equal("(3, 3)", PythonRepr.Of(m.Modules.Attributes["k"]));
        Assert.Equal("RecursiveScriptModule(\n  original_name=Net\n  (conv): RecursiveScriptModule(original_name=Conv2d)\n)",
            TreePrinter.Format(m.Modules));
    }

    [Fact]
    public void A_data_pkl_that_is_no_module_is_refused_with_the_entry()
    {
        var bytes = TorchZip.Build([
            ("a/data.pkl", new PickleWriter().Int(7).Stop()),                    // data.pkl: the int 7
            ("a/constants.pkl", new PickleWriter().Op(')').Stop()),             // ()
            ("a/version", "3\n"u8.ToArray()),
        ]);
        var e = Assert.Throws<InvalidModelContentException>(() => TorchZip.Open(bytes));
        Assert.Equal("a/data.pkl", e.Entry);
        Assert.Contains("should hold a TorchScript module", e.Message);
    }
}

public class TorchScriptMobileFlatbufferTests
{
    [Fact]
    public void A_mobile_flatbuffer_file_is_named_and_refused()
    {
        // The first bytes torch 1.13's _save_for_lite_interpreter(path, _use_flatbuffer=True) writes: the root table
        // offset (0x24, little-endian uint32), then the file identifier "PTMF" (mobile_bytecode.fbs), then the vtable.
        byte[] bytes = [0x24, 0, 0, 0, .. "PTMF"u8, 0x1c, 0x00, 0x34, 0x00, 0x04, 0x00, 0x08, 0x00];
        var e = Assert.Throws<UnsupportedModelFeatureException>(() => TorchZip.Open(bytes));
        Assert.Equal(WeightScope.Formats.PyTorch.TorchScriptFormat.FormatName, e.Format);
        Assert.Contains("flatbuffer", e.Message);
        Assert.Contains("_use_flatbuffer", e.Message);
    }
}

internal static class PickleWriterExtensions
{
    /// <summary>BINFLOAT: 'G' and the double, big-endian.</summary>
    public static PickleWriter Float(this PickleWriter p, double v)
    {
        p.Op('G');
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(b, v);
        foreach (var x in b) p.Op(x);
        return p;
    }
}
