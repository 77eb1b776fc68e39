using System.Text.Json;
using WeightScope.Export;
using WeightScope.Printing;
using WeightScope.Tests.Interop;
using Xunit;

namespace WeightScope.Tests.Export;

/// <summary>txt/csv exports: every element formatted as torch prints it (set_printoptions precision and sci_mode).</summary>
public sealed class TextTests
{
    // torch prints the tensor with nothing summarized and no wrapping; each printed row's elements (still padded to torch's
    // common width) are returned, one list per row.
    private const string TorchRows = """
        import json, sys, torch
        path, name, precision, sci = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
        t = torch.load(path)[name]
        if t.dim() != 2: t = t.reshape(1, -1)
        torch.set_printoptions(precision=precision, sci_mode=sci, threshold=float("inf"), linewidth=10**9)
        s = str(t)
        rows = []
        for line in s.split("\n"):
            inner = line[line.rindex("[") + 1:line.index("]")]
            rows.append(inner.split(", "))
        print(json.dumps(rows))
        """;

    [PythonTheory("torch")]
    [InlineData("simple_nn_state_dict.pth", "fc1.weight", 4, null)]
    [InlineData("simple_nn_state_dict.pth", "fc1.weight", 6, false)]
    [InlineData("simple_nn_state_dict.pth", "fc1.weight", 2, true)]
    [InlineData("special_values.pt", "float32", 4, null)]
    [InlineData("special_values.pt", "integral_floats", 4, null)]
    [InlineData("special_values.pt", "wide_range", 3, null)]
    [InlineData("every_dtype.pt", "matrix_f32", 4, null)]
    [InlineData("every_dtype.pt", "int16", 4, null)]
    public void Values_and_rows_are_printed_as_torch_prints_them(string file, string name, int precision, bool? sci)
    {
        var path = TestPaths.Fixture("pytorch", file);
        var source = ModelFile.Open(path).Tensors[name];
        if (source.Shape.Rank != 2) source = source.Reshape(1, -1);
        var rows = JsonSerializer.Deserialize<string[][]>(Python.Run(TorchRows, path, name, precision.ToString(), sci is null ? "null" : sci.Value ? "true" : "false"))!;
        var print = PrintOptions.Default with { Precision = precision, SciMode = sci };
        var t = ExportTensor.Create(source);

        var txt = new StringWriter { NewLine = "\n" };
        Text.Write(t, txt, new TextExportOptions { RoundTrip = false, Print = print, PerLine = PerLine.Row });
        Assert.Equal(rows.Select(r => string.Join(" ", r)), txt.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var csv = new StringWriter { NewLine = "\n" };
        Text.Write(t, csv, new TextExportOptions { RoundTrip = false, Print = print, PerLine = PerLine.Value, Csv = true });
        Assert.Equal(rows.SelectMany(r => r).Select(v => v.Trim()), csv.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var csvRows = new StringWriter { NewLine = "\n" };
        Text.Write(t, csvRows, new TextExportOptions { RoundTrip = false, Print = print, PerLine = PerLine.Row, Csv = true });
        Assert.Equal(rows.Select(r => string.Join(",", r.Select(v => v.Trim()))), csvRows.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Quantized_values_are_written_as_their_integers()
    {
        var fc = ModelFile.Open(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth")).Tensors["fc1.bias"];
        var t = ExportTensor.Create(fc, new ExportEncoding { Fixed = QFormat.Parse("Q0.15") });
        var w = new StringWriter { NewLine = "\n" };
        Text.Write(t, w);
        Assert.Equal(fc.ToFloat64().Select(v => Math.Round(v * 32768, MidpointRounding.ToEven).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
