using System.Globalization;
using System.Text.Json;
using WeightScope.Export;
using WeightScope.Tests.Export;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary><c>weightscope export</c> end to end: files written, the --json report, usage errors, atomic replacement.</summary>
public sealed class ExportCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-export-cli-").FullName;
    private static string Model => TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth");
    private static string Resnet => TestPaths.Fixture("pytorch", "resnet_tiny_state_dict.pth");

    public void Dispose() => Directory.Delete(_dir, true);

    private string Out(string name = "out") => Path.Combine(_dir, name);

    [ToolFact("gcc", "readelf")]
    public void Single_c_header_compiles_and_puts_the_arrays_in_the_named_section()
    {
        var r = CliRunner.Run("export", Model, "--to", "c", "--single", "--align", "16", "--section", ".rodata.weights", "--out", Out());
        Assert.True(r.ExitCode == 0, r.Stderr);
        var header = Path.Combine(Out(), "simple_nn_state_dict.h");
        Assert.Equal([header], Directory.GetFiles(Out()));
        File.WriteAllText(Path.Combine(_dir, "main.c"), """
            #include <stdio.h>
            #include "out/simple_nn_state_dict.h"
            int main(void) {
              printf("%d %d %d %.9g %.9g\n", FC1_WEIGHT_SHAPE_0, FC1_WEIGHT_SHAPE_1, FC1_WEIGHT_SIZE, (double)fc1_weight[4][9], (double)fc2_bias[0]);
              printf("%d %d\n", (int)((unsigned long)fc1_weight % 16), (int)((unsigned long)fc1_bias % 16));
              return (int)(fc2_weight[0][0] > 1000.0f) + (int)FC2_WEIGHT_SIZE - 5;
            }
            """);
        ExternalTools.Run(_dir, "gcc", "-std=c11", "-Wall", "-Werror", "-o", "main", "main.c");
        var printed = ExternalTools.Run(_dir, Path.Combine(_dir, "main")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var fc1 = ModelFile.Open(Model).Tensors["fc1.weight"].ToArray<float>();
        var fc2b = ModelFile.Open(Model).Tensors["fc2.bias"].ToArray<float>();
        var parts = printed[0].Split(' ');
        Assert.Equal(["5", "10", "50"], parts[..3]);
        Assert.Equal(fc1[49], float.Parse(parts[3], CultureInfo.InvariantCulture));
        Assert.Equal(fc2b[0], float.Parse(parts[4], CultureInfo.InvariantCulture));
        Assert.Equal("0 0", printed[1]);
        // In the object file: the default linker script folds .rodata.* into .rodata when linking.
        ExternalTools.Run(_dir, "gcc", "-std=c11", "-c", "-o", "main.o", "main.c");
        Assert.Contains(" .rodata.weights ", ExternalTools.Run(_dir, "readelf", "-S", "-W", "main.o"));
    }

    [Fact]
    public void Fixed_point_mem_files_hold_the_librarys_words_and_json_reports_the_error()
    {
        var r = CliRunner.Run("export", Model, "fc1.weight", "fc2.*", "--to", "mem", "--fixed", "Q3.12", "--out", Out(), "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var tensors = doc.RootElement.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(["fc1.weight", "fc2.weight", "fc2.bias"], tensors.Select(t => t.GetProperty("name").GetString()));
        var t0 = tensors[0];
        Assert.Equal(["name", "dtype", "shape", "order", "file", "encoding", "bits", "signed", "q_format", "frac_bits", "scale", "zero_point", "report"],
            t0.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Q3.12", t0.GetProperty("encoding").GetString());
        Assert.Equal(16, t0.GetProperty("bits").GetInt32());
        Assert.Equal(Math.Pow(2, -12), t0.GetProperty("scale").GetDouble());
        var report = t0.GetProperty("report");
        Assert.Equal(["max_abs_error", "rmse", "snr_db", "saturated"], report.EnumerateObject().Select(p => p.Name));
        Assert.InRange(report.GetProperty("max_abs_error").GetDouble(), 0, Math.Pow(2, -13));
        Assert.Equal(0, report.GetProperty("saturated").GetInt64());

        var expected = ExportTensor.Create(ModelFile.Open(Model).Tensors["fc1.weight"], new ExportEncoding { Fixed = QFormat.Parse("Q3.12") });
        var path = t0.GetProperty("file").GetString()!;
        Assert.Equal(Path.Combine(Out(), "fc1_weight.mem"), path);
        var words = File.ReadAllLines(path).Where(l => !l.StartsWith("//", StringComparison.Ordinal)).ToArray();
        Assert.Equal(expected.Words!.Select(w => ((ushort)w).ToString("x4")), words);
    }

    [Fact]
    public void Text_report_names_each_file_and_the_quantization_error()
    {
        var r = CliRunner.Run("export", Resnet, "conv1.weight", "--to", "coe", "--int8", "--per-channel", "0", "--radix", "bin", "--out", Out());
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Matches(@"^conv1\.weight  float32 \[4, 3, 7, 7\] -> .*conv1_weight\.coe  \(int8 symmetric per channel \(axis 0\)\)  max\|err\| \S+  RMSE \S+  SNR \d+\.\d dB  saturated 0\n$", r.Stdout);
        Assert.Contains("memory_initialization_radix=2;", File.ReadAllText(Path.Combine(Out(), "conv1_weight.coe")));
    }

    [Fact]
    public void All_tensors_by_default_with_views_and_column_order()
    {
        var r = CliRunner.Run("export", Resnet, "--to", "txt", "--out", Out());
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(ModelFile.Open(Resnet).Tensors.Count, Directory.GetFiles(Out()).Length);

        r = CliRunner.Run("export", Resnet, "conv1.weight", "--index", "[0,0]", "--transpose", "--order", "col", "--to", "csv", "--per-line", "row", "--precision", "6", "--out", Out("v"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var file = Directory.GetFiles(Out("v")).Single();
        // [0,0] is 7x7; transposed then column-major is the original row-major order: rows of the file are conv1.weight[0,0,i,:].
        var source = ModelFile.Open(Resnet).Tensors["conv1.weight"].Slice("[0,0]");
        var expected = new StringWriter { NewLine = "\n" };
        Text.Write(ExportTensor.Create(source), expected, new TextExportOptions
        {
            Csv = true,
            PerLine = PerLine.Row,
            RoundTrip = false,
            Print = WeightScope.Printing.PrintOptions.Default with { Precision = 6 },
        });
        Assert.Equal(expected.ToString(), File.ReadAllText(file));
    }

    [Fact]
    public void Whole_model_quantization_keeps_integer_tensors_and_says_so()
    {
        var r = CliRunner.Run("export", Resnet, "--to", "mem", "--int8", "--out", Out());
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("note: bn1.num_batches_tracked is int64: written as its integers, not converted", r.Stderr);
        var words = File.ReadAllLines(Path.Combine(Out(), "bn1_num_batches_tracked.mem")).Where(l => !l.StartsWith("//", StringComparison.Ordinal));
        Assert.Equal(ModelFile.Open(Resnet).Tensors["bn1.num_batches_tracked"].ToArray<long>().Select(v => v.ToString("x16")), words);
        Assert.Equal(8, File.ReadAllLines(Path.Combine(Out(), "conv1_weight.mem"))[^1].Length * 4);
    }

    [Theory]
    [InlineData("--to mem --flat", "--flat applies to --to c only, not --to mem")]
    [InlineData("--to c --radix hex", "--radix applies to --to mem|coe|mif only, not --to c")]
    [InlineData("--to c --per-line row", "--per-line applies to --to txt|csv only, not --to c")]
    [InlineData("--to mem --fixed Q3.12 --int8", "choose one of --fixed, --int8 and --int16")]
    [InlineData("--to mem --fixed Q3.12 --symmetric", "--symmetric, --asymmetric and --per-channel apply to --int8/--int16")]
    [InlineData("--to mem --int8 --symmetric --asymmetric", "choose one of --symmetric and --asymmetric")]
    [InlineData("--to mem --float-bits --int16", "--float-bits writes float bits unquantized")]
    [InlineData("--to c --rounding truncate", "--rounding and --overflow apply to --fixed/--int8/--int16")]
    [InlineData("--to mem --int8 --radix dec", "$readmemh/$readmemb files are hex or binary")]
    [InlineData("--to mem --fixed 3", "expected Qm.n")]
    [InlineData("--to mem --fixed Q3.x", "expected Qm.n")]
    [InlineData("--to c --align 12", "--align must be a power of two")]
    [InlineData("--to mem", "fc1.weight is float32; quantize it (--fixed Q3.12, --int8, --int16) or write its raw IEEE bits (--float-bits)")]
    [InlineData("--to mem --int8 --width 4", "does not fit in 4 signed bits")]
    [InlineData("--to mem --int8 --per-channel 2", "per-channel axis 2 is out of range")]
    public void Bad_combinations_are_usage_errors_and_write_nothing(string options, string message)
    {
        var r = CliRunner.Run(["export", Model, "fc1.weight", "--out", Out(), .. options.Split(' ')]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.False(Directory.Exists(Out()) && Directory.EnumerateFileSystemEntries(Out()).Any());
    }

    [Fact]
    public void Existing_files_are_replaced_whole_and_no_temporary_files_remain()
    {
        Directory.CreateDirectory(Out());
        var target = Path.Combine(Out(), "fc1_bias.mif");
        File.WriteAllText(target, new string('x', 100_000));
        var r = CliRunner.Run("export", Model, "fc1.bias", "--to", "mif", "--int16", "--asymmetric", "--out", Out());
        Assert.True(r.ExitCode == 0, r.Stderr);
        var text = File.ReadAllText(target);
        Assert.StartsWith("-- from simple_nn_state_dict.pth\n", text);
        Assert.EndsWith("END;\n", text);
        Assert.Equal([target], Directory.GetFiles(Out()));
    }

    [Fact]
    public void Help_has_examples_and_missing_tensors_or_files_have_their_exit_codes()
    {
        var help = CliRunner.Run("export", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("weightscope export model.pth fc1.weight --to mem --fixed Q3.12 --out rtl/", help.Stdout);
        Assert.Contains("weightscope export", CliRunner.Run("--help").Stdout);
        Assert.Equal(2, CliRunner.Run("export", Model, "nope", "--to", "c", "--out", Out()).ExitCode);
        Assert.Equal(2, CliRunner.Run("export", Model, "--to", "vhdl", "--out", Out()).ExitCode);
        var bad = Path.Combine(_dir, "bad.pth");
        File.WriteAllBytes(bad, [1, 2, 3, 4]);
        Assert.Equal(3, CliRunner.Run("export", bad, "--to", "c", "--out", Out()).ExitCode);
    }
}
