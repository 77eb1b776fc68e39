using System.Text.Json;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary>The CLI end to end: output, JSON schemas and exit codes (DESIGN.md), run as a real process.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ws-cli-" + Guid.NewGuid().ToString("N"));
    private static string Sample => Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    [Fact]
    public void List_json_follows_the_documented_schema_and_matches_torch()
    {
        var r = CliRunner.Run("list", TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth"), "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        using var expected = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("pytorch", "simple_nn_state_dict.expected.json")));
        var root = doc.RootElement;
        Assert.Equal("pytorch-zip", root.GetProperty("format").GetString());
        var tensors = root.GetProperty("tensors").EnumerateArray().ToList();
        var want = expected.RootElement.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(want.Select(t => t.GetProperty("name").GetString()), tensors.Select(t => t.GetProperty("name").GetString()));
        foreach (var (got, exp) in tensors.Zip(want))
        {
            Assert.Equal(exp.GetProperty("dtype").GetString(), got.GetProperty("dtype").GetString());
            Assert.Equal(exp.GetProperty("shape").GetRawText().Replace(" ", ""), got.GetProperty("shape").GetRawText().Replace(" ", "").Replace("\n", ""));
            Assert.Equal(exp.GetProperty("numel").GetInt64(), got.GetProperty("params").GetInt64());
            Assert.True(got.TryGetProperty("role", out _));
            Assert.True(got.TryGetProperty("bytes", out _));
        }
        var totals = root.GetProperty("totals");
        Assert.Equal(want.Count, totals.GetProperty("tensors").GetInt32());
        Assert.Equal(want.Sum(t => t.GetProperty("numel").GetInt64()), totals.GetProperty("params").GetInt64());
        Assert.True(totals.GetProperty("by_dtype").TryGetProperty("float32", out _));
    }

    [Fact]
    public void List_text_shows_every_tensor_and_totals()
    {
        var r = CliRunner.Run("list", Sample);
        Assert.Equal(0, r.ExitCode);
        foreach (var n in new[] { "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias" }) Assert.Contains(n, r.Stdout);
        Assert.Contains("4 tensors, 61 parameters", r.Stdout);
    }

    [Fact]
    public void List_filters_by_glob_and_regex()
    {
        var r = CliRunner.Run("list", Sample, "--filter", "*.bias", "--json");
        var names = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString());
        Assert.Equal(["fc1.bias", "fc2.bias"], names);
        r = CliRunner.Run("list", Sample, "--regex", "^fc2", "--json");
        names = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString());
        Assert.Equal(["fc2.weight", "fc2.bias"], names);
    }

    [Fact]
    public void List_by_module_type_needs_a_recorded_tree()
    {
        var r = CliRunner.Run("list", TestPaths.Fixture("pytorch", "whole_model_linear_conv.pt"), "--type", "Conv2d", "--json");
        Assert.Equal(0, r.ExitCode);
        using var expected = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("pytorch", "whole_model_linear_conv.expected.json")));
        var convPaths = expected.RootElement.GetProperty("modules").EnumerateArray()
            .Where(m => m.GetProperty("type").GetString() == "Conv2d").Select(m => m.GetProperty("path").GetString() + ".").ToList();
        var names = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).ToList();
        Assert.NotEmpty(names);
        Assert.All(names, n => Assert.Contains(convPaths, p => n.StartsWith(p, StringComparison.Ordinal)));

        r = CliRunner.Run("list", Sample, "--type", "Linear");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("records no module types", r.Stderr);
    }

    [Fact]
    public void Show_prints_like_torch()
    {
        using var cases = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("pytorch", "print_cases.json")));
        var arr = cases.RootElement.ValueKind == JsonValueKind.Array ? cases.RootElement : cases.RootElement.GetProperty("cases");
        int checkedCases = 0;
        foreach (var c in arr.EnumerateArray().Take(12))
        {
            var args = new List<string> { "show", TestPaths.Fixture("pytorch", c.GetProperty("file").GetString()!),
                c.GetProperty("name").GetString()! + (c.TryGetProperty("index", out var ix) && ix.ValueKind == JsonValueKind.String ? ix.GetString() : "") };
            foreach (var o in c.GetProperty("options").EnumerateObject())
            {
                var flag = o.Name switch { "sci_mode" => "--sci-mode", "edgeitems" => "--edgeitems", _ => "--" + o.Name };
                args.Add(flag);
                args.Add(o.Value.ValueKind switch { JsonValueKind.True => "true", JsonValueKind.False => "false", _ => o.Value.ToString() });
            }
            var r = CliRunner.Run([.. args]);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(c.GetProperty("text").GetString(), r.Stdout.TrimEnd('\n'));
            checkedCases++;
        }
        Assert.True(checkedCases > 0);
    }

    [Fact]
    public void Show_json_nests_values_like_tolist()
    {
        var r = CliRunner.Run("show", TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth"), "fc1.weight[0]", "--json");
        Assert.Equal(0, r.ExitCode);
        using var expected = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("pytorch", "simple_nn_state_dict.expected.json")));
        var fc1 = expected.RootElement.GetProperty("tensors").EnumerateArray().First(t => t.GetProperty("name").GetString() == "fc1.weight");
        var firstRow = fc1.GetProperty("values").EnumerateArray().Take(10).Select(v => v.GetDouble()).ToArray();
        var got = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal("float32", got.GetProperty("dtype").GetString());
        Assert.Equal(firstRow, got.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray());
    }

    [Fact]
    public void Tree_prints_exactly_what_print_model_prints()
    {
        foreach (var f in new[] { "whole_model_linear_conv", "resnet_tiny_whole", "gru_whole" })
        {
            var file = Directory.GetFiles(TestPaths.Fixture("pytorch"), f + ".*").First(p => !p.EndsWith(".json", StringComparison.Ordinal));
            using var expected = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("pytorch", f + ".expected.json")));
            var r = CliRunner.Run("tree", file);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(expected.RootElement.GetProperty("str_model").GetString(), r.Stdout.TrimEnd('\n'));
        }
    }

    [CorpusFact]
    public void Tree_of_a_keras_model_shows_its_layers_with_counts()
    {
        var r = CliRunner.Run("tree", TestPaths.CorpusFile("keras-h5/hls4ml/keras_3layer_batch_norm.h5"), "--depth", "1");
        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("Model", lines[0]);
        Assert.Contains(lines, l => l.Contains("bn1  BatchNormalization", StringComparison.Ordinal));
        Assert.Equal(14, lines.Length); // the model and its 13 layers (model_config)
    }

    [Fact]
    public void Tree_of_a_keras_model_is_its_summary_table_and_compact_on_request()
    {
        string file = TestPaths.Fixture("keras", "nested_full_model.h5");
        using var model = ModelFile.Open(file);
        var r = CliRunner.Run("tree", file);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(WeightScope.Printing.SummaryPrinter.Format(WeightScope.Modules.ModelSummary.Of(model)), r.Stdout);

        var compact = CliRunner.Run("tree", file, "--compact");
        Assert.Equal(WeightScope.Printing.TreePrinter.FormatNameTree(model.Modules) + "\n", compact.Stdout);
        var expanded = CliRunner.Run("tree", file, "--expand-nested");
        Assert.Contains("└ enc_frozen (Dense)", expanded.Stdout);
    }

    [Fact]
    public void Tree_summary_of_any_file_as_json()
    {
        var r = CliRunner.Run("tree", Sample, "--summary", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var root = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(["fc1", "fc2"], root.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("name").GetString()));
        Assert.Equal(61, root.GetProperty("total_params").GetInt64());
        Assert.Equal(61, root.GetProperty("other_params").GetInt64());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("layers")[0].GetProperty("trainable").ValueKind);
        Assert.Equal([5, 10], root.GetProperty("layers")[0].GetProperty("weights")[0].GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
    }

    [Fact]
    public void Tree_summary_with_depth_is_a_usage_error()
    {
        var r = CliRunner.Run("tree", Sample, "--summary", "--depth", "1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--summary", r.Stderr);
    }

    [Fact]
    public void Show_notes_the_keras_dense_layout_on_stderr_only()
    {
        string file = TestPaths.Fixture("keras", "nested_full_model.h5");
        var r = CliRunner.Run("show", file, "head/kernel:0");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.StartsWith("tensor([[", r.Stdout);
        Assert.DoesNotContain("note", r.Stdout);
        Assert.Contains("note: a Keras Dense kernel is (in, out) = (3, 1)", r.Stderr);
        Assert.DoesNotContain("note", CliRunner.Run("show", file, "head/bias:0").Stderr);
    }

    [Fact]
    public void Tree_of_a_state_dict_is_built_from_names()
    {
        var r = CliRunner.Run("tree", Sample, "--json");
        Assert.Equal(0, r.ExitCode);
        var root = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(["fc1", "fc2"], root.GetProperty("children").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(61, root.GetProperty("params").GetInt64());
    }

    [Fact]
    public void Info_reports_format_and_totals()
    {
        var r = CliRunner.Run("info", Sample, "--json");
        Assert.Equal(0, r.ExitCode);
        var root = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal("pytorch-zip", root.GetProperty("format").GetString());
        Assert.Equal(61, root.GetProperty("totals").GetProperty("params").GetInt64());
    }

    [Fact]
    public void Unknown_tensor_is_a_usage_error_with_suggestions()
    {
        var r = CliRunner.Run("show", Sample, "fc1.wieght");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("fc1.wieght", r.Stderr);
    }

    [Fact]
    public void Bad_option_is_a_usage_error()
    {
        var r = CliRunner.Run("show", Sample, "fc1.weight", "--precision", "many");
        Assert.Equal(2, r.ExitCode);
    }

    public static TheoryData<string, string> CorruptFiles() => new()
    {
        // fixture, how it is damaged
        { "pytorch/simple_nn_state_dict.pth", "truncate" },
        { "pytorch/legacy_format.pt", "truncate" },
        { "pytorch/torchscript_model.pt", "truncate" },
        { "pytorch/simple_nn_state_dict.pth", "magic" },
        { "core/zip_mixed.zip", "truncate" },
        { "numpy/float32.npy", "truncate" },
        { "numpy/float32.npy", "magic" },
        { "numpy/savez_compressed.npz", "truncate" },
    };

    [CorpusTheory]
    [InlineData("safetensors/burn/multi_layer.safetensors", "truncate")]
    [InlineData("safetensors/PyBridge/tensors.safetensors", "magic")]
    public void Unreadable_corpus_files_exit_3_naming_file_and_format(string file, string damage) =>
        AssertUnreadable(TestPaths.CorpusFile(file), damage);

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void Unreadable_files_exit_3_naming_file_and_format(string fixture, string damage) =>
        AssertUnreadable(TestPaths.Fixture(fixture.Split('/')), damage);

    [Fact]
    public void List_shows_what_a_block_quantized_tensor_is_stored_as()
    {
        var q = WeightScope.Tests.Formats.Gguf.GgmlBlockSamples.Make("Q4_K", 2, seed: 5);
        var bytes = new WeightScope.Tests.Formats.Gguf.GgufBuilder()
            .KvString("general.architecture", "llama")
            .AddTensor("blk.0.ffn_up.weight", [(ulong)(q.BlockSize * 2), 1], q.TypeId, q.Bytes)
            .Build();
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "q4k.gguf");
        File.WriteAllBytes(path, bytes);
        var text = CliRunner.Run("list", path);
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("float32 (q4_k)", text.Stdout);
        var json = CliRunner.Run("list", path, "--json");
        using var doc = System.Text.Json.JsonDocument.Parse(json.Stdout);
        Assert.Equal("q4_k", doc.RootElement.GetProperty("tensors")[0].GetProperty("stored_as").GetString());
    }

    // Issue 4's crafted-bytes cases, one per reader: the message names the file, the format and where it went wrong.
    [CorpusTheory]
    [InlineData("tf-savedmodel/tfnet/lstm_from_sequential/variables/variables.index", "tf-checkpoint", "offset 0: the data block at offset 0 fails its CRC-32C check")]
    [InlineData("gguf/ggml-superpoint/superpoint.gguf", "gguf", "offset 8: tensor_count is 5000000000")]
    [InlineData("onnx/onnx-backend/light/light_squeezenet.onnx", "onnx", "offset ")]
    [InlineData("tfjs/celsius-dense-keras2.12/model.json", "tfjs", "entry 'group1-shard1of1.bin': weight file 'group1-shard1of1.bin' named in weightsManifest does not exist")]
    public void Crafted_damage_to_each_new_format_exits_3_with_file_format_and_place(string file, string format, string expected)
    {
        var bytes = File.ReadAllBytes(TestPaths.CorpusFile(file));
        switch (format)
        {
            case "tf-checkpoint": bytes[40] ^= 0x10; break; // inside the first data block: its CRC no longer matches
            case "gguf": BitConverter.GetBytes(5_000_000_000UL).CopyTo(bytes, 8); break; // tensor_count (v2/v3: u64 after magic and version)
            case "onnx": bytes = bytes[..(bytes.Length * 2 / 3)]; break; // a length running past the end
            case "tfjs": break; // copied without its shard
        }
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, Path.GetFileName(file));
        File.WriteAllBytes(path, bytes);
        var r = CliRunner.Run("list", path);
        Assert.Equal(3, r.ExitCode);
        Assert.Contains($"{path}, {format}, ", r.Stderr);
        Assert.Contains(expected, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    private void AssertUnreadable(string source, string damage)
    {
        var bytes = File.ReadAllBytes(source);
        bytes = damage == "truncate" ? bytes[..(bytes.Length * 2 / 3)] : [0x00, 0x01, .. bytes[2..]];
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "damaged-" + Path.GetFileName(source));
        File.WriteAllBytes(path, bytes);
        foreach (var verb in new[] { "list", "info", "tree" })
        {
            var r = CliRunner.Run(verb, path);
            Assert.Equal(3, r.ExitCode);
            Assert.Contains(path, r.Stderr);
            Assert.DoesNotContain("   at ", r.Stderr); // a message, not a stack trace
        }
    }
}
