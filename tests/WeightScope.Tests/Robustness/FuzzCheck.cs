using System.Diagnostics;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Robustness;

/// <summary>
/// The check every fuzz test makes of one mutated input: open it, build the module tree, read every tensor (up to a
/// size cap, since a corrupt but self-consistent size may be huge); only <see cref="ModelFormatException"/> may escape,
/// and it must finish within 2 s. Mutations come from <see cref="MutationTests.Mutate"/>.
/// </summary>
internal static class FuzzCheck
{
    /// <summary>Tensors larger than this are listed but not read.</summary>
    public const long MaxBytesToRead = 64 << 20;

    /// <summary>
    /// Opens <paramref name="path"/> (a file or folder) and checks it; <paramref name="what"/> names the mutation in
    /// failures. True when it opened and every tensor was read, false when it was rejected with a ModelFormatException.
    /// </summary>
    public static bool OpenPath(string path, string what) => Check(() => ModelFile.Open(path), what);

    /// <summary>Opens <paramref name="bytes"/> from a stream and checks it; true when it opened and was read whole.</summary>
    public static bool OpenBytes(byte[] bytes, string what) => Check(() => ModelFile.Open(new MemoryStream(bytes)), what);

    /// <summary>Builds the tree and reads every tensor of an open model.</summary>
    public static void ReadEverything(ModelFile model)
    {
        _ = model.Tensors.Totals;
        _ = model.Modules.Descendants().Count();
        foreach (var t in model.Tensors)
        {
            if (t.ByteSize > MaxBytesToRead) continue;
            t.ReadBytes();
            if (!t.DType.IsComplex()) t.ToFloat32();
        }
    }

    private static bool Check(Func<ModelFile> open, string what)
    {
        var sw = Stopwatch.StartNew();
        bool opened = false;
        try
        {
            using var model = open();
            ReadEverything(model);
            opened = true;
        }
        catch (ModelFormatException)
        {
            // the one acceptable failure
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} escaped: {e.Message}\n{e.StackTrace}");
        }
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"{what} took {sw.Elapsed.TotalSeconds:F1} s");
        return opened;
    }
}
