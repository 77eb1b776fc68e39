using WeightScope.Tensors;
using WeightScope.Tests;
using Xunit;

namespace WeightScope.TorchSharp.Tests;

/// <summary>
/// The paths large tensors take — cut into row pieces, and a permuted (Keras) tensor read as stored and permuted by
/// torch — run on small fixtures with pieces made tiny, and give exactly what the whole-tensor paths give.
/// </summary>
[Collection(nameof(CopyPiecesTests))] // alone: it changes how every copy is cut while it runs
[CollectionDefinition(nameof(CopyPiecesTests), DisableParallelization = true)]
public sealed class CopyPiecesTests
{
    [Theory]
    [InlineData("pytorch/simple_nn_state_dict.pth", true)]
    [InlineData("pytorch/every_dtype.pt", true)]
    [InlineData("pytorch/quantized.pt", true)]
    [InlineData("keras/keras3_deflated.keras", true)]
    [InlineData("keras/nested_full_model.h5", false)]
    public void Tiny_pieces_give_what_whole_tensors_give(string fixture, bool strict)
    {
        var path = TestPaths.Fixture(fixture.Split('/'));
        using var file = ModelFile.Open(path);
        var expected = Load(file, strict);
        long saved = ValueCopy.PieceBytes;
        ValueCopy.PieceBytes = 4; // a row (or less) per piece: per-channel quantized rows become one-channel slices
        try
        {
            var pieces = Load(file, strict);
            Assert.Equal(expected.Keys, pieces.Keys);
            foreach (var (name, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(pieces[name]), name);
        }
        finally { ValueCopy.PieceBytes = saved; }
    }

    // Loads the file into a module of the names its load pairs (a mirror of the converted names) and returns the bytes.
    private static Dictionary<string, byte[]> Load(ModelFile file, bool strict)
    {
        var stateDict = file.Tensors.Where(t => t.Role != WeightScope.Tensors.TensorRole.OptimizerState && !t.Role.IsOutsideStateDict()).ToList();
        using var probe = Mirror.Of(stateDict);
        // Keras files convert: their torch names and shapes come from a non-strict load's result into an empty module.
        using var converted = WeightScope.Modules.LayoutNotes.IsKerasModel(file.Format) ? MirrorOfConverted(file) : null;
        var module = converted ?? probe;
        var result = module.LoadWeights(file, new LoadOptions { Strict = strict });
        Assert.NotEmpty(result.Loaded);
        return module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.contiguous().bytes.ToArray());
    }

    private static Mirror MirrorOfConverted(ModelFile file)
    {
        var layers = Layout.KerasLayers.Convert(file, []);
        var tensors = layers.SelectMany(l => l.Tensors.Select(t => (Name: l.Path + "." + t.Local, t.Values)))
            .Select(t => new WeightScope.Tensors.TensorEntry(t.Name, t.Values.DType, t.Values.Shape,
                new WeightScope.Tensors.ArrayStorage(new byte[t.Values.Shape.ElementCount * t.Values.DType.ItemSize()], t.Name)));
        return Mirror.Of(tensors);
    }
}
