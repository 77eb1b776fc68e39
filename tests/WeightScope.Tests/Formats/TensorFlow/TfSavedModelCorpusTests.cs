using WeightScope.Modules;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.TensorFlow;

/// <summary>
/// SavedModel folders of the corpus: the variables checkpoint completed by <c>saved_model.pb</c> (tags, signatures,
/// roles) and, for tf.keras models, <c>keras_metadata.pb</c> (layer tree, <c>model.weights</c> order). TensorFlow cannot
/// be installed here; the expected values are the manifest's, the configs' (parameter counts worked out in the test from
/// units and input sizes), and what <c>protoc --decode_raw</c> shows in the files (quoted where used).
/// </summary>
public sealed class TfSavedModelCorpusTests
{
    [CorpusTheory]
    [InlineData("tf-savedmodel/tf-serving/saved_model_half_plus_two_cpu", 5)]
    [InlineData("tf-savedmodel/tfnet/simple_model_from_auto_compile", 8)]
    [InlineData("tf-savedmodel/tf2onnx-regression", 2)]
    public void Folder_opens_as_its_variables(string path, int tensors)
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile(path));
        Assert.Equal("tf-savedmodel", m.Format.Name);
        Assert.Equal(tensors, m.Tensors.Count);
        Assert.Contains(Path.Combine(TestPaths.CorpusFile(path), "saved_model.pb"), m.SourceFiles);
        Assert.Contains(Path.Combine(TestPaths.CorpusFile(path), "variables", "variables.data-00000-of-00001"), m.SourceFiles);
    }

    [CorpusFact]
    public void Tf1_saved_model_roles_come_from_the_trainable_variables_collection()
    {
        // protoc --decode_raw saved_model.pb: collection_def "trainable_variables" lists a:0, b:0, c:0, a2:0, c2:0
        using var m = ModelFile.Open(TestPaths.CorpusFile("tf-savedmodel/tf-serving/saved_model_half_plus_two_cpu"));
        Assert.Equal(["a", "a2", "b", "c", "c2"], m.Tensors.Select(t => t.Name));
        Assert.All(m.Tensors, t => Assert.Equal(TensorRole.Parameter, t.Role));
        Assert.Equal("TF 1.14.0", m.Format.Version); // MANIFEST: MetaInfoDef.tensorflow_version 1.14.0
        Assert.Equal(new List<object?> { "serve" }, m.Metadata["tags"]);
        var signatures = Assert.IsType<OrderedDictionary<string, object?>>(m.Metadata["signatures"]);
        // saved_model_half_plus_two.py: regress, classify and predict signatures
        Assert.Equal(["classify_x_to_y", "regress_x2_to_y3", "regress_x_to_y", "regress_x_to_y2", "serving_default"], signatures.Keys);
        var regress = Assert.IsType<OrderedDictionary<string, object?>>(signatures["regress_x_to_y"]);
        Assert.Equal("tensorflow/serving/regress", regress["method_name"]);
        Assert.Equal("y:0 float32 [-1, 1]", Assert.IsType<OrderedDictionary<string, object?>>(regress["outputs"])["outputs"]);
    }

    [CorpusFact]
    public void Tf2_module_variables_are_named_and_trainable()
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("tf-savedmodel/tf-serving/saved_model_half_plus_two_tf2_cpu"));
        Assert.Equal(["a", "b", "c"], m.Tensors.Select(t => t.Name));
        Assert.All(m.Tensors, t => Assert.Equal(TensorRole.Parameter, t.Role)); // SavedVariable.trainable
        Assert.Equal("TF 2.14.0", m.Format.Version);
        var keys = Assert.IsType<OrderedDictionary<string, object?>>(m.Metadata["checkpoint_keys"]);
        Assert.Equal("a/.ATTRIBUTES/VARIABLE_VALUE", keys["a"]);
    }

    [CorpusFact]
    public void Keras_lstm_saved_model_is_its_layers_in_model_weights_order()
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("tf-savedmodel/tfnet/lstm_from_sequential"));
        Assert.StartsWith("tf.keras 2.12.0;", m.Format.Producer);
        Assert.True(LayoutNotes.IsKerasModel(m.Format));
        // model.weights: the LSTM cell's kernel, recurrent kernel and bias, then the Dense kernel and bias
        Assert.Equal(["lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel", "lstm/lstm_cell/bias", "dense/kernel", "dense/bias"],
            m.Tensors.Take(5).Select(t => t.Name));
        Assert.All(m.Tensors.Take(5), t => Assert.Equal(TensorRole.Parameter, t.Role));
        Assert.Equal(4, m.Tensors.Count(t => t.Role == TensorRole.Other)); // two metrics' total and count
        Assert.Equal(12, m.Tensors.Count(t => t.Role == TensorRole.OptimizerState)); // iteration, learning_rate, Adam m and v of 5 weights

        // config: input (None, 5, 3), LSTM units 32, Dense units 1
        const int input = 3, units = 32;
        var summary = ModelSummary.Of(m);
        Assert.Equal(4 * units * (input + units + 1) + (units + 1), summary.Total.Params);
        Assert.Equal(summary.Total, summary.Trainable);
        Assert.Equal(["Sequential", "InputLayer", "LSTM", "Dense"], m.Modules.Descendants().Select(n => n.Type));
        Assert.Equal(4 * units * (input + units + 1), m.Modules.Child("lstm")!.ParameterCount);
        Assert.Equal("2.12.0", m.Metadata["keras_version"]);
    }

    [CorpusFact]
    public void Keras_model_from_tf_2_4_keeps_its_config_in_the_object_graph()
    {
        // no keras_metadata.pb: TF 2.4 kept the Keras metadata in the root SavedUserObject
        using var m = ModelFile.Open(TestPaths.CorpusFile("tf-savedmodel/tfnet/leak_testmodel/saved_model"));
        Assert.StartsWith("tf.keras 2.4.0;", m.Format.Producer);
        Assert.Equal(["enc/conv1d/kernel", "enc/conv1d/bias"], m.Tensors.Select(t => t.Name));
        Assert.All(m.Tensors, t => Assert.Equal(TensorRole.Parameter, t.Role));
        Assert.Equal(3 * 2 * 16 + 16, ModelSummary.Of(m).Total.Params);
    }

    [CorpusFact]
    public void Graph_only_saved_model_lists_its_graph_constants()
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("tf-savedmodel/tfnet/example1_graph_only"));
        Assert.Equal("TF 1.13.1", m.Format.Version);
        // protoc --decode_raw: Const 'sp_conv1/bias/Initializer/zeros' is DT_FLOAT, shape [8], with one value, 0.0f;
        // TensorFlow repeats the last value over the shape
        var zeros = m.Tensors["sp_conv1/bias/Initializer/zeros"];
        Assert.Equal([8L], zeros.Shape.ToArray());
        Assert.Equal(new float[8], zeros.ToArray<float>());
        Assert.Equal(0L, m.Tensors["global_step/Initializer/zeros"].ToArray<long>().Single());
        var declared = Assert.IsType<List<object?>>(m.Metadata["graph_variables"]);
        Assert.Contains("sp_conv1/kernel float32[5, 1, 8]", declared);
        Assert.Equal(11, declared.Count);
    }
}
