using System.Globalization;
using System.Numerics;
using System.Text.Json;
using WeightScope.Export;
using WeightScope.Tensors;
using WeightScope.Tests.Interop;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Export;

/// <summary>.mem, .coe and .mif: two's complement words at several widths, checked against Python and BigInteger arithmetic, and loaded by iverilog.</summary>
public sealed class MemoryFileTests : IDisposable
{
    private static readonly int[] Widths = [4, 5, 8, 10, 12, 16, 31, 32, 64];

    private readonly string _dir = Directory.CreateTempSubdirectory("ws-memfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>An in-memory int32 tensor.</summary>
    private static TensorEntry Int32s(string name, params int[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return new TensorEntry(name, DType.Int32, new Shape(values.Length), new ArrayStorage(bytes, name));
    }

    // Values that fit in 4 signed bits, so every width can hold them: both ends of the range, -1, 0.
    private static readonly int[] Small = [-8, -7, -2, -1, 0, 1, 5, 7];

    private static string[] Words(string text, string commentPrefix) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith(commentPrefix, StringComparison.Ordinal)).ToArray();

    private static string Mem(ExportTensor t, int width, Radix radix)
    {
        var w = new StringWriter { NewLine = "\n" };
        MemFile.Write(t, w, new MemoryFileOptions { Width = width, Radix = radix });
        return w.ToString();
    }

    [PythonFact("json")]
    public void Negative_words_match_pythons_masking_at_every_width()
    {
        var t = ExportTensor.Create(Int32s("w", Small));
        var expected = JsonDocument.Parse(Python.Run("""
            import json, sys
            vals = json.loads(sys.argv[1]); out = {}
            for w in json.loads(sys.argv[2]):
                m = (1 << w) - 1
                out[str(w)] = {"hex": [format(v & m, "x").zfill((w + 3) // 4) for v in vals], "bin": [format(v & m, "b").zfill(w) for v in vals]}
            print(json.dumps(out))
            """, JsonSerializer.Serialize(Small), JsonSerializer.Serialize(Widths))).RootElement;
        foreach (var width in Widths)
        {
            var e = expected.GetProperty(width.ToString(CultureInfo.InvariantCulture));
            Assert.Equal(e.GetProperty("hex").EnumerateArray().Select(x => x.GetString()), Words(Mem(t, width, Radix.Hex), "//"));
            Assert.Equal(e.GetProperty("bin").EnumerateArray().Select(x => x.GetString()), Words(Mem(t, width, Radix.Binary), "//"));
        }
    }

    [Fact]
    public void Negative_words_match_modular_arithmetic_at_every_width()
    {
        // Independent of the implementation's bit masking: (2^w + v) mod 2^w with BigInteger, printed digit by digit.
        var t = ExportTensor.Create(Int32s("w", Small));
        foreach (var width in Widths)
        {
            var modulus = BigInteger.Pow(2, width);
            var expected = Small.Select(v => Digits((modulus + v) % modulus, 16, (width + 3) / 4)).ToArray();
            Assert.Equal(expected, Words(Mem(t, width, Radix.Hex), "//"));
            var coe = new StringWriter { NewLine = "\n" };
            Coe.Write(t, coe, new MemoryFileOptions { Width = width, Radix = Radix.Decimal });
            Assert.Equal(Small.Select(v => Digits((modulus + v) % modulus, 10, 1)),
                Words(coe.ToString(), ";").Skip(2).Select(l => l.TrimEnd(',', ';')));
        }
    }

    private static string Digits(BigInteger v, int radix, int minDigits)
    {
        var s = "";
        do { s = "0123456789abcdef"[(int)(v % radix)] + s; v /= radix; } while (v > 0);
        return s.PadLeft(minDigits, '0');
    }

    [Fact]
    public void Int32_extremes_use_all_32_bits()
    {
        var t = ExportTensor.Create(Int32s("w", int.MinValue, int.MaxValue, -1));
        Assert.Equal(["80000000", "7fffffff", "ffffffff"], Words(Mem(t, 32, Radix.Hex), "//"));
        Assert.Equal(["ffffffff80000000", "000000007fffffff", "ffffffffffffffff"], Words(Mem(t, 64, Radix.Hex), "//"));
    }

    [Fact]
    public void Words_that_do_not_fit_and_float_values_are_refused_before_writing()
    {
        var t = ExportTensor.Create(Int32s("w", 3, -9));
        var w = new StringWriter();
        var e = Assert.Throws<ModelWriteException>(() => MemFile.Write(t, w, new MemoryFileOptions { Width = 4 }));
        Assert.Equal("w: element 1 = -9 does not fit in 4 signed bits; use a wider --width (at least 5)", e.Message);
        Assert.Equal("", w.ToString());
        var fc1 = ExportTensor.Create(ModelFile.Open(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth")).Tensors["fc1.weight"]);
        e = Assert.Throws<ModelWriteException>(() => Coe.Write(fc1, w));
        Assert.Contains("fc1.weight is float32; quantize it (--fixed Q3.12, --int8, --int16) or write its raw IEEE bits (--float-bits)", e.Message);
        Assert.Equal("", w.ToString());
    }

    [Fact]
    public void Coe_and_mif_have_their_headers_and_every_word()
    {
        var t = ExportTensor.Create(ModelFile.Open(TestPaths.Fixture("pytorch", "every_dtype.pt")).Tensors["int16"]);
        var values = ModelFile.Open(TestPaths.Fixture("pytorch", "every_dtype.pt")).Tensors["int16"].ToArray<short>();
        var coe = new StringWriter { NewLine = "\n" };
        Coe.Write(t, coe, new MemoryFileOptions { Radix = Radix.Binary });
        var lines = Words(coe.ToString(), ";");
        Assert.Equal("memory_initialization_radix=2;", lines[0]);
        Assert.Equal("memory_initialization_vector=", lines[1]);
        Assert.EndsWith(";", lines[^1]);
        Assert.Equal(values.Select(v => (short)Convert.ToUInt16(v.ToString("b"), 2)), lines[2..].Select(l => (short)Convert.ToUInt16(l.TrimEnd(',', ';'), 2)));

        var mif = new StringWriter { NewLine = "\n" };
        Mif.Write(t, mif, new MemoryFileOptions { Radix = Radix.Decimal });
        lines = Words(mif.ToString(), "--");
        Assert.Equal(["WIDTH=16;", $"DEPTH={values.Length};", "ADDRESS_RADIX=UNS;", "DATA_RADIX=DEC;", "CONTENT BEGIN"], lines[..5]);
        Assert.Equal("END;", lines[^1]);
        Assert.Equal(values.Select((v, i) => $"\t{i} : {v};"), lines[5..^1]);
    }

    [Fact]
    public void Float_bits_are_the_raw_ieee_words()
    {
        var f = ModelFile.Open(TestPaths.Fixture("pytorch", "every_dtype.pt")).Tensors["float32"];
        var t = ExportTensor.Create(f, new ExportEncoding { FloatBits = true });
        Assert.Equal(f.ToArray<float>().Select(v => BitConverter.SingleToUInt32Bits(v).ToString("x8")), Words(Mem(t, 32, Radix.Hex), "//"));
    }

    [ToolFact("iverilog", "vvp")]
    public void Iverilog_readmemh_and_readmemb_load_the_words()
    {
        // Quantized real weights plus the extreme small values, at a width that is not a multiple of 4.
        var fc1 = ModelFile.Open(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth")).Tensors["fc1.weight"];
        var q = ExportTensor.Create(fc1, new ExportEncoding { Fixed = QFormat.Parse("Q1.10") });
        foreach (var (t, radix) in new[] { (q, Radix.Hex), (q, Radix.Binary), (ExportTensor.Create(Int32s("s", Small)), Radix.Hex) })
        {
            const int width = 12;
            File.WriteAllText(Path.Combine(_dir, "w.mem"), Mem(t, width, radix));
            File.WriteAllText(Path.Combine(_dir, "tb.v"), $$"""
                module tb;
                  reg [{{width - 1}}:0] mem [0:{{t.Count - 1}}];
                  integer i;
                  initial begin
                    $readmem{{(radix == Radix.Hex ? "h" : "b")}}("w.mem", mem);
                    for (i = 0; i < {{t.Count}}; i = i + 1) $display("%0d", $signed(mem[i]));
                    $finish;
                  end
                endmodule
                """);
            ExternalTools.Run(_dir, "iverilog", "-o", "tb.vvp", "tb.v");
            var output = ExternalTools.Run(_dir, "vvp", "-n", "tb.vvp").Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(l => !l.Contains("$finish", StringComparison.Ordinal)).ToArray();
            Assert.Equal(t.Words!, output.Select(l => long.Parse(l, CultureInfo.InvariantCulture)));
        }
    }
}
