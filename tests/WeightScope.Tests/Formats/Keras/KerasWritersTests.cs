using System.Text.Json;
using WeightScope.Tensors;
using WeightScope.Tests.Formats.Hdf5;
using WeightScope.Tests.Interop;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Formats.Keras;

/// <summary>The Keras 2 weights-only (<c>keras-h5</c>) and Keras 3 <c>.weights.h5</c> (<c>keras-weights</c>) writers.</summary>
public sealed class KerasWritersTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ws-kw-" + Guid.NewGuid().ToString("N"));

    public KerasWritersTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private string Save(IEnumerable<TensorEntry> tensors, string file, string? format = null, WriteOptions? options = null)
    {
        string path = Path.Combine(_dir, file);
        TensorWriters.Save(tensors, path, format, options);
        return path;
    }

    private static void AssertSame(TensorEntry expected, TensorEntry actual)
    {
        Assert.Equal(expected.DType, actual.DType);
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.True(expected.ReadBytes().AsSpan().SequenceEqual(actual.ReadBytes()), $"{expected.Name}: bytes differ");
    }

    // Keras's own listing of a weights-only file (load_attributes_from_hdf5_group + load_weights_from_hdf5_group):
    // layer_names (or its chunks), each layer's weight_names, the dataset g[weight_name].
    private const string KerasListing = """
        import h5py, hashlib, json, sys, numpy as np
        def attr(group, name):
            if name in group.attrs:
                data = [n.decode("utf8") if hasattr(n, "decode") else n for n in group.attrs[name]]
            else:
                data, i = [], 0
                while "%s%d" % (name, i) in group.attrs:
                    data.extend([n.decode("utf8") if hasattr(n, "decode") else n for n in group.attrs["%s%d" % (name, i)]])
                    i += 1
            return data
        out = {"weights": []}
        with h5py.File(sys.argv[1], "r") as f:
            out["backend"] = f.attrs["backend"].decode("utf8")
            out["keras_version"] = f.attrs["keras_version"].decode("utf8")
            out["chunked"] = "layer_names" not in f.attrs
            for layer in attr(f, "layer_names"):
                g = f[layer]
                for wn in attr(g, "weight_names"):
                    a = np.asarray(g[wn])
                    out["weights"].append({"name": wn, "layer": layer, "dtype": a.dtype.str, "shape": list(a.shape),
                                           "sha256": hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()})
        print(json.dumps(out))
        """;

    public static TheoryData<string> Sources => new()
    {
        "keras/nested_full_model.h5", "keras/chunked_layer_names.h5", "keras/keras3_zoo.keras", "keras/keras3_functional.keras",
        "keras/keras3_plain.weights.h5", "pytorch/resnet_tiny_state_dict.pth", "pytorch/gru_lstm_state_dict.pt",
    };

    // --- keras-h5 (Keras 2 model.save_weights) ---

    [Theory]
    [MemberData(nameof(Sources))]
    public void Keras2_round_trip_keeps_names_dtypes_shapes_and_bytes(string fixture)
    {
        using var source = ModelFile.Open(TestPaths.Fixture(fixture.Split('/')));
        var path = Save(source.Tensors, "w.h5");
        using var back = ModelFile.Open(path);
        Assert.Equal("keras-h5", back.Format.Name);
        Assert.Equal("2.15.0", back.Format.Version);
        Assert.Equal(source.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), back.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var t in source.Tensors) AssertSame(t, back.Tensors[t.Name]);
    }

    [CorpusFact]
    public void Keras2_every_keras_corpus_file_round_trips_and_h5py_lists_it_as_keras_would()
    {
        var files = Directory.GetFiles(TestPaths.CorpusFile("keras-h5"), "*.h5", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(TestPaths.CorpusFile("keras3"), "*", SearchOption.AllDirectories)
                .Where(f => f.EndsWith(".keras", StringComparison.Ordinal) || f.EndsWith(".weights.h5", StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count >= 19, $"{files.Count} corpus files");
        bool python = Python.Has("h5py", "numpy");
        foreach (var file in files)
        {
            using var source = ModelFile.Open(file);
            var path = Save(source.Tensors, "corpus.h5");
            using (var back = ModelFile.Open(path))
            {
                Assert.Equal(source.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), back.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
                foreach (var t in source.Tensors) AssertSame(t, back.Tensors[t.Name]);
            }
            if (python)
            {
                using var doc = JsonDocument.Parse(Python.Run(KerasListing, path));
                var listed = doc.RootElement.GetProperty("weights").EnumerateArray().ToList();
                Assert.Equal(source.Tensors.Count, listed.Count);
                foreach (var w in listed)
                    Assert.True(Hdf5WriterTests.Sha256(source.Tensors[w.GetProperty("name").GetString()!]) == w.GetProperty("sha256").GetString(),
                                $"{file}: {w.GetProperty("name").GetString()}");
            }
            File.Delete(path);
        }
    }

    [Fact]
    public void Keras2_a_state_dict_keeps_its_order_and_gets_one_layer_per_module()
    {
        using var source = ModelFile.Open(TestPaths.Fixture("pytorch", "resnet_tiny_state_dict.pth"));
        var path = Save(source.Tensors, "w.h5");
        using var back = ModelFile.Open(path);
        Assert.Equal(source.Tensors.Select(t => t.Name), back.Tensors.Select(t => t.Name));
        Assert.Equal(new List<object?> { "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked" },
                     back.Metadata["bn1@weight_names"]);
    }

    [PythonFact("h5py", "numpy")]
    public void Keras2_h5py_lists_the_weights_as_keras_loads_them()
    {
        using var source = ModelFile.Open(TestPaths.Fixture("pytorch", "resnet_tiny_state_dict.pth"));
        var path = Save(source.Tensors, "w.h5", options: new WriteOptions { Metadata = new Dictionary<string, string> { ["keras_version"] = "2.4.0" } });
        using var doc = JsonDocument.Parse(Python.Run(KerasListing, path));
        var r = doc.RootElement;
        Assert.Equal("tensorflow", r.GetProperty("backend").GetString());
        Assert.Equal("2.4.0", r.GetProperty("keras_version").GetString());
        Assert.False(r.GetProperty("chunked").GetBoolean());
        var weights = r.GetProperty("weights").EnumerateArray().ToList();
        Assert.Equal(source.Tensors.Select(t => t.Name), weights.Select(w => w.GetProperty("name").GetString()));
        Assert.Equal("layer1.0.bn1", weights.Single(w => w.GetProperty("name").GetString() == "layer1.0.bn1.running_var").GetProperty("layer").GetString());
        foreach (var w in weights)
        {
            var t = source.Tensors[w.GetProperty("name").GetString()!];
            Assert.Equal(Hdf5WriterTests.NumpyDType(t.DType), w.GetProperty("dtype").GetString());
            Assert.Equal(t.Shape.ToArray(), w.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray());
            Assert.Equal(Hdf5WriterTests.Sha256(t), w.GetProperty("sha256").GetString());
        }
    }

    [PythonFact("h5py", "numpy")]
    public void Keras2_layer_names_past_the_object_header_limit_are_chunked_as_keras_chunks_them()
    {
        // 700 layers of 100-byte names: 70,000 bytes > HDF5_OBJECT_HEADER_LIMIT (64512), so np.array_split into 2.
        var tensors = Enumerable.Range(0, 700)
            .Select(i => Hdf5WriterTests.Tensor($"{("layer_" + i).PadRight(100, 'x')}/kernel:0", DType.Float32, [2], i)).ToList();
        var path = Save(tensors, "many.h5");
        using var doc = JsonDocument.Parse(Python.Run(KerasListing, path));
        Assert.True(doc.RootElement.GetProperty("chunked").GetBoolean());
        Assert.Equal(tensors.Select(t => t.Name), doc.RootElement.GetProperty("weights").EnumerateArray().Select(w => w.GetProperty("name").GetString()));
        var chunks = Python.Run("""
            import h5py, sys
            with h5py.File(sys.argv[1], "r") as f:
                print(" ".join("%s:%d:%s" % (k, len(f.attrs[k]), f.attrs[k].dtype.str) for k in sorted(f.attrs) if k.startswith("layer_names")))
            """, path).Trim();
        Assert.Equal("layer_names0:350:|S100 layer_names1:350:|S100", chunks);
        using var back = ModelFile.Open(path);
        Assert.Equal(tensors.Select(t => t.Name), back.Tensors.Select(t => t.Name));
    }

    [WeightScope.Tests.Export.ToolFact("h5dump")]
    public void Keras2_h5dump_reads_the_file_without_errors()
    {
        using var source = ModelFile.Open(TestPaths.Fixture("keras", "nested_full_model.h5"));
        var path = Save(source.Tensors, "w.h5");
        var (code, stdout, stderr) = Hdf5WriterTests.Run("/usr/bin/h5dump", "-A", path);
        Assert.True(code == 0 && stderr.Length == 0, $"h5dump exited {code}: {stderr}");
        Assert.Contains("ATTRIBUTE \"layer_names\"", stdout);
        Assert.Contains("ATTRIBUTE \"weight_names\"", stdout);
        Assert.Contains("DATASET \"kernel:0\"", stdout);
        (code, _, stderr) = Hdf5WriterTests.Run("/usr/bin/h5dump", path);
        Assert.True(code == 0 && stderr.Length == 0, $"h5dump exited {code}: {stderr}");
    }

    // --- keras-weights (Keras 3 model.save_weights) ---

    [Fact]
    public void Keras3_round_trip_of_a_weights_file_keeps_every_name()
    {
        using var source = ModelFile.Open(TestPaths.Fixture("keras", "keras3_plain.weights.h5"));
        var path = Save(source.Tensors, "m.weights.h5");
        using var back = ModelFile.Open(path);
        Assert.Equal("keras-weights", back.Format.Name);
        Assert.Equal(source.Tensors.Select(t => t.Name), back.Tensors.Select(t => t.Name));
        foreach (var t in source.Tensors) AssertSame(t, back.Tensors[t.Name]);
    }

    [PythonFact("h5py", "numpy")]
    public void Keras3_h5py_sees_the_same_datasets_as_in_the_source_weights_file()
    {
        string src = TestPaths.Fixture("keras", "keras3_plain.weights.h5");
        using var source = ModelFile.Open(src);
        var path = Save(source.Tensors, "m.weights.h5");
        Assert.Equal(Python.Run(Hdf5WriterTests.H5pyDatasets, src), Python.Run(Hdf5WriterTests.H5pyDatasets, path));
        // H5Entry's groups: every saveable has "vars", even without variables; no attributes anywhere
        var groups = Python.Run("""
            import h5py, sys
            out = []
            with h5py.File(sys.argv[1], "r") as f:
                f.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Group) else None)
                assert len(f.attrs) == 0
            print(" ".join(out))
            """, path).Trim();
        Assert.Contains("layers/dense/vars", groups);
        Assert.Contains("vars", groups.Split(' '));
    }

    [Theory]
    [InlineData("keras3_zoo.keras")]
    [InlineData("keras3_functional.keras")]
    [InlineData("keras3_deflated.keras")]
    public void Keras3_archives_keep_every_tensor_and_the_names_of_layers_named_as_their_class(string fixture)
    {
        using var source = ModelFile.Open(TestPaths.Fixture("keras", fixture));
        var path = Save(source.Tensors, "m.weights.h5");
        using var back = ModelFile.Open(path);
        Assert.Equal(source.Tensors.Count, back.Tensors.Count);
        // every tensor comes back (optimizer state at optimizer/vars/<i> in order; other layers' variables by position)
        var optimizer = source.Tensors.Where(t => t.Role == TensorRole.OptimizerState).ToList();
        for (int i = 0; i < optimizer.Count; i++) AssertSame(optimizer[i], back.Tensors[$"optimizer/vars/{i}"]);
        var remaining = back.Tensors.Where(t => !t.Name.StartsWith("optimizer/", StringComparison.Ordinal)).ToList();
        foreach (var t in source.Tensors.Where(t => t.Role != TensorRole.OptimizerState))
        {
            // each source tensor claims one read-back tensor with its dtype, shape and bytes
            int match = remaining.FindIndex(r => r.DType == t.DType && r.Shape.Equals(t.Shape) && r.ReadBytes().AsSpan().SequenceEqual(t.ReadBytes()));
            Assert.True(match >= 0, $"{t.Name} {t.DType.Name()}{t.Shape} not found among {string.Join(", ", remaining)}");
            remaining.RemoveAt(match);
        }
        Assert.Empty(remaining);
        if (fixture == "keras3_zoo.keras")
        {
            // the layer named "dense" is a Dense: the table places kernel and bias, the reader names them back
            AssertSame(source.Tensors["dense/kernel"], back.Tensors["dense/kernel"]);
            AssertSame(source.Tensors["dense/bias"], back.Tensors["dense/bias"]);
            AssertSame(source.Tensors["mha/key/bias"], back.Tensors["mha/vars/3"]);
        }
    }

    [PythonFact("h5py", "numpy")]
    public void Keras3_variables_of_known_classes_go_where_their_build_puts_them_and_read_back_by_name()
    {
        // Keras 3 names in an order other than build()'s: the table decides the positions, not the order given.
        var tensors = new[]
        {
            Hdf5WriterTests.Tensor("lstm/lstm_cell/bias", DType.Float32, [8], 1),
            Hdf5WriterTests.Tensor("lstm/lstm_cell/kernel", DType.Float32, [3, 8], 2),
            Hdf5WriterTests.Tensor("lstm/lstm_cell/recurrent_kernel", DType.Float32, [2, 8], 3),
            Hdf5WriterTests.Tensor("batch_normalization_1/moving_variance", DType.Float32, [4], 4),
            Hdf5WriterTests.Tensor("batch_normalization_1/moving_mean", DType.Float32, [4], 5),
            Hdf5WriterTests.Tensor("batch_normalization_1/beta", DType.Float32, [4], 6),
            Hdf5WriterTests.Tensor("batch_normalization_1/gamma", DType.Float32, [4], 7),
            Hdf5WriterTests.Tensor("dense_2/kernel", DType.Float32, [4, 2], 8), // no bias: use_bias=False
        };
        var path = Save(tensors, "m.weights.h5");
        Hdf5WriterTests.CheckH5py(path, new Dictionary<string, TensorEntry>
        {
            ["layers/lstm/cell/vars/0"] = tensors[1],
            ["layers/lstm/cell/vars/1"] = tensors[2],
            ["layers/lstm/cell/vars/2"] = tensors[0],
            ["layers/batch_normalization_1/vars/0"] = tensors[6],
            ["layers/batch_normalization_1/vars/1"] = tensors[5],
            ["layers/batch_normalization_1/vars/2"] = tensors[4],
            ["layers/batch_normalization_1/vars/3"] = tensors[3],
            ["layers/dense_2/vars/0"] = tensors[7],
        });
        using var back = ModelFile.Open(path);
        Assert.Equal(tensors.Select(t => t.Name).Order(StringComparer.Ordinal), back.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var t in tensors) AssertSame(t, back.Tensors[t.Name]);
        Assert.Equal(TensorRole.Buffer, back.Tensors["batch_normalization_1/moving_mean"].Role);
    }

    [Fact]
    public void Keras3_a_state_dict_gets_one_layer_per_module_and_its_variables_by_position()
    {
        using var source = ModelFile.Open(TestPaths.Fixture("pytorch", "resnet_tiny_state_dict.pth"));
        var path = Save(source.Tensors, "m.weights.h5");
        using var back = ModelFile.Open(path);
        Assert.Equal(source.Tensors.Count, back.Tensors.Count);
        AssertSame(source.Tensors["conv1.weight"], back.Tensors["conv1/vars/0"]);
        AssertSame(source.Tensors["bn1.running_var"], back.Tensors["bn1/vars/3"]);
        AssertSame(source.Tensors["bn1.num_batches_tracked"], back.Tensors["bn1/vars/4"]);
        AssertSame(source.Tensors["layer1.0.bn2.bias"], back.Tensors["layer1.0.bn2/vars/1"]);
    }

    [Fact]
    public void Keras3_keras2_names_lose_their_suffix_and_land_where_keras3_puts_the_variable()
    {
        using var source = ModelFile.Open(TestPaths.Fixture("keras", "chunked_layer_names.h5"));
        var path = Save(source.Tensors, "m.weights.h5");
        using var back = ModelFile.Open(path);
        AssertSame(source.Tensors["dense/kernel:0"], back.Tensors["dense/kernel"]);
        AssertSame(source.Tensors["dense/bias:0"], back.Tensors["dense/bias"]);
    }

    [PythonFact("h5py", "numpy")]
    public void Keras3_h5py_reads_a_state_dict_at_the_documented_paths()
    {
        using var source = ModelFile.Open(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth"));
        var path = Save(source.Tensors, "m.weights.h5");
        Hdf5WriterTests.CheckH5py(path, new Dictionary<string, TensorEntry>
        {
            ["layers/fc1/vars/0"] = source.Tensors["fc1.weight"],
            ["layers/fc1/vars/1"] = source.Tensors["fc1.bias"],
            ["layers/fc2/vars/0"] = source.Tensors["fc2.weight"],
            ["layers/fc2/vars/1"] = source.Tensors["fc2.bias"],
        });
    }

    [WeightScope.Tests.Export.ToolFact("h5dump")]
    public void Keras3_h5dump_reads_the_file_without_errors()
    {
        using var source = ModelFile.Open(TestPaths.Fixture("keras", "keras3_functional.keras"));
        var path = Save(source.Tensors, "m.weights.h5");
        var (code, stdout, stderr) = Hdf5WriterTests.Run("/usr/bin/h5dump", "-H", path);
        Assert.True(code == 0 && stderr.Length == 0, $"h5dump exited {code}: {stderr}");
        Assert.Contains("GROUP \"optimizer\"", stdout);
        Assert.Contains("DATASET \"0\"", stdout);
    }

    // --- both ---

    [Theory]
    [InlineData("keras-h5", "w.h5")]
    [InlineData("keras-weights", "m.weights.h5")]
    public void Empty_scalar_float16_and_bool_tensors_round_trip(string format, string file)
    {
        var tensors = new[]
        {
            Hdf5WriterTests.Tensor("x/vars/0", DType.Float32, [0, 3]),
            Hdf5WriterTests.Tensor("x/vars/1", DType.Int64, []),
            Hdf5WriterTests.Tensor("x/vars/2", DType.Float16, [2, 5]),
            Hdf5WriterTests.Tensor("x/vars/3", DType.Bool, [7]),
        };
        var path = Save(tensors, file, format);
        using var back = ModelFile.Open(path);
        Assert.Equal(tensors.Select(t => t.Name), back.Tensors.Select(t => t.Name));
        foreach (var t in tensors) AssertSame(t, back.Tensors[t.Name]);
        if (Python.Has("h5py", "numpy"))
            Hdf5WriterTests.CheckH5py(path, tensors.ToDictionary(t => format == "keras-h5" ? "x/" + t.Name : "layers/" + t.Name));
    }

    [Fact]
    public void The_output_ending_chooses_the_writer()
    {
        Assert.Equal("keras-weights", TensorWriters.ForPath("m.weights.h5").Name);
        Assert.Equal("keras-h5", TensorWriters.ForPath("w.h5").Name);
    }

    [Theory]
    [InlineData("keras-h5", "w.h5")]
    [InlineData("keras-weights", "m.weights.h5")]
    public void Types_hdf5_has_no_plain_type_for_are_refused_before_writing(string format, string file)
    {
        using var everyDType = ModelFile.Open(TestPaths.Fixture("pytorch", "every_dtype.pt"));
        var e = Assert.Throws<ModelWriteException>(() => Save(everyDType.Tensors, file, format));
        Assert.Equal($"{format} cannot store 'bfloat16' (bfloat16): HDF5 as h5py writes it has no bfloat16 type; convert it first (--dtype float32)", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir, file)));
        Assert.Empty(Directory.GetFiles(_dir));

        using var quantized = ModelFile.Open(TestPaths.Fixture("pytorch", "quantized.pt"));
        e = Assert.Throws<ModelWriteException>(() => Save(quantized.Tensors, file, format));
        Assert.Contains("'per_tensor_quint8' (quint8)", e.Message);
        Assert.EndsWith("convert it first (--dtype float32), which dequantizes it", e.Message);

        foreach (var d in new[] { DType.Complex64, DType.Complex128, DType.Float8E4M3FN, DType.Float8E5M2 })
        {
            e = Assert.Throws<ModelWriteException>(() => Save([Hdf5WriterTests.Tensor("x.weight", d, [2])], file, format));
            Assert.Contains($"'x.weight' ({d.Name()})", e.Message);
        }
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Theory]
    [InlineData("keras-h5", "w.h5")]
    [InlineData("keras-weights", "m.weights.h5")]
    public void Tied_weights_are_copied_with_a_warning_or_refused(string format, string file)
    {
        var shared = Hdf5WriterTests.Tensor("emb.weight", DType.Float32, [4, 2]);
        var tied = shared.With(name: "head.weight");
        var warnings = new List<string>();
        var path = Save([shared, tied], file, format, new WriteOptions { Warning = warnings.Add });
        Assert.Contains(warnings, w => w.Contains("emb.weight, head.weight share storage", StringComparison.Ordinal));
        using (var back = ModelFile.Open(path)) Assert.Equal(2, back.Tensors.Count);
        File.Delete(path);
        var e = Assert.Throws<ModelWriteException>(() => Save([shared, tied], file, format, new WriteOptions { SharedStorage = SharedStoragePolicy.Refuse }));
        Assert.Contains("tensors emb.weight, head.weight share storage", e.Message);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Metadata_keras_cannot_hold_is_dropped_with_a_warning()
    {
        var warnings = new List<string>();
        var options = new WriteOptions
        {
            Metadata = new Dictionary<string, string> { ["backend"] = "jax", ["note"] = "x" },
            Warning = warnings.Add,
        };
        var path = Save([Hdf5WriterTests.Tensor("fc.weight", DType.Float32, [2])], "w.h5", options: options);
        Assert.Equal(["keras-h5: metadata note has no place in a Keras weights file and is not written"], warnings);
        using (var back = ModelFile.Open(path)) Assert.Equal("jax", back.Format.Producer);
        warnings.Clear();
        Save([Hdf5WriterTests.Tensor("fc.weight", DType.Float32, [2])], "m.weights.h5", options: options);
        Assert.Equal(["keras-weights: a Keras 3 weights file has no place for metadata; backend, note not written"], warnings);
    }

    [Theory]
    [InlineData("keras-h5", "w.h5")]
    [InlineData("keras-weights", "m.weights.h5")]
    public void Names_hdf5_cannot_hold_are_refused_naming_the_tensor(string format, string file)
    {
        // torch.save(tensor) gives one tensor named "" (the corpus's mnist_0_png_tensor.pt)
        var e = Assert.Throws<ModelWriteException>(() => Save([Hdf5WriterTests.Tensor("", DType.Float32, [1])], file, format));
        Assert.Equal($"{format}: tensor #0 has an empty name, which HDF5 cannot store as a link name; rename it", e.Message);
        e = Assert.Throws<ModelWriteException>(() => Save([Hdf5WriterTests.Tensor("/w", DType.Float32, [1])], file, format));
        Assert.Contains("is not a valid HDF5 path", e.Message);
        Assert.EndsWith("(tensor '/w')", e.Message);
        Assert.Empty(Directory.GetFiles(_dir));
        if (format == "keras-h5")
        {
            // the weight name is a path below the layer group; Keras 3 stores positions, so there "a//b" is just vars/0 of "a"
            e = Assert.Throws<ModelWriteException>(() => Save([Hdf5WriterTests.Tensor("a//b", DType.Float32, [1])], file, format));
            Assert.EndsWith("(tensor 'a//b')", e.Message);
        }
        else
        {
            using var back = ModelFile.Open(Save([Hdf5WriterTests.Tensor("a//b", DType.Float32, [1])], file, format));
            Assert.Equal(["a/vars/0"], back.Tensors.Select(t => t.Name));
        }
    }

    [Fact]
    public void Names_that_would_make_a_path_both_a_group_and_a_dataset_are_refused()
    {
        // both are in layer "a": "a/b" is the dataset a/a/b, and "a/b/c" (dataset a/a/b/c) needs a/a/b to be a group
        var tensors = new[] { Hdf5WriterTests.Tensor("a/b", DType.Float32, [1]), Hdf5WriterTests.Tensor("a/b/c", DType.Float32, [1]) };
        var e = Assert.Throws<ModelWriteException>(() => Save(tensors, "w.h5"));
        Assert.Equal("hdf5: 'a/a/b/c' needs 'b' to be a group, but it is a dataset (rename one of the tensors) (tensor 'a/b/c')", e.Message);
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
