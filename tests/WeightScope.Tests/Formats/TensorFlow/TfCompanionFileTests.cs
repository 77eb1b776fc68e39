using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.TensorFlow;

/// <summary>
/// Opening any file of a TensorFlow model opens the model (saved_model.pb, keras_metadata.pb, a data shard, X.meta, the
/// checkpoint state file), a TF1 checkpoint takes its roles from the meta graph beside it, and a meta graph alone lists
/// its graph's constants.
/// </summary>
public sealed class TfCompanionFileTests
{
    public static TheoryData<string, string, string[]> Companions() => new()
    {
        { "tf-savedmodel/tf-serving/saved_model_half_plus_two_tf2_cpu/saved_model.pb", "tf-savedmodel", ["a", "b", "c"] },
        { "tf-savedmodel/tf-serving/saved_model_half_plus_two_tf2_cpu/fingerprint.pb", "tf-savedmodel", ["a", "b", "c"] },
        { "tf-savedmodel/tfnet/leak_testmodel/saved_model/saved_model.pb", "tf-savedmodel", ["enc/conv1d/kernel", "enc/conv1d/bias"] },
        { "tf-checkpoint/tf2onnx-regression-tf1saver/model.data-00000-of-00001", "tf-checkpoint", ["W", "b"] },
        { "tf-checkpoint/tf2onnx-regression-tf1saver/model.meta", "tf-checkpoint", ["W", "b"] },
        { "tf-checkpoint/tf2onnx-regression-tf1saver/checkpoint", "tf-checkpoint", ["W", "b"] },
        { "tf-checkpoint/tf-serving/half_plus_two_v2ckpt_export/export.data-00000-of-00001", "tf-checkpoint", ["Variable", "Variable_1"] },
        { "tf-checkpoint/tf-serving/bad_half_plus_two/export.meta", "tf-checkpoint", ["Variable", "Variable_1"] }, // V1 'export'
        { "tf-checkpoint/tf-serving/session_bundle_half_plus_two_v1ckpt/export.meta", "tf-checkpoint", ["a", "b"] }, // V1 'export-00000-of-00001'
    };

    [CorpusTheory]
    [MemberData(nameof(Companions))]
    public void A_companion_file_opens_its_model(string path, string format, string[] names)
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile(path));
        Assert.Equal(format, m.Format.Name);
        Assert.Equal(names, m.Tensors.Select(t => t.Name));
    }

    [CorpusFact]
    public void Tf1_checkpoint_roles_come_from_its_meta_graph()
    {
        // protoc --decode_raw model.meta: collection_def "trainable_variables" lists W:0 and b:0
        using var m = ModelFile.Open(TestPaths.CorpusFile("tf-checkpoint/tf2onnx-regression-tf1saver/model.index"));
        Assert.All(m.Tensors, t => Assert.Equal(TensorRole.Parameter, t.Role));
        Assert.Contains(TestPaths.CorpusFile("tf-checkpoint/tf2onnx-regression-tf1saver/model.meta"), m.SourceFiles);
    }

    [CorpusFact]
    public void A_meta_graph_alone_lists_its_constants_and_declared_variables()
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("tf-checkpoint/tfnet_meta/xor.meta"));
        Assert.Equal("tf-metagraph", m.Format.Name);
        Assert.Equal("TF 1.13.1", m.Format.Version); // MANIFEST: MetaInfoDef.tensorflow_version 1.13.1
        // protoc --decode_raw: Const 'truncated_normal/stddev' holds float_val bytes f3 04 35 3f (0x3f3504f3)
        Assert.Equal(BitConverter.Int32BitsToSingle(0x3f3504f3), m.Tensors["truncated_normal/stddev"].ToArray<float>().Single());
        // protoc --decode_raw: VariableV2 nodes Variable (shape 2×8, DT_FLOAT), Variable_1 (8×1, DT_FLOAT), global_step (scalar, DT_INT32)
        Assert.Equal(new List<object?> { "Variable float32[2, 8]", "Variable_1 float32[8, 1]", "global_step int32[]" }, m.Metadata["graph_variables"]);
    }
}
