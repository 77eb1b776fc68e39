using Xunit;

namespace WeightScope.Tests.Formats.NumPy;

/// <summary>
/// The shared corpus's NumPy files (read in place, never copied) open as np.load sees them, per corpus_expected.json;
/// object arrays fail (npy) or are noted in the metadata (npz) as not supported.
/// </summary>
public class NumPyCorpusTests
{
    private static readonly System.Text.Json.JsonElement Expected = NumPyAnswers.Load("corpus_expected.json");

    public static TheoryData<string> Files => NumPyAnswers.Names("corpus_expected.json");

    [CorpusTheory]
    [MemberData(nameof(Files))]
    public void Corpus_file_matches_numpy(string relative) =>
        NumPyAnswers.Check(TestPaths.CorpusFile(relative), Expected.GetProperty(relative));

    [CorpusFact]
    public void Every_corpus_numpy_file_has_an_answer()
    {
        var root = TestPaths.CorpusFile("numpy");
        var files = Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(TestPaths.Corpus, f).Replace(Path.DirectorySeparatorChar, '/'));
        var answered = Expected.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.All(files, f => Assert.Contains(f, answered));
    }

    [CorpusFact]
    public void Byte_order_and_layout_do_not_change_the_values()
    {
        // ndarray-npy wrote one array in every byte order and layout: all must read the same, row-major.
        static double[] Read(string name)
        {
            using var m = ModelFile.Open(TestPaths.CorpusFile($"numpy/ndarray-npy/{name}.npy"));
            return m.Tensors[0].ToFloat64();
        }
        var reference = Read("example_f64_little_endian_standard");
        Assert.Equal(reference, Read("example_f64_little_endian_fortran"));
        Assert.Equal(reference, Read("example_f64_big_endian_standard"));
        Assert.Equal(reference, Read("example_f64_big_endian_fortran"));
    }
}
