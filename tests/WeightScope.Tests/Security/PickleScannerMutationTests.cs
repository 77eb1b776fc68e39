using WeightScope.Security;
using Xunit;

namespace WeightScope.Tests.Security;

/// <summary>
/// The scanner reads untrusted files by definition: on damaged payloads and fixtures (truncated, bit-flipped, bytes
/// overwritten — seeded) only <see cref="ModelFormatException"/> may escape, and every scan finishes quickly.
/// </summary>
public class PickleScannerMutationTests
{
    public static TheoryData<string> Inputs()
    {
        var files = Directory.GetFiles(TestPaths.Fixture("pytorch-crafted"))
            .Where(f => !f.EndsWith(".json", StringComparison.Ordinal))
            .Concat(Directory.GetFiles(TestPaths.Fixture("pytorch"), "*.pt").Where(f => new FileInfo(f).Length < 300_000))
            .Concat(Directory.GetFiles(TestPaths.Fixture("scan-payloads")).Where(f => !f.EndsWith(".json", StringComparison.Ordinal) && !InflatesPastSpill(f)))
            .Select(f => Path.GetRelativePath(TestPaths.Fixtures, f)).Order();
        return [.. files];
    }

    // A zip whose members inflate past the scan's in-memory buffer costs that inflation on every mutation (80 MiB, about
    // half a second each): 40 of them would measure the disk, not the scanner. ScanPayloadTests scans that file.
    private static bool InflatesPastSpill(string file)
    {
        try
        {
            using var zip = System.IO.Compression.ZipFile.OpenRead(file);
            return zip.Entries.Sum(e => e.Length) > ZipMemberContent.SpillBytes;
        }
        catch (InvalidDataException) { return false; }
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void DamagedFilesFailOnlyWithModelFormatException(string relative)
    {
        var original = File.ReadAllBytes(Path.Combine(TestPaths.Fixtures, relative));
        var rng = new Random(relative.Length * 7919 + original.Length);
        string dir = Directory.CreateTempSubdirectory("ws-scan-fuzz-").FullName;
        try
        {
            for (int i = 0; i < 40; i++)
            {
                var bytes = (byte[])original.Clone();
                switch (i % 3)
                {
                    case 0: Array.Resize(ref bytes, rng.Next(bytes.Length)); break;
                    case 1: for (int k = 0; k < 4; k++) bytes[rng.Next(bytes.Length)] ^= (byte)(1 << rng.Next(8)); break;
                    default: bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256); bytes[rng.Next(bytes.Length)] = 0xff; break;
                }
                string path = Path.Combine(dir, $"m{i}" + Path.GetExtension(relative));
                File.WriteAllBytes(path, bytes);
                var started = DateTime.UtcNow;
                try { PickleScanner.Scan(path); }
                catch (ModelFormatException) { }
                catch (Exception e) { Assert.Fail($"mutation {i} of {relative}: {e.GetType().Name}: {e.Message}"); }
                Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2), $"mutation {i} of {relative} took too long");
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void EveryTruncationAndByteFlipOfEveryPicklePayloadFailsCleanly()
    {
        int walked = 0;
        foreach (var file in Directory.GetFiles(TestPaths.Fixture("pytorch-crafted"), "*.pkl"))
        {
            var original = File.ReadAllBytes(file);
            for (int i = 0; i < original.Length; i++)
            {
                var flipped = (byte[])original.Clone();
                flipped[i] ^= 0xA5;
                foreach (var bytes in new[] { original[..i], flipped })
                {
                    using var mapped = global::WeightScope.IO.MappedFile.FromArray(bytes, file);
                    try { walked += PickleScanner.Scan(mapped, file, ReaderLimits.Default).Globals.Count; }
                    catch (ModelFormatException) { }
                }
            }
        }
        Assert.True(walked > 0);
    }
}
