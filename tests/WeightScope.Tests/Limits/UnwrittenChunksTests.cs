using WeightScope.Printing;
using Xunit;

namespace WeightScope.Tests.Limits;

/// <summary>
/// Issue 17 §4: a 1.2 GB chunked HDF5 dataset of which two chunks were written (84 KB on disk;
/// generate/hdf5_unwritten_chunks.py). Printing it reads only the edge chunks — fill values need no 1.2 GB buffer —
/// and prints exactly what torch prints for the array h5py reads.
/// </summary>
public sealed class UnwrittenChunksTests
{
    private static string Fixture(string name) => TestPaths.Fixture("hdf5", "features", name);

    [Fact]
    public void Show_prints_torchs_text_within_the_small_input_budget()
    {
        using var m = ModelFile.Open(Fixture("unwritten_chunks.h5"));
        string? text = null;
        Bounded.Succeeds(() => text = TensorFormatter.Format(m.Tensors["w"]));
        Assert.Equal(File.ReadAllText(Fixture("unwritten_chunks_print.txt")).TrimEnd('\n'), text);
    }
}
