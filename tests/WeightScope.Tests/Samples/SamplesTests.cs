using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using WeightScope.Analysis;
using WeightScope.Tensors;
using WeightScope.Tests.Cli;
using WeightScope.Tests.Interop;
using WeightScope.Tests.Packaging;
using Xunit;

namespace WeightScope.Tests.Samples;

/// <summary>
/// The C# programs in <c>samples/csharp/</c>, one per step of the Python workflow, are built once and run; their output
/// is checked against torch's committed answers (<c>tests/fixtures/pytorch/*.expected.json</c>), the real frameworks
/// where installed, and the CLI doing the same job.
/// </summary>
[Collection(DotnetBuildCollection.Name)]
public sealed class SamplesTests : IClassFixture<SamplesTests.SamplesBuild>, IDisposable
{
    public static readonly string[] Names = ["Quickstart", "ListStateDict", "PrintLayer", "FilterTensors", "CountParams", "SaveNpz", "PlotHistogram", "ExportGruGates"];

    /// <summary>
    /// The samples that run TorchSharp (libtorch): built by <c>TorchSharpSamples.slnx</c>, not <c>Samples.slnx</c>, and
    /// tested by <c>tests/WeightScope.TorchSharp.Tests/Samples/</c>, so this suite needs no native library.
    /// </summary>
    public static readonly string[] TorchSharpNames = ["LoadIntoTorchSharp", "Tutorials"];

    private static string SamplesRoot => Path.Combine(TestPaths.RepoRoot, "samples", "csharp");
    private static string SampleModel => Path.Combine("samples", "simple_nn.pth");
    private static string Pt(string name) => Path.Combine("tests", "fixtures", "pytorch", name);

    /// <summary>Builds every sample with one <c>dotnet build</c> of <c>samples/csharp/Samples.slnx</c>.</summary>
    public sealed class SamplesBuild
    {
        public SamplesBuild() =>
            Dotnet.Run(TestPaths.RepoRoot, ["build", Path.Combine(SamplesRoot, "Samples.slnx"), "-c", Dotnet.Configuration, "--nologo", "-v", "q", "-nodeReuse:false"]);

        /// <summary>Runs a built sample from the repository root (its default paths are relative to it); it must exit 0.</summary>
        public string Run(string sample, params string[] args)
        {
            var dll = Path.Combine(SamplesRoot, sample, "bin", Dotnet.Configuration, "net10.0", sample + ".dll");
            var r = Dotnet.RunProgram("dotnet", [dll, .. args], TestPaths.RepoRoot);
            Assert.True(r.ExitCode == 0, $"{sample} {string.Join(' ', args)}:\n{r.Output}");
            return r.Stdout;
        }
    }

    private readonly SamplesBuild _samples;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ws-samples-" + Guid.NewGuid().ToString("N"));

