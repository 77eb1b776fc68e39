using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.TfJs;

/// <summary>
/// The corpus tfjs models (MANIFEST.md, tfjs section). Independent answers: the Celsius model, being three linear Dense
/// layers, must compute Fahrenheit; the tfjs e2e dense graph-model was trained towards y = 2x − 1; the digits CNN has the
/// architecture of the Keras .h5 in the corpus (not its values: see that test).
/// </summary>
public sealed class TfJsCorpusTests
{
    // path, kind, producer, tensor count, first tensor name, its shape — as MANIFEST.md lists them
    public static TheoryData<string, string, string, int, string, long[]> Models() => new()
    {
        { "tfjs/celsius-dense-keras2.12/model.json", "layers-model", "keras v2.12.0; TensorFlow.js Converter v4.7.0", 6, "dense/kernel", [1, 3] },
        { "tfjs/digits-cnn-keras2.12/model.json", "layers-model", "keras v2.12.0; TensorFlow.js Converter v4.4.0", 8, "conv2d_2/kernel", [3, 3, 1, 32] },
        { "tfjs/tfjs-e2e-graph-model/model.json", "graph-model", "2.1.0; TensorFlow.js Converter v1.7.4r1", 1, "w", [2, 2] },
        { "tfjs/tfjs-graph-model-dense/model.json", "graph-model", "2.1.0; TensorFlow.js Converter v2.4.0", 2, "StatefulPartitionedCall/sequential_1/dense_Dense1/MatMul/ReadVariableOp", [1, 1] },
        { "tfjs/tfjs-rn-bundle-dense/bundle_model_test.json", "layers-model", "TensorFlow.js tfjs-layers v1.2.7", 2, "dense_Dense2/kernel", [10, 1] },
    };

    [CorpusTheory]
    [MemberData(nameof(Models))]
    public void Opens_with_the_manifest_kind_producer_and_first_weight(string path, string kind, string producer, int count, string first, long[] shape)
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile(path));
        Assert.Equal("tfjs", m.Format.Name);
        Assert.Equal(kind, m.Format.Version);
        Assert.Equal(producer, m.Format.Producer);
        Assert.Equal(count, m.Tensors.Count);
        Assert.Equal(first, m.Tensors[0].Name);
        Assert.Equal(shape, m.Tensors[0].Shape.AsSpan().ToArray());
        Assert.All(m.Tensors, t => Assert.Equal(DType.Float32, t.DType));
        Assert.Equal(kind == "layers-model", m.HasModuleTypes);
        Assert.Equal(2, m.SourceFiles.Count);
        foreach (var t in m.Tensors) Assert.Equal(t.ElementCount, t.ToFloat32().Length);
    }

    [CorpusFact]
    public void Folder_opens_like_its_model_json()
    {
        using var a = ModelFile.Open(TestPaths.CorpusFile("tfjs/celsius-dense-keras2.12"));
        using var b = ModelFile.Open(TestPaths.CorpusFile("tfjs/celsius-dense-keras2.12/model.json"));
        Assert.Equal(b.Tensors.Select(t => t.Name), a.Tensors.Select(t => t.Name));
        using var c = ModelFile.Open(TestPaths.CorpusFile("tfjs/tfjs-rn-bundle-dense")); // its only JSON file is not named model.json
        Assert.Equal("dense_Dense2/bias", c.Tensors[1].Name);
    }

    /// <summary>
    /// MANIFEST.md says the tfjs digits CNN has the same weights as keras-h5/digits-cnn-keras2.12; it does not: the .h5 names
    /// its Dense layers dense_2/dense_3 where model.json has dense_4/dense_5, and every value differs — another training
    /// run of the same architecture. What does carry over, and is checked here, is the architecture: the same weight
    /// shapes in the same order.
    /// </summary>
    [CorpusFact]
    public void Digits_cnn_has_the_architecture_of_the_keras_h5_in_the_corpus_but_another_training_run()
    {
        using var tfjs = ModelFile.Open(TestPaths.CorpusFile("tfjs/digits-cnn-keras2.12/model.json"));
        using var keras = ModelFile.Open(TestPaths.CorpusFile("keras-h5/digits-cnn-keras2.12/digits_cnn_model.h5"));
        Assert.Equal(keras.Tensors.Select(k => k.Shape), tfjs.Tensors.Select(t => t.Shape));
        Assert.NotEqual(keras.Tensors[0].ToFloat32(), tfjs.Tensors[0].ToFloat32());
        Assert.Equal(["conv2d_2", "max_pooling2d_2", "conv2d_3", "max_pooling2d_3", "flatten_2", "dense_4", "dense_5"],
            tfjs.Modules.Children.Where(c => c.Type != "InputLayer").Select(c => c.Name));
        Assert.Same(tfjs.Tensors["dense_5/bias"], tfjs.Modules.Child("dense_5")!.Parameters["bias"]);
    }

    [CorpusTheory]
    [InlineData(0.0, 32.0)]
    [InlineData(100.0, 212.0)]
    [InlineData(-40.0, -40.0)]
    public void Celsius_model_computes_fahrenheit(double celsius, double fahrenheit)
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("tfjs/celsius-dense-keras2.12/model.json"));
        double[] x = [celsius];
        foreach (var layer in new[] { "dense", "dense_1", "dense_2" }) // Dense with activation 'linear': x·kernel + bias
        {
            var kernel = m.Tensors[layer + "/kernel"];
            var w = kernel.ToFloat32();
            var b = m.Tensors[layer + "/bias"].ToFloat32();
            int rows = (int)kernel.Shape[0], cols = (int)kernel.Shape[1];
            var y = new double[cols];
            for (int j = 0; j < cols; j++)
            {
                y[j] = b[j];
                for (int i = 0; i < rows; i++) y[j] += x[i] * w[i * cols + j];
            }
            x = y;
        }
        Assert.Equal(fahrenheit, x[0], 0.5);
    }

    [CorpusFact]
    public void Dense_graph_model_learned_two_x_minus_one()
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("tfjs/tfjs-graph-model-dense"));
        Assert.Equal(2.0, m.Tensors[0].ToFloat32()[0], 0.1);
        Assert.Equal(-1.0, m.Tensors[1].ToFloat32()[0], 0.2);
    }

}
