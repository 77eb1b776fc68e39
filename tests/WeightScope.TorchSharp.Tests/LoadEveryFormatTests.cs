using WeightScope.Tensors;
using WeightScope.Tests;
using Xunit;

namespace WeightScope.TorchSharp.Tests;

/// <summary>
/// Every readable fixture and corpus file of every format (safetensors, NumPy, Keras, HDF5, ONNX, GGUF, TensorFlow,
/// TF.js, TorchSharp…) loads into a module with its own names, arrays as stored (layout conversion off), each module
/// tensor then holding exactly what WeightScope's reader reads (dequantized where the file is quantized).
/// </summary>
public sealed class LoadEveryFormatTests
{
    // Payloads and crafted damage are the scanner's and the readers' business; they hold nothing to load.
    private static readonly string[] Skipped = ["generate", "scan-payloads", "scan-formats", "fuzz-regressions", "pytorch-crafted", "pytorch"];

    public static TheoryData<string> FixtureFiles() => Files(TestPaths.Fixtures, Skipped);

    public static TheoryData<string> CorpusFiles() =>
        TestPaths.CorpusAvailable ? Files(TestPaths.Corpus, ["pytorch", "tflite"]) : new TheoryData<string> { "" };

    private static TheoryData<string> Files(string root, string[] skipped)
    {
        var data = new TheoryData<string>();
        var candidates = Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Where(f => !skipped.Contains(Path.GetRelativePath(root, f).Split(Path.DirectorySeparatorChar)[0]))
            .Where(f => !f.EndsWith(".json", StringComparison.Ordinal) && !f.EndsWith(".md", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        foreach (var f in candidates)
        {
            if (Directory.Exists(f) && !ModelFile.IsModelFolder(f)) continue;
            try
            {
                using var m = ModelFile.Open(f);
                if (!Loadable(m)) continue;
            }
            catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException) { continue; }
            data.Add(Path.GetRelativePath(root, f));
        }
        return data;
    }

    // A module can hold the file's state dict when its names nest as module paths (no empty segment) and none is
    // both a tensor and a module (HDF5 attributes, TF's "a" and "a.b"); the rest are read by name, not loaded.
    private static bool Loadable(ModelFile m)
    {
        var names = StateDict(m).Select(t => t.Name).ToList();
        if (names.Count == 0 || names.Any(n => n.Split('.').Any(s => s.Length == 0))) return false;
        var set = names.ToHashSet(StringComparer.Ordinal);
        return !names.Any(n => Enumerable.Range(0, n.Length).Any(i => n[i] == '.' && set.Contains(n[..i])));
    }

    private static ModelFormatException? Refusal(TensorEntry t)
    {
        // (of a huge tensor, its first row: a refused layout or a truncated file already refuses that)
        try { (t.ElementCount <= 1 << 24 || t.Shape.Rank == 0 ? t : t.Slice("[0:1]")).ReadBytes(); return null; }
        catch (ModelFormatException e) { return e; }
    }

    private static List<TensorEntry> StateDict(ModelFile m) =>
        m.Tensors.Where(t => t.Role != TensorRole.OptimizerState && !t.Role.IsOutsideStateDict()).ToList();

    [Theory]
    [MemberData(nameof(FixtureFiles))]
    public void Fixture_loads_exactly(string relative) => LoadsExactly(Path.Combine(TestPaths.Fixtures, relative));

    [CorpusTheory]
    [MemberData(nameof(CorpusFiles))]
    public void Corpus_file_loads_exactly(string relative) => LoadsExactly(TestPaths.CorpusFile(relative));

    private static void LoadsExactly(string path)
    {
        using var file = ModelFile.Open(path);
        var stateDict = StateDict(file);
        using var module = Mirror.Of(stateDict);
        // A value the reader refuses (corrupt chunk, unsupported filter, external file outside the folder, truncated
        // data) is refused by the load too, with the reader's own message: never zeros in its place.
        LoadResult result;
        try { result = module.LoadWeights(file, new LoadOptions { ConvertLayouts = false }); }
        catch (ModelFormatException e)
        {
            Assert.Contains(e.Message, stateDict.Select(Refusal).Where(r => r is not null).Select(r => r!.Message));
            return;
        }
        Assert.True(result.IsComplete, result.DescribeProblems());
        var targets = module.state_dict();
        foreach (var t in stateDict) LoadPyTorchFilesTests.AssertHolds(t, targets[t.Name]);
    }
}
