using WeightScope.Tests.Robustness;
using Xunit;

namespace WeightScope.Tests.Formats.NumPy;

/// <summary>
/// Seeded mutations of every numpy-written fixture (truncations, flipped bytes, inflated length fields): opening the
/// result and reading all its values may only ever throw a <see cref="ModelFormatException"/> (<see cref="FuzzCheck"/>).
/// The mutator knows the npy header grammar, which the shared one does not.
/// </summary>
public class NumPyMutationTests
{
    private const int MutationsPerFile = 200;
    private const string GrammarBytes = "{}()[],:'\"0123456789L- \nTF";

    public static TheoryData<string> Files => NumPyAnswers.Names("expected.json");

    [Theory]
    [MemberData(nameof(Files))]
    public void Mutated_fixture_fails_only_with_ModelFormatException(string file)
    {
        var original = File.ReadAllBytes(TestPaths.Fixture("numpy", file));
        // Unmutated, a file opens exactly when numpy's answers do not mark it an unsupported .npy (object, datetime…);
        // an .npz opens with such members noted.
        var answer = NumPyAnswers.Load("expected.json").GetProperty(file);
        bool supported = answer.GetProperty("kind").GetString() != "npy" || !answer.TryGetProperty("unsupported", out _);
        Assert.Equal(supported, FuzzCheck.OpenBytes(original, $"{file} unmutated"));
        var rng = new Random(file.Aggregate(0x5eed, (h, c) => h * 31 + c)); // string.GetHashCode differs per process
        for (int i = 0; i < MutationsPerFile; i++)
        {
            var bytes = Mutate(original, rng);
            FuzzCheck.OpenBytes(bytes, $"mutation {i} of {file}");
        }
    }

    private static byte[] Mutate(byte[] original, Random rng)
    {
        var b = (byte[])original.Clone();
        switch (rng.Next(4))
        {
            case 0: // truncate anywhere
                return b[..rng.Next(b.Length)];
            case 1: // flip a few bytes, mostly in the first 200 (prelude, header, zip local header)
                for (int k = rng.Next(1, 4); k > 0; k--)
                {
                    int at = rng.Next(2) == 0 ? rng.Next(Math.Min(200, b.Length)) : rng.Next(b.Length);
                    b[at] ^= (byte)rng.Next(1, 256);
                }
                return b;
            case 2: // a byte of the header replaced by a character the literal grammar cares about
                {
                    int at = rng.Next(Math.Min(128, b.Length));
                    b[at] = (byte)GrammarBytes[rng.Next(GrammarBytes.Length)];
                    return b;
                }
            default: // saturate a 16- or 32-bit field (length fields, zip sizes and offsets)
                {
                    int at = rng.Next(Math.Max(1, b.Length - 4));
                    int n = rng.Next(2) == 0 ? 2 : 4;
                    for (int k = 0; k < n && at + k < b.Length; k++) b[at + k] = 0xFF;
                    return b;
                }
        }
    }
}
