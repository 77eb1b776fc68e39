using WeightScope.Modules;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Modules;

/// <summary>Layout notes for Keras weights whose PyTorch counterpart is laid out differently.</summary>
public class LayoutNotesTests
{
    private static string? NoteFor(string file, string tensor)
    {
        using var model = ModelFile.Open(file);
        return LayoutNotes.For(model, model.Tensors[tensor]);
    }

    [Fact]
    public void Dense_and_convolution_kernels_of_a_keras_file_get_notes_other_weights_do_not()
    {
        string file = TestPaths.Fixture("keras", "nested_full_model.h5");
        Assert.Contains("(in, out) = (3, 1)", NoteFor(file, "head/kernel:0"));
        Assert.Contains("--transpose", NoteFor(file, "head/kernel:0"));
        Assert.Contains("Conv1d weight is (out, in, k1): w.permute(2, 1, 0)", NoteFor(file, "frozen_conv/kernel:0"));
        Assert.Null(NoteFor(file, "head/bias:0"));
        Assert.Null(NoteFor(file, "bn/gamma:0"));
        Assert.Null(NoteFor(file, "temperature:0"));
    }

    [Fact]
    public void A_tfjs_layers_model_is_a_keras_model_with_keras_layouts()
    {
        string folder = TestPaths.Fixture("tfjs", "layers"); // written by tfjs-layers model.save
        Assert.Contains("(in, out) = (2, 3)", NoteFor(folder, "fc1/kernel"));
        using var model = ModelFile.Open(folder);
        Assert.True(LayoutNotes.IsKerasModel(model.Format));
        using var graph = ModelFile.Open(TestPaths.Fixture("tfjs", "mixed")); // a graph-model: TF ops, no Keras layers
        Assert.False(LayoutNotes.IsKerasModel(graph.Format));
    }

    [Fact]
    public void PyTorch_files_need_no_note()
    {
        string file = Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth");
        Assert.Null(NoteFor(file, "fc1.weight"));
    }

    [CorpusFact]
    public void Lstm_kernels_of_a_corpus_model_say_the_gate_order()
    {
        string file = TestPaths.CorpusFile("keras-h5/frugally-deep/lstm_bidirectional_keras2.2.5.h5");
        var note = NoteFor(file, "lstm_1/kernel:0");
        Assert.Contains("gates i, f, c, o", note);
        Assert.Contains("(in, 4·units) = (4, 32)", note);
        Assert.Contains("weight_hh_l0", NoteFor(file, "lstm_1/recurrent_kernel:0"));
    }

    [Theory]
    [InlineData("Conv2D", "kernel", new long[] { 3, 3, 1, 32 }, "Conv2d weight is (out, in, k1, k2): w.permute(3, 2, 0, 1)")]
    [InlineData("Conv3D", "kernel", new long[] { 2, 3, 3, 4, 8 }, "Conv3d weight is (out, in, k1, k2, k3): w.permute(4, 3, 0, 1, 2)")]
    [InlineData("Conv2DTranspose", "kernel", new long[] { 3, 3, 8, 4 }, "ConvTranspose2d weight is (in, out, k1, k2)")]
    [InlineData("DepthwiseConv2D", "depthwise_kernel", new long[] { 3, 3, 4, 2 }, "(in·multiplier, 1, k1, k2)")]
    [InlineData("GRU", "kernel", new long[] { 6, 9 }, "gates r, z, n")]
    [InlineData("QDense", "kernel", new long[] { 16, 64 }, "nn.Linear weight is (out, in)")]
    public void Notes_by_layer_type(string type, string local, long[] dims, string expected) =>
        Assert.Contains(expected, LayoutNotes.ForKeras(type, local, new Shape(dims)));

    [Theory]
    [InlineData("Embedding", "embeddings", new long[] { 100, 8 })] // (vocab, dim) in both frameworks
    [InlineData("EinsumDense", "kernel", new long[] { 4, 2, 8 })]  // no single PyTorch counterpart
    [InlineData("Dense", "bias", new long[] { 8 })]
    [InlineData("Bidirectional", "forward_lstm/kernel", new long[] { 4, 16 })]
    public void No_note_where_the_layouts_agree_or_no_counterpart_exists(string type, string local, long[] dims) =>
        Assert.Null(LayoutNotes.ForKeras(type, local, new Shape(dims)));
}