    public SamplesTests(SamplesBuild samples)
    {
        _samples = samples;
        Directory.CreateDirectory(_dir);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonElement Expected(string fixture)
    {
        var path = TestPaths.Fixture("pytorch", Path.GetFileNameWithoutExtension(fixture) + ".expected.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement;
    }

    private static string[] Lines(string text) => text.TrimEnd('\n').Split('\n');

    private static string ShapeText(JsonElement shape) => "[" + string.Join(", ", shape.EnumerateArray().Select(d => d.GetInt64())) + "]";

    [Fact]
    public void Every_sample_is_built_documented_and_tested()
    {
        var folders = Directory.GetDirectories(SamplesRoot).Where(d => File.Exists(Path.Combine(d, Path.GetFileName(d) + ".csproj")))
            .Select(d => Path.GetFileName(d)!).Order().ToList();
        Assert.Equal(Names.Concat(TorchSharpNames).Order().ToList(), folders);
        var slnx = File.ReadAllText(Path.Combine(SamplesRoot, "Samples.slnx"));
        var torchSharpSlnx = File.ReadAllText(Path.Combine(SamplesRoot, "TorchSharpSamples.slnx"));
        var readme = File.ReadAllText(Path.Combine(SamplesRoot, "README.md"));
        foreach (var name in Names.Concat(TorchSharpNames))
        {
            bool torchSharp = TorchSharpNames.Contains(name);
            Assert.Equal(!torchSharp, slnx.Contains($"\"{name}/{name}.csproj\"", StringComparison.Ordinal));
            Assert.Equal(torchSharp, torchSharpSlnx.Contains($"\"{name}/{name}.csproj\"", StringComparison.Ordinal));
            Assert.Contains($"[{name}]({name}/Program.cs)", readme, StringComparison.Ordinal);
        }
    }

    /// <summary>The defaults each sample documents (the sample model, or a fixture where it needs module types) exist and work.</summary>
    [Theory]
    [InlineData("ListStateDict")]
    [InlineData("PrintLayer")]
    [InlineData("FilterTensors")]
    [InlineData("CountParams")]
    public void Reading_samples_run_without_arguments(string sample) => Assert.NotEmpty(_samples.Run(sample).Trim());

    // ---- ListStateDict: names, dtypes and shapes as torch lists them -------------------------------------------------

    [Theory]
    [InlineData("simple_nn_state_dict.pth")]
    [InlineData("whole_model_linear_conv.pt")]
    [InlineData("gru_whole.pt")]
    public void ListStateDict_lists_what_torch_lists(string fixture)
    {
        var lines = Lines(_samples.Run("ListStateDict", Pt(fixture)));
        var expected = Expected(fixture).GetProperty("tensors").EnumerateArray()
            .Select(t => (t.GetProperty("name").GetString()!, t.GetProperty("dtype").GetString()!, ShapeText(t.GetProperty("shape")))).ToList();
        var actual = lines.Select(l => Regex.Match(l, @"^(\S+)\s+(\S+)\s+(\[.*\])$")).Select(m =>
        {
            Assert.True(m.Success, $"unexpected line in: {string.Join('\n', lines)}");
            return (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value);
        }).ToList();
        Assert.Equal(expected, actual);
    }

    [PythonFact("torch")]
    public void ListStateDict_default_is_the_sample_model_as_torch_loads_it()
    {
        var torch = JsonDocument.Parse(Python.Run("""
            import json, sys, torch
            sd = torch.load(sys.argv[1])
            print(json.dumps([[k, str(v.dtype)[len("torch."):], list(v.shape)] for k, v in sd.items()]))
            """, Path.Combine(TestPaths.RepoRoot, SampleModel))).RootElement;
        var expected = torch.EnumerateArray().Select(e => $"{e[0].GetString(),-24} {e[1].GetString(),-8} {ShapeText(e[2])}");
        Assert.Equal(expected, Lines(_samples.Run("ListStateDict")));
    }

    // ---- Quickstart: the README's "## Library" block, against torch --------------------------------------------------

    [PythonFact("torch", "numpy")]
    public void Quickstart_prints_what_torch_prints_and_saves_the_edited_half_model()
    {
        string saved = Path.Combine(Path.GetTempPath(), "simple_nn_half.safetensors");
        var output = Lines(_samples.Run("Quickstart"));
        var torch = Lines(Python.Run("""
            import sys, numpy as np, torch
            sd = torch.load(sys.argv[1])
            print(f"pytorch-zip: {len(sd)} tensors, {sum(v.numel() for v in sd.values())} parameters")
            for k, v in sd.items():
                print(f"{k:<12} {str(v.dtype)[len('torch.'):]} {list(v.shape)}")
            w = sd["fc1.weight"]
            print(f"{w.numel()} values, first {str(np.float32(w[0, 0].item()))}")
            torch.set_printoptions(precision=2)
            print(w[0, :4].reshape(-1, 1))
            for k, v in sd.items():
                if k.endswith(".bias"):
                    print(f"{k}: " + ", ".join(str(x) for x in v.numpy()))
            """, Path.Combine(TestPaths.RepoRoot, SampleModel)));
        Assert.Equal(torch, output);

        // fc2.* zeroed (float32 kept), everything else torch's .half(), in the file the sample wrote; compared as int16 words.
        var half = Python.Run("""
            import sys, torch
            for k, v in torch.load(sys.argv[1]).items():
                print(k, (torch.zeros_like(v) if k.startswith("fc2.") else v.half()).flatten().view(torch.int16).tolist())
            """, Path.Combine(TestPaths.RepoRoot, SampleModel));
        using var model = ModelFile.Open(saved);
        var ours = model.Tensors.Select(t =>
            $"{t.Name} [{string.Join(", ", System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(t.ReadBytes()).ToArray())}]");
        Assert.Equal(Lines(half).Order(StringComparer.Ordinal), ours.Order(StringComparer.Ordinal)); // safetensors keeps names sorted
        Assert.All(model.Tensors, t => Assert.Equal(t.Name.StartsWith("fc2.", StringComparison.Ordinal) ? DType.Float32 : DType.Float16, t.DType));
    }

    // ---- PrintLayer: torch's own print, and the CLI's show ----------------------------------------------------------

    [Theory]
    [InlineData("samples/simple_nn.pth", "fc1", 4)]
    [InlineData("samples/simple_nn.pth", "fc2", 2)]
    [InlineData("tests/fixtures/pytorch/whole_model_linear_conv.pt", "fc1", 6)]
    public void PrintLayer_prints_what_show_prints(string model, string layer, int precision)
    {
        var p = precision.ToString(CultureInfo.InvariantCulture);
        var expected = string.Concat(new[] { ".weight", ".bias" }.Select(suffix =>
        {
            var r = CliRunner.RunIn(TestPaths.RepoRoot, "show", model, layer + suffix, "--precision", p);
            Assert.Equal(0, r.ExitCode);
            return layer + suffix + "\n" + r.Stdout;
        }));
        Assert.Equal(expected, _samples.Run("PrintLayer", model, layer, p));
    }

    [PythonFact("torch")]
    public void PrintLayer_prints_what_torch_prints()
    {
        var torch = Python.Run("""
            import sys, torch
            sd = torch.load(sys.argv[1])
            torch.set_printoptions(precision=int(sys.argv[3]))
            for name in (sys.argv[2] + ".weight", sys.argv[2] + ".bias"):
                print(name)
                print(sd[name])
            """, Path.Combine(TestPaths.RepoRoot, SampleModel), "fc1", "3");
        Assert.Equal(torch, _samples.Run("PrintLayer", SampleModel, "fc1", "3"));
    }

    // ---- FilterTensors: by name (as the CLI's --filter) and by module type (torch's module tree) ----------------------

    [Theory]
    [InlineData("fc*", "Linear")]
    [InlineData("features.*", "BatchNorm2d")]
    [InlineData("*.bias", "Conv2d")]
    public void FilterTensors_selects_by_name_and_by_module_type(string glob, string type)
    {
        const string Fixture = "whole_model_linear_conv.pt";
        var output = Lines(_samples.Run("FilterTensors", Pt(Fixture), glob, type));
        int typeHeader = Array.IndexOf(output, $"tensors of {type} modules:");
        Assert.Equal($"names matching '{glob}':", output[0]);
        Assert.True(typeHeader > 0, string.Join('\n', output));
        var byName = output[1..typeHeader].Select(l => l.Trim()).ToList();
        var byType = output[(typeHeader + 1)..].Select(l => l.Trim()).ToList();

        var cli = CliRunner.RunIn(TestPaths.RepoRoot, "list", Pt(Fixture), "--filter", glob, "--json");
        Assert.Equal(0, cli.ExitCode);
        var cliNames = JsonDocument.Parse(cli.Stdout).RootElement.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList();
        Assert.NotEmpty(cliNames);
        Assert.Equal(cliNames, byName);

        // torch's answer: the parameters and buffers of every module whose type is `type`, in state_dict() order.
        var expected = Expected(Fixture);
        var owned = expected.GetProperty("modules").EnumerateArray().Where(m => m.GetProperty("type").GetString() == type)
            .SelectMany(m =>
            {
                var path = m.GetProperty("path").GetString()!;
                return m.GetProperty("parameters").EnumerateArray().Concat(m.GetProperty("buffers").EnumerateArray())
                    .Select(n => path.Length == 0 ? n.GetString()! : $"{path}.{n.GetString()}");
            }).ToHashSet();
        var torchNames = expected.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).Where(owned.Contains).ToList();
        Assert.NotEmpty(torchNames);
        Assert.Equal(torchNames, byType);
    }

    // ---- CountParams: torch's numel() sums and storage sizes ---------------------------------------------------------

    [Theory]
    [InlineData("simple_nn_state_dict.pth")]
    [InlineData("whole_model_linear_conv.pt")]
    [InlineData("gru_whole.pt")]
    public void CountParams_counts_as_torch_does(string fixture)
    {
        var e = Expected(fixture);
        var tensors = e.GetProperty("tensors").EnumerateArray().ToList();
        long total = tensors.Sum(t => t.GetProperty("numel").GetInt64());
        var parameters = tensors.Where(t => t.GetProperty("file_role").GetString() == "Parameter").ToList();
        string trainable = parameters.Count == 0 ? "not recorded in this file"
            : parameters.Where(t => t.GetProperty("requires_grad").GetBoolean()).Sum(t => t.GetProperty("numel").GetInt64()).ToString(CultureInfo.InvariantCulture);
        long bytes = e.GetProperty("totals").GetProperty("storage_bytes").GetInt64();
        string mb = (bytes / 1024.0 / 1024.0).ToString("F6", CultureInfo.InvariantCulture);
        Assert.Equal(
            new[] { $"tensors:    {tensors.Count}", $"parameters: {total}", $"trainable:  {trainable}", $"size:       {bytes} bytes = {mb} MB" },
            Lines(_samples.Run("CountParams", Pt(fixture))));
    }

    // ---- SaveNpz: read back by WeightScope and by numpy --------------------------------------------------------------

    [Theory]
    [InlineData("samples/simple_nn.pth")]
    [InlineData("tests/fixtures/pytorch/whole_model_linear_conv.pt")]
    public void SaveNpz_writes_an_npz_that_reads_back_equal(string model)
    {
        var npz = Path.Combine(_dir, "out.npz");
        var stdout = _samples.Run("SaveNpz", model, npz);
        using var source = ModelFile.Open(Path.Combine(TestPaths.RepoRoot, model));
        Assert.Equal($"wrote {source.Tensors.Count} arrays to {npz}\n", stdout);
        using var back = ModelFile.Open(npz);
        Assert.Equal("npz", back.Format.Name);
        Assert.Equal(source.Tensors.Select(t => (t.Name, t.DType, t.Shape.ToString())), back.Tensors.Select(t => (t.Name, t.DType, t.Shape.ToString())));
        foreach (var t in source.Tensors) Assert.Equal(t.ReadBytes(), back.Tensors[t.Name].ReadBytes());
    }

    [PythonFact("numpy")]
    public void SaveNpz_output_is_what_numpy_loads()
    {
        var model = Pt("whole_model_linear_conv.pt");
        var npz = Path.Combine(_dir, "whole.npz");
        _samples.Run("SaveNpz", model, npz);
        var numpy = JsonDocument.Parse(Python.Run("""
            import hashlib, json, sys
            import numpy as np
            with np.load(sys.argv[1]) as z:
                print(json.dumps([[k, str(z[k].dtype), list(z[k].shape), hashlib.sha256(np.ascontiguousarray(z[k]).tobytes()).hexdigest()] for k in z.files]))
            """, npz)).RootElement;
        using var source = ModelFile.Open(Path.Combine(TestPaths.RepoRoot, model));
        var expected = source.Tensors.Select(t => $"{t.Name} {t.DType.Name()} {t.Shape} {Convert.ToHexStringLower(SHA256.HashData(t.ReadBytes()))}");
        var actual = numpy.EnumerateArray().Select(a => $"{a[0].GetString()} {a[1].GetString()} {ShapeText(a[2])} {a[3].GetString()}");
        Assert.Equal(expected, actual);
    }

    // ---- PlotHistogram: the library's bins, the CLI's figure, numpy's counts -----------------------------------------

    [Theory]
    [InlineData("samples/simple_nn.pth", "fc1.weight", "h.svg", 50)]
    [InlineData("tests/fixtures/pytorch/whole_model_linear_conv.pt", "features.0.weight", "h.png", 12)]
    public void PlotHistogram_writes_the_figure_hist_writes(string model, string tensor, string file, int bins)
    {
        var output = Path.Combine(_dir, file);
        var b = bins.ToString(CultureInfo.InvariantCulture);
        var lines = Lines(_samples.Run("PlotHistogram", model, tensor, output, b));

        using var m = ModelFile.Open(Path.Combine(TestPaths.RepoRoot, model));
        var h = Histogram.Compute(m.Tensors[tensor], bins);
        Assert.Equal($"counts: {string.Join(" ", h.Counts)}", lines[0]);
        Assert.Equal(h.Edges, lines[1]["edges:  ".Length..].Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)));
        Assert.Equal($"wrote {output}", lines[2]);

