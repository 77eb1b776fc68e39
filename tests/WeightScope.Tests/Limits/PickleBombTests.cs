using WeightScope.Tests.Formats.PyTorch;
using Xunit;

namespace WeightScope.Tests.Limits;

/// <summary>
/// Issue 17 §4: 10 MB pickles that fill the memo or the stack (one byte per entry; 9 M memo entries or 60 M stack items
/// cost seconds and 0.5-1 GB) stop at <see cref="ReaderLimits.MaxPickleMemo"/> / <see cref="ReaderLimits.MaxPickleStack"/>
/// within the small-input budget.
/// </summary>
public sealed class PickleBombTests
{
    private const int Ten = 10_000_000;

    // torch.save's layout (archive/data.pkl, archive/version) around a data.pkl of PROTO 4 then `body`.
    private static byte[] Archive(byte[] body) =>
        TorchZip.Build([("archive/data.pkl", [0x80, 0x04, .. body]), ("archive/version", "3\n"u8.ToArray())]);

    private static ReaderLimitException Refused(byte[] archive)
    {
        var e = Bounded.Fails<ReaderLimitException>(() => TorchZip.Open(archive).Dispose());
        Assert.True(e.Offset is > 0, "the message names the opcode's offset");
        return e;
    }

    [Fact]
    public void Ten_million_stack_items_stop_at_the_stack_limit()
    {
        var e = Refused(Archive([.. Enumerable.Repeat((byte)'N', Ten)])); // NONE × 10 M
        Assert.Equal(nameof(ReaderLimits.MaxPickleStack), e.Limit);
        Assert.Equal("--max-pickle-stack", e.Flag);
    }

    [Fact]
    public void Items_held_under_marks_count_too()
    {
        // (N N … (N N … : 1,000 items under each of 2,000 MARKs, the stack itself never longer than 1,000.
        var body = new List<byte>();
        for (int i = 0; i < 2000; i++) { body.Add((byte)'('); body.AddRange(Enumerable.Repeat((byte)'N', 1000)); }
        var options = new ReaderOptions { Limits = new() { MaxNestingDepth = 10_000 } };
        var e = Bounded.Fails<ReaderLimitException>(() => TorchZip.Open(Archive([.. body]), options).Dispose());
        Assert.Equal(nameof(ReaderLimits.MaxPickleStack), e.Limit);
    }

    [Fact]
    public void Ten_million_memo_entries_stop_at_the_memo_limit()
    {
        var e = Refused(Archive([(byte)'N', .. Enumerable.Repeat((byte)0x94, Ten)])); // NONE, then MEMOIZE × 10 M
        Assert.Equal(nameof(ReaderLimits.MaxPickleMemo), e.Limit);
        Assert.Equal(ReaderLimits.Default.MaxPickleMemo + 1, e.Value);
    }
}
