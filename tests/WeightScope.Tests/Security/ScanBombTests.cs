using WeightScope.Security;
using WeightScope.Tests.Formats.PyTorch;
using WeightScope.Tests.Limits;
using Xunit;

namespace WeightScope.Tests.Security;

/// <summary>
/// Issue 17 §4 for scan's own pickle walk: the stack and memo bombs that the readers stop (Limits/PickleBombTests) stop
/// scan too, within the small-input budget, reported as an unreadable part naming the flag (exit 3, never exit 0).
/// </summary>
public sealed class ScanBombTests : IDisposable
{
    private const int Ten = 10_000_000;
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-scan-bomb-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Archive(string name, byte[] body)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, TorchZip.Build([("archive/data.pkl", [0x80, 0x04, .. body]), ("archive/version", "3\n"u8.ToArray())]));
        return path;
    }

    private static void StopsAt(string path, string flag)
    {
        ScanReport? report = null;
        Bounded.Succeeds(() => report = PickleScanner.Scan(path));
        Assert.Contains(report!.Errors, e => e.Message.Contains(flag, StringComparison.Ordinal));
    }

    [Fact]
    public void Ten_million_stack_items_stop_at_the_stack_limit() =>
        StopsAt(Archive("stack.pt", [.. Enumerable.Repeat((byte)'N', Ten)]), "--max-pickle-stack");  // NONE × 10 M

    [Fact]
    public void Items_held_under_marks_count_too()
    {
        // (N N … (N N … : 1,000 items under each of 1,100 MARKs (1.1 M in all), the stack itself never longer than 1,000.
        var body = new List<byte>();
        for (int i = 0; i < 1100; i++) { body.Add((byte)'('); body.AddRange(Enumerable.Repeat((byte)'N', 1000)); }
        ScanReport? report = null;
        Bounded.Succeeds(() => report = PickleScanner.Scan(Archive("marks.pt", [.. body]), ReaderLimits.Default with { MaxNestingDepth = 10_000 }));
        Assert.Contains(report!.Errors, e => e.Message.Contains("--max-pickle-stack", StringComparison.Ordinal));
    }

    [Fact]
    public void Ten_million_memo_entries_stop_at_the_memo_limit() =>
        StopsAt(Archive("memo.pt", [(byte)'N', .. Enumerable.Repeat((byte)0x94, Ten)]), "--max-pickle-memo");  // NONE, MEMOIZE × 10 M
}