        var cliOutput = Path.Combine(_dir, "cli-" + file);
        var cli = CliRunner.RunIn(TestPaths.RepoRoot, "hist", model, tensor, "--bins", b, "--out", cliOutput);
        Assert.Equal(0, cli.ExitCode);
        var bytes = File.ReadAllBytes(output);
        Assert.Equal(File.ReadAllBytes(cliOutput), bytes);
        if (file.EndsWith(".png", StringComparison.Ordinal)) Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        else Assert.Contains("<svg", System.Text.Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [PythonFact("numpy")]
    public void PlotHistogram_counts_are_numpys()
    {
        var npy = TestPaths.Fixture("numpy", "random_64x64.npy");
        var lines = Lines(_samples.Run("PlotHistogram", npy, "random_64x64", Path.Combine(_dir, "r.svg"), "30"));
        var numpy = JsonDocument.Parse(Python.Run("""
            import json, sys
            import numpy as np
            counts, edges = np.histogram(np.load(sys.argv[1]).ravel(), bins=30)
            print(json.dumps({"counts": counts.tolist(), "edges": edges.tolist()}))
            """, npy)).RootElement;
        Assert.Equal($"counts: {string.Join(" ", numpy.GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()))}", lines[0]);
        Assert.Equal(numpy.GetProperty("edges").EnumerateArray().Select(x => x.GetDouble()),
            lines[1]["edges:  ".Length..].Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)));
    }

    // ---- ExportGruGates: the same .mem files as `weightscope export --split-gates --to mem --fixed` -------------------

    [Theory]
    [InlineData("Q3.12")]
    [InlineData("Q1.6")]
    public void ExportGruGates_writes_the_files_export_writes(string q)
    {
        var model = Pt("gru_whole.pt");
        var sampleDir = Path.Combine(_dir, "sample");
        var cliDir = Path.Combine(_dir, "cli");
        var lines = Lines(_samples.Run("ExportGruGates", model, sampleDir, q));
        var cli = CliRunner.RunIn(TestPaths.RepoRoot, "export", model, "gru.*", "--split-gates", "--to", "mem", "--fixed", q, "--out", cliDir);
        Assert.True(cli.ExitCode == 0, cli.Stderr);

        var sampleFiles = Directory.GetFiles(sampleDir).Select(Path.GetFileName).Order().ToList();
        var cliFiles = Directory.GetFiles(cliDir).Select(Path.GetFileName).Order().ToList();
        // gru_whole.pt's GRU: 2 layers x 2 directions x (weight_ih, weight_hh, bias_ih, bias_hh), 3 gates each.
        Assert.Equal(48, sampleFiles.Count);
        Assert.Equal(cliFiles, sampleFiles);
        foreach (var f in cliFiles)
            Assert.Equal(File.ReadAllText(Path.Combine(cliDir, f!)), File.ReadAllText(Path.Combine(sampleDir, f!)));
        Assert.Equal(48, lines.Length);
        Assert.Contains(lines, l => l.StartsWith("gru.weight_ir_l0 [3, 4] -> gru_weight_ir_l0.mem  max|err| ", StringComparison.Ordinal));
    }
}
