using WeightScope.Threading;
using Xunit;

namespace WeightScope.Tests.Threading;

/// <summary><see cref="OrderedParallel"/>: every item runs; the lowest index's failure is thrown as itself, counting other groups.</summary>
public sealed class OrderedParallelTests
{
    [Fact]
    public void The_lowest_failing_index_wins_whatever_the_scheduling()
    {
        for (int run = 0; run < 50; run++)
        {
            int ran = 0;
            var e = Record.Exception(() => OrderedParallel.For(200, 4, i =>
            {
                Interlocked.Increment(ref ran);
                if (i % 50 == 13) { Thread.SpinWait(1000 * (200 - i)); throw new InvalidModelContentException("test", $"item {i}", i, $"t{i / 50}"); }
            }, group: i => i / 50));
            var m = Assert.IsType<InvalidModelContentException>(e); // the subtype is kept
            Assert.Equal(("t0", 13L, 3), (m.Entry, m.Offset, m.MoreFailures));
            Assert.Equal(200, ran); // nothing is skipped, so the count is the same on every run
        }
    }

    [Fact]
    public void Failures_in_the_first_group_alone_are_not_counted_and_the_original_is_untouched()
    {
        var original = new InvalidModelContentException("test", "cached", 5, "t0");
        var e = Record.Exception(() => OrderedParallel.For(10, 2, i => { if (i >= 5) throw original; }, group: i => i < 8 ? 0 : 1));
        var thrown = Assert.IsType<InvalidModelContentException>(e);
        Assert.Equal(1, thrown.MoreFailures);
        Assert.NotSame(original, thrown); // a lazily decoded storage may throw the original again: it must not say "1 more"
        Assert.Equal(0, original.MoreFailures);
        Assert.Same(original, Record.Exception(() => OrderedParallel.For(10, 2, i => { if (i >= 5) throw original; }, group: i => 0)));
    }

    [Fact]
    public void Other_exceptions_are_rethrown_as_themselves()
    {
        var e = Record.Exception(() => OrderedParallel.For(64, 4, i => { if (i > 10) throw new NotSupportedException($"item {i}"); }));
        Assert.Equal("item 11", Assert.IsType<NotSupportedException>(e).Message);
    }

    [Fact]
    public void An_empty_range_does_nothing() => OrderedParallel.For(0, 4, _ => throw new InvalidOperationException("never called"));
}
