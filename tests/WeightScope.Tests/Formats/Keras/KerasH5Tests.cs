using System.Text.Json;
using WeightScope.Modules;
using WeightScope.Tensors;
using WeightScope.Tests.Formats.Hdf5;
using Xunit;

namespace WeightScope.Tests.Formats.Keras;

/// <summary>
/// Keras 1/2 HDF5 files against Keras's own listing rule, computed with h5py by keras_fixtures.py following Keras's
/// load_weights_from_hdf5_group (tests/fixtures/keras/expected.json and corpus_expected.json): names in layer_names /
/// weight_names order, dtype, shape, value sum, role, the layer's class from model_config.
/// </summary>
public class KerasH5Tests
{
    private static JsonElement Load(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("keras", file)));
        return doc.RootElement.Clone();
    }

    public static TheoryData<string> CorpusFiles()
    {
        var data = new TheoryData<string>();
        foreach (var p in Load("corpus_expected.json").EnumerateObject()) data.Add(p.Name);
        return data;
    }

    [CorpusTheory]
    [MemberData(nameof(CorpusFiles))]
    public void Corpus_file_lists_as_keras_does(string file)
    {
        using var model = ModelFile.Open(TestPaths.CorpusFile(file));
        AssertKerasView(model, Load("corpus_expected.json").GetProperty(file));
    }

    [Theory]
    [InlineData("chunked_layer_names.h5")]
    [InlineData("nested_full_model.h5")]
    public void Fixture_lists_as_keras_does(string file)
    {
        using var model = ModelFile.Open(TestPaths.Fixture("keras", file));
        AssertKerasView(model, Load("expected.json").GetProperty(file));
    }

    private static void AssertKerasView(ModelFile model, JsonElement expected)
    {
        Assert.Equal("keras-h5", model.Format.Name);
        Assert.Equal(expected.GetProperty("keras_version").GetString(), model.Format.Version);
        Assert.Equal(expected.GetProperty("backend").GetString(), model.Format.Producer);
        Assert.Equal(expected.GetProperty("dataset_count").GetInt32(), model.Tensors.Count);
        var tensors = expected.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(tensors.Select(t => t.GetProperty("name").GetString()), model.Tensors.Take(tensors.Count).Select(t => t.Name));
        if (expected.GetProperty("model_class").GetString() is { } cls) Assert.Equal(cls, model.Modules.Type);
        foreach (var t in tensors)
        {
            var actual = model.Tensors[t.GetProperty("name").GetString()!];
            Assert.Equal(t.GetProperty("dtype").GetString(), Hdf5FixtureTests.NumpyStr(actual));
            Assert.Equal(t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), actual.Shape);
            Assert.Equal(t.GetProperty("role").GetString(), actual.Role.ToString());
            double sum = actual.ToFloat64().Where(double.IsFinite).Sum();
            double want = t.GetProperty("sum").GetDouble();
            Assert.True(Math.Abs(sum - want) <= 1e-6 * Math.Max(1, Math.Abs(want)), $"{actual.Name}: sum {sum}, h5py {want}");
            if (t.GetProperty("layer").GetString() is { } layer)
            {
                var node = model.Modules.Child(layer);
                Assert.NotNull(node);
                Assert.Equal(t.GetProperty("layer_class").GetString(), node.Type);
                Assert.Contains(actual, node.AllTensors());
            }
        }
    }

    [Fact]
    public void Nested_model_becomes_a_nested_module_with_config_attributes()
    {
        using var model = ModelFile.Open(TestPaths.Fixture("keras", "nested_full_model.h5"));
        Assert.True(model.HasModuleTypes);
        Assert.Equal(["input_1", "encoder", "bn", "frozen_conv", "head"], model.Modules.Children.Select(c => c.Name));
        var encoder = model.Modules.Child("encoder")!;
        Assert.Equal("Sequential", encoder.Type);
        var dense = encoder.Child("enc_dense")!;
        Assert.Equal("Dense", dense.Type);
        Assert.Equal(4L, dense.Attributes["units"]);
        Assert.Equal("relu", dense.Attributes["activation"]);
        Assert.Same(model.Tensors["enc_dense/kernel:0"], dense.Parameters["kernel"]);
        var frozen = encoder.Child("enc_frozen")!;
        Assert.Equal(["kernel", "bias"], frozen.Buffers.Keys);
        Assert.Empty(frozen.Parameters);
        var bn = model.Modules.Child("bn")!;
        Assert.Equal(["gamma", "beta"], bn.Parameters.Keys);
        Assert.Equal(["moving_mean", "moving_variance"], bn.Buffers.Keys);
        var conv = model.Modules.Child("frozen_conv")!;
        Assert.Equal(new object?[] { 3L }, (object?[])conv.Attributes["kernel_size"]!);
        Assert.Equal(false, conv.Attributes["trainable"]);
        Assert.Equal(new object?[] { null, 5L }, (object?[])model.Modules.Child("input_1")!.Attributes["batch_input_shape"]!);
        Assert.Same(model.Tensors["temperature:0"], model.Modules.Parameters["temperature"]); // top_level_model_weights: owned by the model itself
        Assert.Equal("model", model.Modules.Attributes["name"]);
    }

    [Fact]
    public void Optimizer_weights_follow_the_model_weights_and_configs_stay_in_metadata()
    {
        using var model = ModelFile.Open(TestPaths.Fixture("keras", "nested_full_model.h5"));
        var roles = model.Tensors.Select(t => t.Role).ToList();
        int firstOptimizer = roles.IndexOf(TensorRole.OptimizerState);
        Assert.Equal(model.Tensors.Count - 3, firstOptimizer);
        Assert.All(roles.Skip(firstOptimizer), r => Assert.Equal(TensorRole.OptimizerState, r));
        Assert.Equal(DType.Int64, model.Tensors["Adam/iter:0"].DType);
        Assert.Empty(model.Tensors["Adam/iter:0"].Shape);
        using var config = JsonDocument.Parse((string)model.Metadata["model_config"]!);
        Assert.Equal("Functional", config.RootElement.GetProperty("class_name").GetString());
        Assert.IsType<string>(model.Metadata["training_config"]);
    }

    [Fact]
    public void Chunked_layer_names_are_joined_in_chunk_order()
    {
        using var model = ModelFile.Open(TestPaths.Fixture("keras", "chunked_layer_names.h5"));
        Assert.True(model.Metadata.ContainsKey("layer_names0") && model.Metadata.ContainsKey("layer_names1"));
        Assert.False(model.Metadata.ContainsKey("layer_names"));
        Assert.Equal(44, model.Modules.Children.Count);
        Assert.Equal("dense_1", model.Modules.Children[^1].Name);
        Assert.Null(model.Modules.Type); // weights only: no model_config, so no classes
    }

    [Fact]
    public void Plain_hdf5_with_a_model_weights_group_stays_hdf5()
    {
        using var model = ModelFile.Open(TestPaths.Fixture("hdf5", "mixed_earliest.h5"));
        Assert.Equal("hdf5", model.Format.Name);
    }
}

/// <summary>Damaged Keras files (written by keras_fixtures.py): a clear error from the one exception family.</summary>
public class KerasH5BadInputTests
{
    [Fact]
    public void Weight_name_without_dataset_names_the_layer_and_path()
    {
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(TestPaths.Fixture("keras", "bad_missing_weight.h5")));
        Assert.Equal("keras-h5", e.Format);
        Assert.Contains("model_weights/dense/dense/bias:0", e.Message);
        Assert.Contains("'dense'", e.Message);
    }

    [Fact]
    public void Model_config_that_is_not_json_is_reported_as_such()
    {
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(TestPaths.Fixture("keras", "bad_model_config.h5")));
        Assert.Equal("keras-h5", e.Format);
        Assert.Contains("model_config", e.Message);
    }
}
