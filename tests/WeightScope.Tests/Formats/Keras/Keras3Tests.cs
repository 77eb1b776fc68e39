using System.IO.Compression;
using System.Text.Json;
using WeightScope.Modules;
using WeightScope.Tensors;
using WeightScope.Tests.Formats.Hdf5;
using Xunit;

namespace WeightScope.Tests.Formats.Keras;

/// <summary>
/// Keras 3 <c>.keras</c> archives and <c>.weights.h5</c> files against keras_fixtures.py's re-statement of Keras 3's
/// saving_lib walk and layer/optimizer variable order (Keras itself is not installable here), with h5py's values:
/// tests/fixtures/keras/keras3_expected.json (files laid out by the script) and keras3_corpus_expected.json (every
/// keras3/ corpus file; for a .keras, h5py read the model.weights.h5 member).
/// </summary>
public class Keras3Tests
{
    private static JsonElement Load(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("keras", file)));
        return doc.RootElement.Clone();
    }

    public static TheoryData<string> CorpusFiles()
    {
        var data = new TheoryData<string>();
        foreach (var p in Load("keras3_corpus_expected.json").EnumerateObject()) data.Add(p.Name);
        return data;
    }

    [CorpusTheory]
    [MemberData(nameof(CorpusFiles))]
    public void Corpus_file_lists_as_keras_does(string file)
    {
        using var model = ModelFile.Open(TestPaths.CorpusFile(file));
        AssertKerasView(model, Load("keras3_corpus_expected.json").GetProperty(file));
        AssertShapesFollowConfig(model.Modules);
    }

    [Theory]
    [InlineData("keras3_functional.keras")]
    [InlineData("keras3_deflated.keras")]
    [InlineData("keras3_zoo.keras")]
    [InlineData("keras3_plain.weights.h5")]
    public void Fixture_lists_as_keras_does(string file)
    {
        using var model = ModelFile.Open(TestPaths.Fixture("keras", file));
        AssertKerasView(model, Load("keras3_expected.json").GetProperty(file));
        AssertShapesFollowConfig(model.Modules);
    }

    private static void AssertKerasView(ModelFile model, JsonElement expected)
    {
        Assert.Equal(expected.GetProperty("format").GetString(), model.Format.Name);
        Assert.Equal(expected.GetProperty("version").GetString(), model.Format.Version);
        var tensors = expected.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(tensors.Select(t => t.GetProperty("name").GetString()), model.Tensors.Select(t => t.Name));
        foreach (var t in tensors)
        {
            var actual = model.Tensors[t.GetProperty("name").GetString()!];
            Assert.Equal(t.GetProperty("role").GetString(), actual.Role.ToString());
            Assert.Equal(t.GetProperty("dtype").GetString(), Hdf5FixtureTests.NumpyStr(actual));
            Assert.Equal(t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), actual.Shape);
            double sum = actual.ToFloat64().Where(double.IsFinite).Sum();
            double want = t.GetProperty("sum").GetDouble();
            Assert.True(Math.Abs(sum - want) <= 1e-6 * Math.Max(1, Math.Abs(want)), $"{actual.Name}: sum {sum}, h5py {want}");
        }
        Assert.Equal(expected.GetProperty("trainable").GetInt32(), model.Tensors.Count(t => t.Role == TensorRole.Parameter));
        Assert.Equal(expected.GetProperty("non_trainable").GetInt32(), model.Tensors.Count(t => t.Role == TensorRole.Buffer));
        if (expected.TryGetProperty("config_source", out var source))
        {
            Assert.Equal(source.ValueKind == JsonValueKind.Null ? null : source.GetString(), model.Metadata["config_source"]);
            // A sibling config read with the weights is one of the model's source files (info sums their sizes).
            if (source.ValueKind == JsonValueKind.String && model.Path is { } p)
                Assert.Contains(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(p)!, source.GetString()!)), model.SourceFiles);
        }
    }

    /// <summary>Each mapped layer's variable shapes are the ones its config implies (units, filters, 4·units for LSTM…).</summary>
    private static void AssertShapesFollowConfig(ModuleNode root)
    {
        foreach (var node in root.Descendants())
        {
            if (node.Attributes.GetValueOrDefault("units") is not long units) continue;
            var all = node.Parameters.Concat(node.Buffers).ToDictionary(p => p.Key, p => p.Value!.Shape.ToArray());
            switch (node.Type)
            {
                case "Dense" or "QDense":
                    Assert.Equal(units, all["kernel"][^1]);
                    if (all.TryGetValue("bias", out var bias)) Assert.Equal([units], bias);
                    break;
                case "LSTM" or "GRU":
                    long gates = node.Type == "LSTM" ? 4 : 3;
                    string cell = node.Type == "LSTM" ? "lstm_cell/" : "gru_cell/";
                    Assert.Equal(units * gates, all[cell + "kernel"][^1]);
                    Assert.Equal([units, units * gates], all[cell + "recurrent_kernel"]);
                    break;
            }
        }
    }

    [CorpusFact]
    public void Archive_metadata_and_module_tree_come_from_the_zip_members()
    {
        using var model = ModelFile.Open(TestPaths.CorpusFile("keras3/digits-dense-keras3.5/digits_dense_keras3.5.0.keras"));
        Assert.Equal("keras", model.Format.Name);
        Assert.Equal("3.5.0", model.Format.Version);
        Assert.Equal("2025-01-18@11:58:33", model.Metadata["date_saved"]);
        Assert.Equal("config.json", model.Metadata["config_source"]);
        using (var config = JsonDocument.Parse((string)model.Metadata["model_config"]!))
            Assert.Equal("Sequential", config.RootElement.GetProperty("class_name").GetString());
        Assert.Contains("sparse_categorical_crossentropy", (string)model.Metadata["compile_config"]!);
        Assert.True(model.HasModuleTypes);
        Assert.Equal("Sequential", model.Modules.Type);
        Assert.Equal(["input_layer", "flatten", "dense", "dropout", "dense_1"], model.Modules.Children.Select(c => c.Name));
        var dense = model.Modules.Child("dense")!;
        Assert.Equal("Dense", dense.Type);
        Assert.Equal(128L, dense.Attributes["units"]);
        Assert.Same(model.Tensors["dense/kernel"], dense.Parameters["kernel"]);
        // compile_config names no optimizer: its class, so its slot names, are unknown, and that is said.
        Assert.Contains("no optimizer", (string)model.Metadata["optimizer_variables"]!);
        Assert.Equal("optimizer/vars/0", model.Tensors.First(t => t.Role == TensorRole.OptimizerState).Name);
    }

    [CorpusFact]
    public void Windows_written_tf_keras_archive_maps_backslash_groups_and_keeps_metrics()
    {
        // tf-keras 2.15 on Windows joined h5 paths with os.path.join: root groups are literally "layers\dense".
        using var model = ModelFile.Open(TestPaths.CorpusFile("keras3/churn-ann/churn_model.keras"));
        Assert.Equal("2.15.0", model.Format.Version);
        Assert.Equal(["dense/kernel", "dense/bias", "dense_1/kernel"], model.Tensors.Take(3).Select(t => t.Name));
        Assert.Equal("Adam/iteration", model.Tensors["Adam/iteration"].Name);
        Assert.Equal(TensorRole.Other, model.Tensors["metrics/mean/vars/0"].Role);
    }

    [CorpusFact]
    public void Custom_dense_class_uses_the_dense_rule_only_because_its_config_proves_it()
    {
        using var model = ModelFile.Open(TestPaths.CorpusFile("keras3/hls4ml/qkeras-v3_3layer.keras"));
        var fc1 = model.Modules.Child("fc1")!;
        Assert.Equal("QDense", fc1.Type);
        Assert.Equal(["kernel", "bias"], fc1.Parameters.Keys);
        Assert.False(model.Metadata.ContainsKey("unmapped_layers"));
    }

    [Fact]
    public void Nested_frozen_model_is_a_nested_node_and_its_weights_are_non_trainable()
    {
        using var model = ModelFile.Open(TestPaths.Fixture("keras", "keras3_functional.keras"));
        Assert.Equal("Functional", model.Modules.Type);
        var head = model.Modules.Child("head")!;
        Assert.Equal("Sequential", head.Type);
        var hidden = head.Child("head_hidden")!;
        Assert.Empty(hidden.Parameters);
        Assert.Equal(["kernel", "bias"], hidden.Buffers.Keys);
        Assert.Same(model.Tensors["head/head_hidden/kernel"], hidden.Buffers["kernel"]);
        var bn = model.Modules.Child("bn")!;
        Assert.Equal(["gamma", "beta"], bn.Parameters.Keys);
        Assert.Equal(["moving_mean", "moving_variance"], bn.Buffers.Keys);
        // use_bias=false: no bias; scale=false: no gamma.
        Assert.Equal(["kernel"], model.Modules.Child("frozen_proj")!.Buffers.Keys);
        Assert.Equal(["beta"], head.Child("head_norm")!.Buffers.Keys);
    }

    [Fact]
    public void Deflated_weights_member_is_inflated_and_read()
    {
        string path = TestPaths.Fixture("keras", "keras3_deflated.keras");
        using (var zip = ZipFile.OpenRead(path))
            Assert.True(zip.GetEntry("model.weights.h5")!.CompressedLength < zip.GetEntry("model.weights.h5")!.Length);
        using var model = ModelFile.Open(path);
        Assert.Equal("encoder/lstm_cell/kernel", model.Tensors[0].Name);
        Assert.Equal(24, model.Tensors[0].ToFloat64().Length);
    }

    [Fact]
    public void Weights_without_config_are_named_from_h5_paths_and_unknown_classes_fall_back()
    {
        using var model = ModelFile.Open(TestPaths.Fixture("keras", "keras3_plain.weights.h5"));
        Assert.Equal("keras-weights", model.Format.Name);
        Assert.Null(model.Metadata["config_source"]);
        Assert.Equal(TensorRole.Other, model.Tensors["my_scaler/vars/0"].Role);
        var unmapped = Assert.IsType<List<object?>>(model.Metadata["unmapped_layers"]);
        Assert.Contains(unmapped, u => ((string)u!).StartsWith("my_scaler", StringComparison.Ordinal));
        Assert.Equal("Dense", model.Modules.Child("dense")!.Type);
    }

    [Fact]
    public void Sibling_json_config_is_used_and_an_unrelated_one_is_set_aside()
    {
        string dir = Directory.CreateTempSubdirectory("ws-keras3-").FullName;
        try
        {
            string weights = Path.Combine(dir, "m.weights.h5");
            File.Copy(TestPaths.Fixture("keras", "keras3_plain.weights.h5"), weights);
            // A config that does not describe these weights (one Dense; the file has more layers): set aside, and said so.
            File.WriteAllText(Path.Combine(dir, "m.json"),
                """{"class_name": "Sequential", "config": {"name": "s", "layers": [{"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "units": 3}}]}}""");
            using (var model = ModelFile.Open(weights))
            {
                Assert.StartsWith("none (m.json set aside", (string)model.Metadata["config_source"]!);
                Assert.Equal("dense/kernel", model.Tensors["dense/kernel"].Name);
            }
            File.WriteAllText(Path.Combine(dir, "m.json"), "not json");
            using (var model = ModelFile.Open(weights))
                Assert.StartsWith("none (m.json set aside", (string)model.Metadata["config_source"]!);
            // A matching config: layer names from it.
            File.WriteAllText(Path.Combine(dir, "m.json"), """
                {"class_name": "Sequential", "config": {"name": "s", "layers": [
                  {"module": "keras.layers", "class_name": "Dense", "config": {"name": "first", "units": 3, "use_bias": true}},
                  {"module": "keras.layers", "class_name": "BatchNormalization", "config": {"name": "norm", "trainable": false}},
                  {"module": "keras.layers", "class_name": "Dense", "config": {"name": "second", "units": 2, "use_bias": false}},
                  {"module": "keras.layers", "class_name": "Embedding", "config": {"name": "emb", "output_dim": 4}},
                  {"module": "mine", "class_name": "MyScaler", "config": {"name": "scale"}, "registered_name": "mine>MyScaler"}]}}
                """);
            using (var model = ModelFile.Open(weights))
            {
                Assert.Equal("m.json", model.Metadata["config_source"]);
                Assert.Equal(["first/kernel", "first/bias", "norm/gamma", "norm/beta", "norm/moving_mean", "norm/moving_variance", "second/kernel", "emb/embeddings", "scale/vars/0", "scale/vars/1"],
                    model.Tensors.Select(t => t.Name));
                Assert.Equal(TensorRole.Buffer, model.Tensors["norm/gamma"].Role); // frozen layer: every weight non-trainable
            }
            // Larger than the limit for JSON headers: set aside, never read.
            var tight = new ReaderOptions { Limits = ReaderLimits.Default with { MaxHeaderBytes = 100 } };
            using (var model = ModelFile.Open(weights, tight))
            {
                Assert.StartsWith("none (m.json set aside", (string)model.Metadata["config_source"]!);
                Assert.Contains("MaxHeaderBytes", (string)model.Metadata["config_source"]!);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Snake_case_and_dedup_follow_keras_naming()
    {
        Assert.Equal("q_dense", WeightScope.Formats.Keras.Keras3Walk.ToSnakeCase("QDense"));
        Assert.Equal("conv2d_transpose", WeightScope.Formats.Keras.Keras3Walk.ToSnakeCase("Conv2DTranspose"));
        Assert.Equal("lstm", WeightScope.Formats.Keras.Keras3Walk.ToSnakeCase("LSTM"));
        Assert.Equal("simple_rnn", WeightScope.Formats.Keras.Keras3Walk.ToSnakeCase("SimpleRNN"));
        Assert.Equal("multi_head_attention", WeightScope.Formats.Keras.Keras3Walk.ToSnakeCase("MultiHeadAttention"));
        var used = new Dictionary<string, int>();
        Assert.Equal(["dense", "dense_1", "dense_2"], new[] { "dense", "dense", "dense" }.Select(n => WeightScope.Formats.Keras.Keras3Walk.Dedup(used, n)));
    }
}

/// <summary>Damaged Keras 3 archives (written by keras_fixtures.py): a clear error from the one exception family.</summary>
public class Keras3BadInputTests
{
    [Theory]
    [InlineData("bad_keras3_no_config.keras", "config.json")]
    [InlineData("bad_keras3_config_not_json.keras", "not the JSON Keras writes")]
    [InlineData("bad_keras3_fewer_layers.keras", "fewer layers")]
    [InlineData("bad_keras3_missing_variable.keras", "layers/dense/vars/1")]
    public void Damaged_archive_fails_with_a_clear_message(string file, string expected)
    {
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(TestPaths.Fixture("keras", file)));
        Assert.Equal("keras", e.Format);
        Assert.Contains(expected, e.Message);
        Assert.EndsWith(file, e.FilePath);
    }
}

/// <summary>Archives built in the test from the zip layout saving_lib writes, each with one thing wrong.</summary>
public class Keras3CraftedArchiveTests
{
    private static byte[] Archive(params (string Name, byte[] Data)[] members)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, data) in members)
            {
                using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                s.Write(data);
            }
        return ms.ToArray();
    }

    private static byte[] Utf8(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    private static byte[] WeightsOf(string fixture)
    {
        using var zip = ZipFile.OpenRead(TestPaths.Fixture("keras", fixture));
        using var s = zip.GetEntry("model.weights.h5")!.Open();
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    [Fact]
    public void Npz_weights_are_a_clear_not_supported_error()
    {
        var bytes = Archive(("metadata.json", Utf8("""{"keras_version": "3.5.0"}""")), ("config.json", Utf8("""{"class_name": "Sequential", "config": {"layers": []}}""")),
            ("model.weights.npz", [0x50, 0x4B, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        var e = Assert.Throws<UnsupportedModelFeatureException>(() => ModelFile.Open(new MemoryStream(bytes)));
        Assert.Equal("keras", e.Format);
        Assert.Contains("model.weights.npz", e.Message);
    }

    [Theory]
    [InlineData("[1, 2]", "class_name")]                  // JSON, but not a serialized model
    [InlineData("{\"class_name\": \"Sequential\", \"config\": {\"layers\": [7]}}", "layer entry")]
    public void Config_that_is_not_a_keras_model_is_reported(string config, string expected)
    {
        var bytes = Archive(("metadata.json", Utf8("{}")), ("config.json", Utf8(config)), ("model.weights.h5", WeightsOf("keras3_zoo.keras")));
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(new MemoryStream(bytes)));
        Assert.Equal("keras", e.Format);
        Assert.Contains("config.json", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Damaged_weights_member_is_reported_by_the_keras_format_with_the_member_name()
    {
        var h5 = WeightsOf("keras3_zoo.keras");
        Array.Clear(h5, 8, 64); // the superblock's sizes and root group address
        var bytes = Archive(("metadata.json", Utf8("{}")), ("config.json", Utf8("""{"class_name": "Sequential", "config": {"layers": []}}""")), ("model.weights.h5", h5));
        var e = Assert.ThrowsAny<ModelFormatException>(() => ModelFile.Open(new MemoryStream(bytes)));
        Assert.Contains("model.weights.h5", e.Message);
    }
}

/// <summary>Zip-format conflicts and unusual but valid archives.</summary>
public class Keras3DetectionTests
{
    private static byte[] Rezip(string fixture, params (string Name, byte[] Data)[] extra)
    {
        using var ms = new MemoryStream();
        using (var src = ZipFile.OpenRead(TestPaths.Fixture("keras", fixture)))
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var e in src.Entries)
            {
                using var from = e.Open();
                using var to = zip.CreateEntry(e.FullName, CompressionLevel.NoCompression).Open();
                from.CopyTo(to);
            }
            foreach (var (name, data) in extra)
            {
                using var to = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                to.Write(data);
            }
        }
        return ms.ToArray();
    }

    [Fact]
    public void Archive_with_an_npy_asset_is_keras_not_npz()
    {
        // NpzFormat claims any zip with a *.npy member; a layer's assets may be .npy files, so keras is detected first.
        byte[] npy = File.ReadAllBytes(Directory.GetFiles(TestPaths.Fixture("numpy"), "*.npy").Order(StringComparer.Ordinal).First());
        using var model = ModelFile.Open(new MemoryStream(Rezip("keras3_zoo.keras", ("assets/vocab.npy", npy))));
        Assert.Equal("keras", model.Format.Name);
        Assert.Equal((long)npy.Length, model.Metadata["assets/vocab.npy"]);
    }

    [Fact]
    public void Layers_saved_without_variables_open_with_a_note()
    {
        // A model saved before it was built: the layer groups exist, their vars groups are empty.
        using var model = ModelFile.Open(TestPaths.Fixture("keras", "keras3_unbuilt.keras"));
        Assert.Empty(model.Tensors);
        var unmapped = Assert.IsType<List<object?>>(model.Metadata["unmapped_layers"]);
        Assert.Equal(2, unmapped.Count);
        Assert.All(unmapped, u => Assert.Contains("no variables saved", (string)u!));
    }
}
