using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.TensorFlow;

/// <summary>
/// The corpus checkpoints (tf-checkpoint/ and the variables/ bundles of tf-savedmodel/; see its MANIFEST.md). TensorFlow
/// cannot be installed here: keys and values come from the manifest (half_plus_two: a=0.5, b=2.0, c=3.0) and from the
/// TensorFlow.NET test assets' .npy files, written by NumPy from the live Keras model (independent of the checkpoint bytes).
/// </summary>
public sealed class TfCheckpointCorpusTests
{
    // path (an .index, a prefix or a folder), tensor names in order
    public static TheoryData<string, string[]> Checkpoints() => new()
    {
        { "tf-checkpoint/tf-serving/half_plus_two_v2ckpt_export/export.index", ["Variable", "Variable_1"] },
        { "tf-checkpoint/tf-serving/half_plus_two_v2ckpt_export/export", ["Variable", "Variable_1"] },
        { "tf-checkpoint/tf2onnx-regression-tf1saver", ["W", "b"] },
        { "tf-savedmodel/tf2onnx-regression/variables/variables.index", ["W", "b"] },
        { "tf-savedmodel/tf-serving/saved_model_counter/variables/variables.index", ["counter"] },
        // this index's data block is snappy-compressed (python3-snappy decodes it to the same keys)
        { "tf-savedmodel/tf-serving/saved_model_half_plus_two_cpu/variables/variables.index", ["a", "a2", "b", "c", "c2"] },
        { "tf-savedmodel/tf-serving/saved_model_half_plus_two_mkl/variables/variables.index",
            ["a", "b", "c", "conv2d/bias", "conv2d/kernel", "conv2d_1/bias", "conv2d_1/kernel", "conv2d_2/bias", "conv2d_2/kernel"] },
        // TF2 object-based keys (a/.ATTRIBUTES/VARIABLE_VALUE, encoder/conv/bias/.ATTRIBUTES/VARIABLE_VALUE) named by the
        // variables' full_name in the object graph, in key order
        { "tf-savedmodel/tf-serving/saved_model_half_plus_two_tf2_cpu/variables", ["a", "b", "c"] },
        { "tf-savedmodel/tfnet/leak_testmodel/saved_model/variables/variables.index", ["enc/conv1d/bias", "enc/conv1d/kernel"] },
    };

