using WeightScope.Tests.Cli;
using WeightScope.Tests.Formats.PyTorch;
using WeightScope.Tests.Limits;
using Xunit;

namespace WeightScope.Tests.Threading;

/// <summary>
/// Issue 17 §4: a deep tuple read with a raised <c>--max-depth</c> overflowed the stack (the process died). At the
/// largest depth the flag accepts, every verb that walks nested values finishes, and one level more is a limit error.
/// </summary>
public sealed class LargeStackTests : IDisposable
{
    private const int Deepest = ReaderLimits.DepthCeiling;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ws-deep-" + Guid.NewGuid().ToString("N"));

    public LargeStackTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    // torch.save({'meta': ((…(),…),), 'w': tensor([1.])}): `depth` tuples nested in each other (depth - 1 MARKs, the
    // innermost EMPTY_TUPLE, then a TUPLE per MARK closing outwards), beside one tensor.
    private string DeepTuple(int depth)
    {
        var w = new PickleWriter().Op('}').Str("meta");
        for (int i = 1; i < depth; i++) w.Op('(');
        w.Op(')');
        for (int i = 1; i < depth; i++) w.Op('t');
        w.Op('s').Str("w").Tensor("0", 1, 0, [1], [1]).Op('s');
        var path = Path.Combine(_dir, $"deep{depth}.pt");
        File.WriteAllBytes(path, TorchZip.Build([("archive/data.pkl", w.Stop()), ("archive/data/0", TorchZip.Floats(1)), ("archive/version", "3\n"u8.ToArray())]));
        return path;
    }

    private static ReaderOptions Depth(int depth) => new() { Limits = new() { MaxNestingDepth = depth } };

    [Fact]
    public void The_deepest_accepted_nesting_opens_from_a_default_stack_within_the_budget()
    {
        var path = DeepTuple(Deepest);
        Bounded.Succeeds(() =>
        {
            using var m = ModelFile.Open(path, Depth(Deepest));
            Assert.Equal([1f], Assert.Single(m.Tensors).ToFloat32());
        });
    }

    [Fact]
    public void One_level_deeper_than_the_limit_is_a_limit_error()
    {
        var path = DeepTuple(Deepest + 1);
        var e = Bounded.Fails<ReaderLimitException>(() => ModelFile.Open(path, Depth(Deepest)).Dispose());
        Assert.Equal(nameof(ReaderLimits.MaxNestingDepth), e.Limit);
    }

    [Fact]
    public void Depths_past_the_ceiling_are_refused_by_the_library_and_the_flag()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReaderLimits { MaxNestingDepth = Deepest + 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReaderLimits { MaxDimensions = Deepest + 1 });
        var r = CliRunner.Run("list", DeepTuple(3), "--max-depth", (Deepest + 1).ToString());
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--max-depth: 100,001 is more than the largest accepted, 100,000", r.Stderr);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("list", "--json")]
    [InlineData("info")]
    [InlineData("info", "--json")]
    [InlineData("tree")]
    [InlineData("show", "w")]
    public void Verbs_finish_at_the_deepest_accepted_nesting(params string[] verb)
    {
        var r = CliRunner.Run([verb[0], DeepTuple(Deepest), .. verb[1..], "--max-depth", Deepest.ToString()]);
        Assert.DoesNotContain("overflow", r.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}: {r.Stderr}");
    }
}
