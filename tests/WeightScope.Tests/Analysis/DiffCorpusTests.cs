using WeightScope.Analysis;
using WeightScope.Tests.Corpus;
using Xunit;

namespace WeightScope.Tests.Analysis;

/// <summary>Every real-world file that opens diffs as identical against itself: every dtype, view and quantization is read pairwise.</summary>
public sealed class DiffCorpusTests
{
    public static TheoryData<string> Files() => CorpusManifestTests.Files();

    [CorpusTheory]
    [MemberData(nameof(Files))]
    public void A_file_is_identical_to_itself(string path)
    {
        ModelFile a, b;
        try
        {
            a = ModelFile.Open(TestPaths.CorpusFile(path));
        }
        catch (ModelFormatException)
        {
            return; // unsupported or not a model on its own (a shard, a config): the manifest tests cover why
        }
        b = ModelFile.Open(TestPaths.CorpusFile(path));
        using (a)
        using (b)
        {
            var r = Diff.Compare(a, b, new DiffOptions { EqualNan = true, Atol = 0, Rtol = 0 });
            Assert.True(r.Identical, string.Join("; ", r.Pairs.Where(p => !p.Equal).Select(p => $"{p.NameA}: {p.DifferentElements} differ")));
            Assert.Equal(a.Tensors.Count, r.Pairs.Count);
            Assert.Null(r.StrippedPrefixA);
        }
    }
}