    [CorpusTheory]
    [MemberData(nameof(Checkpoints))]
    public void Opens_with_the_keys_in_order_and_every_tensor_passes_its_checksum(string path, string[] names)
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile(path));
        Assert.Equal("tf-checkpoint", m.Format.Name);
        Assert.Equal(names, m.Tensors.Select(t => t.Name));
        foreach (var t in m.Tensors) _ = t.ToFloat32();
    }

    [CorpusTheory]
    [InlineData("tf-savedmodel/tf-serving/saved_model_half_plus_two_cpu/variables/variables.index")]
    [InlineData("tf-savedmodel/tf-serving/saved_model_half_plus_two_tf2_cpu/variables/variables.index")]
    [InlineData("tf-savedmodel/tf-serving/saved_model_half_plus_two_tf2_cpu")]
    public void Half_plus_two_values_are_the_manifests(string path)
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile(path));
        Assert.Equal([0.5f], m.Tensors["a"].ToArray<float>());
        Assert.Equal([2.0f], m.Tensors["b"].ToArray<float>());
        Assert.Equal([3.0f], m.Tensors["c"].ToArray<float>());
    }

    [CorpusFact]
    public void Tf1_saver_half_plus_two_variables_are_a_and_b()
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("tf-checkpoint/tf-serving/half_plus_two_v2ckpt_export/export.index"));
        Assert.Equal([0.5f], m.Tensors["Variable"].ToArray<float>());
        Assert.Equal([2.0f], m.Tensors["Variable_1"].ToArray<float>());
    }

    [CorpusFact]
    public void Keras_weights_equal_the_npy_files_tensorflow_net_saved_from_the_model()
    {
        const string dir = "tf-savedmodel/tfnet/simple_model_from_auto_compile/";
        using var m = ModelFile.Open(TestPaths.CorpusFile(dir + "variables/variables.index"));
        // model.TrainableWeights = [kernel0, bias0, kernel1, bias1]: [2] is layer 1's kernel, [1] layer 0's bias
        using var kernel1 = ModelFile.Open(TestPaths.CorpusFile(dir + "kernel1.npy"));
        using var bias0 = ModelFile.Open(TestPaths.CorpusFile(dir + "bias0.npy"));
        var k = m.Tensors["dense_1/kernel"];
        var b = m.Tensors["dense/bias"];
        var keys = Assert.IsType<OrderedDictionary<string, object?>>(m.Metadata["checkpoint_keys"]);
        Assert.Equal("layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE", keys["dense_1/kernel"]);
        Assert.Equal(kernel1.Tensors.Single().Shape.ToArray(), k.Shape.ToArray());
        Assert.Equal(kernel1.Tensors.Single().ToArray<float>(), k.ToArray<float>());
        Assert.Equal(bias0.Tensors.Single().ToArray<float>(), b.ToArray<float>());
        Assert.IsType<byte[]>(m.Metadata["_CHECKPOINTABLE_OBJECT_GRAPH"]);
    }

    [CorpusFact]
    public void Keras_optimizer_variables_are_optimizer_state()
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("tf-savedmodel/tfnet/lstm_from_sequential/variables/variables.index"));
        Assert.Equal(21, m.Tensors.Count);
        // keys under optimizer/ (optimizer/_variables/1 is Adam/m/lstm/lstm_cell/kernel) are optimizer state whatever their name
        var keys = Assert.IsType<OrderedDictionary<string, object?>>(m.Metadata["checkpoint_keys"]);
        var optimizer = m.Tensors.Where(t => ((string)keys[t.Name]!).StartsWith("optimizer/", StringComparison.Ordinal)).ToList();
        Assert.Equal(12, optimizer.Count);
        Assert.All(optimizer, t => Assert.Equal(TensorRole.OptimizerState, t.Role));
        Assert.Equal(DType.Int64, m.Tensors["iteration"].DType);
        Assert.Equal("optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE", keys["iteration"]);
        Assert.Equal([3L, 128L], m.Tensors["lstm/lstm_cell/kernel"].Shape.ToArray());
        Assert.Equal("variables/0/.ATTRIBUTES/VARIABLE_VALUE", keys["lstm/lstm_cell/kernel"]);
        // two metrics each own a 'total' and a 'count': the shared full names give way to the object paths
        Assert.Contains("keras_api/metrics/1/total", m.Tensors.Select(t => t.Name));
    }

    [CorpusTheory]
    [InlineData("tf-checkpoint/tf-serving/session_bundle_half_plus_two_v1ckpt/export-00000-of-00001", "a", "b")]
    [InlineData("tf-checkpoint/tf-serving/bad_half_plus_two", "Variable", "Variable_1")] // its state file points at /tmp/…/export: the folder's own 'export'
    public void V1_checkpoints_hold_half_plus_two(string path, string a, string b)
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile(path));
        Assert.Equal("V1", m.Format.Version);
        Assert.Equal([a, b], m.Tensors.Select(t => t.Name));
        Assert.Equal([0.5f], m.Tensors[a].ToArray<float>()); // MANIFEST: half_plus_two a=0.5, b=2.0
        Assert.Equal([2.0f], m.Tensors[b].ToArray<float>());
        Assert.NotEmpty(m.SourceFiles);
    }

    [CorpusFact]
    public void Corrupt_shard_copy_fails_its_checksum_on_read()
    {
        using var dir = new TempDir();
        const string src = "tf-savedmodel/tfnet/leak_testmodel/saved_model/variables/";
        File.Copy(TestPaths.CorpusFile(src + "variables.index"), Path.Combine(dir.Path, "variables.index"));
        long offset;
        using (var original = ModelFile.Open(TestPaths.CorpusFile(src + "variables.index")))
            offset = ((WeightScope.Formats.TensorFlow.Bundle.BundleStorage)original.Tensors["enc/conv1d/bias"].Storage).FileOffset;
        var data = File.ReadAllBytes(TestPaths.CorpusFile(src + "variables.data-00000-of-00001"));
        data[offset + 5] ^= 0x40;
        File.WriteAllBytes(Path.Combine(dir.Path, "variables.data-00000-of-00001"), data);
        using var m = ModelFile.Open(dir.Path);
        _ = m.Tensors["enc/conv1d/kernel"].ToFloat32();
        var e = Assert.Throws<InvalidModelContentException>(() => m.Tensors["enc/conv1d/bias"].ToFloat32());
        Assert.Contains($"tensor 'encoder/conv/bias/.ATTRIBUTES/VARIABLE_VALUE' (64 bytes at offset {offset} of shard 'variables.data-00000-of-00001') fails its CRC-32C check", e.Message);
    }
}
