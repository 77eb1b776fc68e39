using System.Runtime.InteropServices;
using TorchSharp;
using WeightScope.Tensors;
using WeightScope.Tests;
using Xunit;
using static TorchSharp.torch;

namespace WeightScope.TorchSharp.Tests;

/// <summary>
/// Every PyTorch file of the fixtures and the corpus (state dicts, checkpoints, legacy files, whole pickled modules,
/// TorchScript, tied weights, views with offsets, every dtype) loads into a module with its names and shapes, and each
/// module tensor then holds exactly what WeightScope's reader (checked against torch in the main suite) reads.
/// </summary>
public sealed class LoadPyTorchFilesTests
{
    private static readonly string[] Extensions = [".pt", ".pth", ".tar", ".bin", ".dat", ".zip"];

    public static TheoryData<string> FixtureFiles() => Files(TestPaths.Fixture("pytorch"), "pytorch");

    public static TheoryData<string> CorpusFiles() => TestPaths.CorpusAvailable ? Files(TestPaths.CorpusFile("pytorch"), "corpus") : new TheoryData<string> { "" };

    private static TheoryData<string> Files(string root, string label)
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            if (!Extensions.Contains(Path.GetExtension(f))) continue;
            // Files WeightScope refuses (crafted payloads, unsupported layouts) have nothing to load.
            try { using var m = ModelFile.Open(f); if (m.Tensors.Count == 0) continue; }
            catch (ModelFormatException) { continue; }
            data.Add(Path.GetRelativePath(root, f));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(FixtureFiles))]
    public void Fixture_loads_exactly(string relative) => LoadsExactly(Path.Combine(TestPaths.Fixture("pytorch"), relative));

    [CorpusTheory]
    [MemberData(nameof(CorpusFiles))]
    public void Corpus_file_loads_exactly(string relative) => LoadsExactly(TestPaths.CorpusFile(Path.Combine("pytorch", relative)));

    internal static void LoadsExactly(string path)
    {
        using var file = ModelFile.Open(path);
        var stateDict = file.Tensors.Where(t => t.Role != TensorRole.OptimizerState && !t.Role.IsOutsideStateDict()).ToList();
        using var module = Mirror.Of(stateDict);
        var result = module.LoadWeights(path);
        Assert.True(result.IsComplete, result.DescribeProblems());
        var targets = module.state_dict();
        Assert.Equal(stateDict.Count, result.Loaded.Count);
        foreach (var t in stateDict) AssertHolds(t, targets[t.Name]);
    }

    // Values are compared up to this many elements a tensor (the HDF5 fixtures of 300M+ elements test reading, not this).
    private const long CompareLimit = 1 << 24;

    internal static void AssertHolds(TensorEntry expected, Tensor actual)
    {
        Assert.Equal(expected.Shape.ToArray(), actual.shape);
        if (expected.ElementCount > CompareLimit) return;
        if (expected.Quantization is null && !expected.DType.IsQuantized() && Mirror.ToScalar(expected.DType) == actual.dtype
            && TorchDTypes.ToScalarType(expected.DType) is not null)
        {
            Assert.True(expected.ReadBytes().AsSpan().SequenceEqual(actual.contiguous().bytes), $"{expected.Name}: bytes differ");
            return;
        }
        using var scope = torch.NewDisposeScope();
        var values = expected.ToFloat64();
        // Through the bytes: TorchSharp's data<T>().ToArray() throws on 0-d and empty tensors.
        var got = MemoryMarshal.Cast<byte, double>(actual.to(ScalarType.Float64).contiguous().bytes).ToArray();
        Assert.Equal(values.Length, got.Length);
        for (int i = 0; i < values.Length; i++)
            Assert.True(values[i].Equals(got[i]) || (double.IsNaN(values[i]) && double.IsNaN(got[i])), $"{expected.Name}[{i}]: {values[i]} != {got[i]}");
    }
}
