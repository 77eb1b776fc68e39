using Xunit;

namespace WeightScope.Tests.Robustness;

/// <summary>
/// <c>weightscope scan</c> reads untrusted bytes too (that is what it is for): <see cref="global::WeightScope.Security.PickleScanner"/>
/// over the structured and random mutations of every pickle-bearing input (PyTorch zip and legacy files, the crafted
/// pickles including the scan_* payloads, NumPy files and archives, Keras .keras zips and HDF5 models, whose config is
/// checked for Lambda layers). <see cref="FuzzCheck.ScanPath"/> asserts that only <see cref="ModelFormatException"/>
/// escapes (the CLI's exit 3, unreadable), within 2 s and the allocation bound. The quick setting takes
/// <see cref="QuickPerKind"/> of each kind per file; the long setting the same environment variables as
/// <see cref="StructuredMutationTests"/> (random mutations capped at <see cref="MaxRandom"/>).
/// </summary>
public sealed class ScanMutationTests
{
    /// <summary>Mutations of each kind (and random ones) per file in the quick setting.</summary>
    public const int QuickPerKind = 3;

    /// <summary>Random mutations per file in the long setting: the structured kinds run out of candidates, random ones never do.</summary>
    public const int MaxRandom = 2000;

    private static readonly bool s_long = Environment.GetEnvironmentVariable("WEIGHTSCOPE_FUZZ_ITERATIONS") is { Length: > 0 };

    private static readonly string[] s_pickleBearing =
    [
        "tests/fixtures/pytorch/", "tests/fixtures/pytorch-crafted/", "tests/fixtures/numpy/", "tests/fixtures/keras/", "samples/",
        "corpus/pytorch/", "corpus/numpy/", "corpus/keras3/", "corpus/keras-h5/",
    ];

    /// <summary>The inputs of <see cref="MutationTests"/> that hold pickles (or Keras configs the scanner reads).</summary>
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (string relativePath in MutationTests.Inputs())
            if (s_pickleBearing.Any(p => relativePath.Replace('\\', '/').Contains(p, StringComparison.Ordinal))) data.Add(relativePath);
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Mutated_file_is_scanned_or_rejected_with_ModelFormatException(string relativePath)
    {
        var original = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, relativePath));
        int perKind = s_long ? StructuredMutationTests.PerKindFor(original.Length) : QuickPerKind;
        var dir = Directory.CreateTempSubdirectory("weightscope-fuzz-scan-").FullName;
        try
        {
            // The scanner takes a path (an HDF5 model is opened by path for its config): the same name, so nothing
            // that looks at the extension sees another file.
            var path = Path.Combine(dir, Path.GetFileName(relativePath));
            Scan(path, original, $"scan {relativePath} unmutated"); // some fixtures are broken on purpose: rejected is fine
            var rng = new Random(StructuredMutations.StableSeed(relativePath) ^ 0x5ca11);
            int structured = 0;
            foreach (var (bytes, how) in StructuredMutations.All(original, rng, perKind))
            {
                Scan(path, bytes, $"scan {relativePath}: {how}");
                structured++;
            }
            // FuzzCheck fails the test on any other exception, a slow input or too much allocation; this guards against
            // a file for which no mutation was made at all (the test would then check nothing).
            Assert.True(structured > 0, $"no structured mutation of {relativePath}");
            for (int i = 0, n = s_long ? Math.Min(perKind, MaxRandom) : QuickPerKind; i < n; i++)
            {
                var (bytes, how) = MutationTests.Mutate(original, rng);
                Scan(path, bytes, $"scan {relativePath}, random mutation {i} ({how})");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static bool Scan(string path, byte[] bytes, string what)
    {
        File.WriteAllBytes(path, bytes);
        return FuzzCheck.ScanPath(path, bytes.Length, what);
    }
}
