using System.Globalization;
using System.Text;
using WeightScope.Export;
using WeightScope.Tensors;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Export;

/// <summary>C headers: gcc compiles them and a C program prints every element, compared with the source tensors' values.</summary>
public sealed class CHeaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-cheader-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>Writes the header, a C program printing every element of every array, compiles and runs it.</summary>
    private string[] CompileAndPrint(IReadOnlyList<ExportTensor> tensors, CHeaderOptions options, string std = "-std=c11")
    {
        var ids = CIdentifiers.Assign(tensors.Select(t => t.Name));
        var header = new StringWriter { NewLine = "\n" };
        CHeader.Write(tensors, ids, "model weights", header, options);
        File.WriteAllText(Path.Combine(_dir, "model.h"), header.ToString());
        var c = new StringBuilder("#include <stdio.h>\n#include \"model.h\"\n#include \"model.h\" /* twice: the include guard must hold */\nint main(void) {\n");
        for (int k = 0; k < tensors.Count; k++)
        {
            string ctype = CHeader.CType(tensors[k]), macro = ids[k].ToUpperInvariant();
            (string fmt, string cast) = ctype switch
            {
                "float" => ("%.9g", "(double)"),
                "double" => ("%.17g", "(double)"),
                "uint64_t" => ("%llu", "(unsigned long long)"),
                _ => ("%lld", "(long long)"),
            };
            c.Append($"  printf(\"# %s %d\\n\", \"{ids[k]}\", (int){macro}_SIZE);\n");
            c.Append($"  {{ const {ctype} *p = (const {ctype} *)&{ids[k]}; for (long i = 0; i < {macro}_SIZE; i++) printf(\"{fmt}\\n\", {cast}p[i]); }}\n");
            if (tensors[k].Quantized is { Axis: null } q)
                c.Append($"  printf(\"scale %.9g zp %d\\n\", (double){macro}_SCALE, (int){macro}_ZERO_POINT);\n");
        }
        c.Append("  return 0;\n}\n");
        File.WriteAllText(Path.Combine(_dir, "main.c"), c.ToString());
        ExternalTools.Run(_dir, "gcc", std, "-Wall", "-Wextra", "-Werror", "-pedantic", "-o", "main", "main.c");
        return ExternalTools.Run(_dir, Path.Combine(_dir, "main")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static double ParseC(string s) => s switch
    {
        "nan" or "-nan" => double.NaN,
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        _ => double.Parse(s, CultureInfo.InvariantCulture),
    };

    private static List<TensorEntry> Real(string fixture) =>
        ModelFile.Open(TestPaths.Fixture("pytorch", fixture)).Tensors.Where(t => !t.DType.IsComplex() && t.ElementCount > 0).ToList();

    [ToolFact("gcc")]
    public void Gcc_reads_back_every_element_of_every_dtype_exactly()
    {
        var sources = Real("every_dtype.pt").Concat(Real("special_values.pt").Select(t => t.With(name: "special." + t.Name)))
            .Concat(Real("simple_nn_state_dict.pth")).ToList();
        foreach (var (flat, align, section) in new[] { (false, (int?)null, (string?)null), (true, 16, ".rodata.weights") })
        {
            var tensors = sources.Select(t => ExportTensor.Create(t)).ToList();
            var lines = CompileAndPrint(tensors, new CHeaderOptions { Flat = flat, Align = align, Section = section });
            int pos = 0;
            foreach (var src in sources)
            {
                Assert.StartsWith("# ", lines[pos++]);
                if (src.DType is DType.Int64) Assert.Equal(src.ToArray<long>(), lines[pos..(pos + (int)src.ElementCount)].Select(long.Parse));
                else if (src.DType.IsFloatingPoint())
                {
                    var expected = src.ToFloat64();
                    for (int i = 0; i < expected.Length; i++)
                    {
                        double got = ParseC(lines[pos + i]);
                        // Exact: float32 through "%.9g" and double through "%.17g" read back to the same bits.
                        if (double.IsNaN(expected[i])) Assert.True(double.IsNaN(got), $"{src.Name}[{i}]");
                        else if (src.DType == DType.Float64) Assert.Equal(BitConverter.DoubleToInt64Bits(expected[i]), BitConverter.DoubleToInt64Bits(got));
                        else Assert.Equal(BitConverter.SingleToInt32Bits((float)expected[i]), BitConverter.SingleToInt32Bits((float)got));
                    }
                }
                else Assert.Equal(src.ToFloat64(), lines[pos..(pos + (int)src.ElementCount)].Select(s => (double)long.Parse(s, CultureInfo.InvariantCulture)));
                pos += (int)src.ElementCount;
            }
            Assert.Equal(lines.Length, pos);
        }
    }

    [ToolFact("gcc")]
    public void Gcc_reads_quantized_words_and_their_scale_and_zero_point()
    {
        var fc1 = ModelFile.Open(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth")).Tensors["fc1.weight"];
        var tensors = new[]
        {
            ExportTensor.Create(fc1, new ExportEncoding { IntegerBits = 8, Scheme = IntegerScheme.Asymmetric }),
            ExportTensor.Create(fc1.With(name: "fc1.q16"), new ExportEncoding { IntegerBits = 16 }),
            ExportTensor.Create(fc1.With(name: "fc1.fixed"), new ExportEncoding { Fixed = QFormat.Parse("Q0.7") }),
            ExportTensor.Create(fc1.With(name: "fc1.pc"), new ExportEncoding { IntegerBits = 8, PerChannelAxis = 0 }),
            ExportTensor.Create(fc1.With(name: "fc1.fixed32"), new ExportEncoding { Fixed = QFormat.Parse("Q1.30") }),
        };
        var lines = CompileAndPrint(tensors, new CHeaderOptions(), "-std=c99");
        int pos = 0;
        foreach (var t in tensors)
        {
            Assert.StartsWith("# ", lines[pos++]);
            Assert.Equal(t.Words!, lines[pos..(pos + 50)].Select(long.Parse));
            pos += 50;
            if (t.Quantized!.Axis is null)
            {
                var parts = lines[pos++].Split(' ');
                Assert.Equal((float)t.Quantized.Scales[0], float.Parse(parts[1], CultureInfo.InvariantCulture));
                Assert.Equal(t.Quantized.ZeroPoints[0], long.Parse(parts[3], CultureInfo.InvariantCulture));
            }
        }
        Assert.Contains("int8_t fc1_weight[5][10]", File.ReadAllText(Path.Combine(_dir, "model.h")));
        Assert.Contains("int32_t fc1_fixed32[5][10]", File.ReadAllText(Path.Combine(_dir, "model.h")));
        Assert.Contains("static const float fc1_pc_scale[5]", File.ReadAllText(Path.Combine(_dir, "model.h")));
    }

    [ToolFact("gcc")]
    public void Gcc_reads_the_integers_and_parameters_of_stored_quantized_tensors()
    {
        // torch's int_repr() and q_scale()/q_zero_point(), saved beside the fixture when torch wrote it.
        var path = TestPaths.Fixture("pytorch", "quantized.pt");
        using var expected = System.Text.Json.JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("pytorch", "quantized.expected.json")));
        var cases = expected.RootElement.GetProperty("tensors").EnumerateArray()
            .Where(e => e.TryGetProperty("int_repr", out _) && e.GetProperty("q").GetProperty("qscheme").GetString()!.EndsWith("_affine", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(cases);
        var model = ModelFile.Open(path);
        var tensors = cases.Select(e => ExportTensor.Create(model.Tensors[e.GetProperty("name").GetString()!])).ToList();
        var lines = CompileAndPrint(tensors, new CHeaderOptions());
        int pos = 0;
        foreach (var (e, t) in cases.Zip(tensors))
        {
            Assert.True(t.IsStoredQuantization);
            Assert.StartsWith("# ", lines[pos++]);
            var ints = e.GetProperty("int_repr").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            Assert.Equal(ints, lines[pos..(pos + ints.Length)].Select(long.Parse));
            pos += ints.Length;
            var q = e.GetProperty("q");
            if (q.TryGetProperty("scale", out var scale))
            {
                var parts = lines[pos++].Split(' ');
                Assert.Equal((float)scale.GetDouble(), float.Parse(parts[1], CultureInfo.InvariantCulture));
                Assert.Equal(q.GetProperty("zero_point").GetInt64(), long.Parse(parts[3], CultureInfo.InvariantCulture));
            }
            else
            {
                Assert.Equal(q.GetProperty("axis").GetInt32(), t.Quantized!.Axis);
                Assert.Equal(q.GetProperty("zero_points").EnumerateArray().Select(x => x.GetInt64()), t.Quantized.ZeroPoints);
            }
        }
        var header = File.ReadAllText(Path.Combine(_dir, "model.h"));
        Assert.Contains("static const uint8_t per_tensor_quint8[2][5]", header);
        Assert.Contains("static const int32_t per_tensor_qint32[2][5]", header);
    }

    [ToolFact("g++")]
    public void Headers_compile_as_cpp_too()
    {
        // Tensor names that are C++ keywords, quantized per-channel arrays, NaN/Inf macros, attributes: all valid C++17.
        var sources = ModelFile.Open(TestPaths.Fixture("pytorch", "special_values.pt")).Tensors.ToList();
        var tensors = sources.Select(t => ExportTensor.Create(t.With(name: t.Name == "float32" ? "class" : t.Name))).ToList();
        var fc1 = ModelFile.Open(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth")).Tensors["fc1.weight"];
        tensors.Add(ExportTensor.Create(fc1.With(name: "new"), new ExportEncoding { IntegerBits = 8, PerChannelAxis = 0 }));
        var ids = CIdentifiers.Assign(tensors.Select(t => t.Name));
        Assert.Equal("class_", ids[0]);
        var header = new StringWriter { NewLine = "\n" };
        CHeader.Write(tensors, ids, "cpp", header, new CHeaderOptions { Align = 64, Section = ".rodata.w" });
        File.WriteAllText(Path.Combine(_dir, "model.h"), header.ToString());
        File.WriteAllText(Path.Combine(_dir, "main.cpp"), """
            #include <cstdio>
            #include "model.h"
            int main() { std::printf("%g %d %g\n", (double)class_[7], (int)new_[4][9], (double)new__scale[4]); return 0; }
            """);
        ExternalTools.Run(_dir, "g++", "-std=c++17", "-Wall", "-Werror", "-Wno-unused-variable", "-o", "main", "main.cpp");
        var printed = ExternalTools.Run(_dir, Path.Combine(_dir, "main")).Trim().Split(' ');
        Assert.Equal(sources[0].ToFloat64()[7], double.Parse(printed[0], CultureInfo.InvariantCulture));
        Assert.Equal(tensors[^1].Words![49], long.Parse(printed[1], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Headers_have_guard_shape_macros_and_attributes()
    {
        var conv = ModelFile.Open(TestPaths.Fixture("pytorch", "resnet_tiny_state_dict.pth")).Tensors["conv1.weight"];
        var w = new StringWriter { NewLine = "\n" };
        CHeader.Write([ExportTensor.Create(conv)], ["conv1_weight"], "resnet", w, new CHeaderOptions { Align = 32, Section = ".rodata.w" });
        var h = w.ToString();
        Assert.Contains("#ifndef RESNET_H\n#define RESNET_H\n", h);
        Assert.Contains("#define CONV1_WEIGHT_DIMS 4\n#define CONV1_WEIGHT_SHAPE_0 4\n#define CONV1_WEIGHT_SHAPE_1 3\n#define CONV1_WEIGHT_SHAPE_2 7\n#define CONV1_WEIGHT_SHAPE_3 7\n#define CONV1_WEIGHT_SIZE 588\n", h);
        Assert.Contains("static const float conv1_weight[4][3][7][7] __attribute__((aligned(32), section(\".rodata.w\"))) = {", h);
        Assert.EndsWith("#endif /* RESNET_H */\n", h);
    }

    [Fact]
    public void Bad_alignment_section_and_empty_tensors_are_refused_with_the_reason()
    {
        var t = ExportTensor.Create(ModelFile.Open(TestPaths.Fixture("pytorch", "every_dtype.pt")).Tensors["int8"]);
        var empty = ExportTensor.Create(ModelFile.Open(TestPaths.Fixture("pytorch", "every_dtype.pt")).Tensors["empty"]);
        Assert.Contains("power of two", Assert.Throws<ModelWriteException>(() => CHeader.Write([t], ["x"], "g", TextWriter.Null, new CHeaderOptions { Align = 12 })).Message);
        Assert.Contains("section name", Assert.Throws<ModelWriteException>(() => CHeader.Write([t], ["x"], "g", TextWriter.Null, new CHeaderOptions { Section = "a\"b" })).Message);
        Assert.Contains("no zero-length arrays", Assert.Throws<ModelWriteException>(() => CHeader.Write([empty], ["x"], "g", TextWriter.Null)).Message);
    }

    [Fact]
    public void Column_major_headers_declare_reversed_dimensions_and_the_declared_axis()
    {
        var conv = ModelFile.Open(TestPaths.Fixture("pytorch", "resnet_tiny_state_dict.pth")).Tensors["conv1.weight"]; // [4, 3, 7, 7]
        var t = ExportTensor.Create(conv, new ExportEncoding { IntegerBits = 8, PerChannelAxis = 0 }, ElementOrder.Column);
        var w = new StringWriter { NewLine = "\n" };
        CHeader.Write([t], ["w"], "g", w);
        var h = w.ToString();
        Assert.Contains("#define W_SHAPE_0 7\n#define W_SHAPE_1 7\n#define W_SHAPE_2 3\n#define W_SHAPE_3 4\n", h);
        Assert.Contains("#define W_AXIS 3\n", h);
        Assert.Contains("static const int8_t w[7][7][3][4] = {", h);
    }

    [Fact]
    public void Float_literals_are_the_shortest_that_read_back_exactly()
    {
        Assert.Equal("1.0f", CHeader.Float(1f));
        Assert.Equal("-0.0f", CHeader.Float(-0f));
        Assert.Equal("0.1f", CHeader.Float(0.1f));
        Assert.Equal("1E-45f", CHeader.Float(float.Epsilon));
        Assert.Equal("-INFINITY", CHeader.Float(float.NegativeInfinity));
        Assert.Equal("NAN", CHeader.Float(float.NaN));
        Assert.Equal("0.1", CHeader.Double(0.1));
        Assert.Equal("2.0", CHeader.Double(2));
    }

    [Fact]
    public void Identifiers_are_valid_c_and_unique_ignoring_case()
    {
        Assert.Equal("fc1_weight", CIdentifiers.Sanitize("fc1.weight"));
        Assert.Equal("conv_weight_0_0_0", CIdentifiers.Sanitize("conv.weight[0,0,0,:]"));
        Assert.Equal("t_0_weight", CIdentifiers.Sanitize("0.weight"));
        Assert.Equal("float_", CIdentifiers.Sanitize("float"));
        Assert.Equal("dense_kernel_0", CIdentifiers.Sanitize("dense/kernel:0"));
        Assert.Equal("tensor", CIdentifiers.Sanitize("..."));
        // "a.b" and "a_b" meet; "A.B" meets both through the upper-cased macros; "a" derives A_SIZE, which "a.size" would be.
        Assert.Equal(["a_b", "a_b_2", "A_B_3", "a", "a_size_2"], CIdentifiers.Assign(["a.b", "a_b", "A.B", "a", "a.size"]));
    }
}
