using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Tensors;

public class TensorCollectionTests
{
    private static TensorEntry T(string name, TensorStorage s, long[] shape, long offset = 0, TensorRole role = TensorRole.Parameter, DType dt = DType.Float32) =>
        new(name, dt, new Shape(shape), s, offset, null, role);

    [Fact]
    public void Shared_storages_are_counted_once_and_reported()
    {
        var wte = new ArrayStorage(new byte[4 * 12], "data/0");
        var other = new ArrayStorage(new byte[4 * 3], "data/1");
        var c = new TensorCollection([
            T("wte.weight", wte, [4, 3]),
            T("lm_head.weight", wte, [4, 3]),      // tied: same storage, same view
            T("row", wte, [3], offset: 3),          // another view of the same storage
            T("bias", other, [3], role: TensorRole.Buffer),
        ]);
        Assert.Equal(4, c.Totals.Tensors);
        Assert.Equal(12 + 3 + 3, c.ParameterCount);      // the tied duplicate view is not counted twice
        Assert.Equal(4 * 12 + 4 * 3, c.ByteSize);        // storages counted once
        var shared = Assert.Single(c.Totals.SharedStorages);
        Assert.Equal("data/0", shared.Key);
        Assert.Equal(["wte.weight", "lm_head.weight", "row"], shared.TensorNames);
        Assert.Equal(3, c.Totals.ByRole[TensorRole.Buffer].Parameters);
        Assert.Equal(15, c.Totals.ByRole[TensorRole.Parameter].Parameters);
        Assert.Equal(c.ByteSize, c.Totals.ByDType.Values.Sum(g => g.Bytes)); // groups add up to the total
        Assert.Equal(c.ByteSize, c.Totals.ByRole.Values.Sum(g => g.Bytes));
    }

    [Fact]
    public void Optimizer_state_is_not_counted_as_parameters()
    {
        var c = new TensorCollection([
            T("fc.weight", new ArrayStorage(new byte[4 * 6], "w"), [2, 3]),
            T("state.0.exp_avg", new ArrayStorage(new byte[4 * 6], "m"), [2, 3], role: TensorRole.OptimizerState),
        ]);
        Assert.Equal(6, c.ParameterCount);
        Assert.Equal(12, c.Totals.Elements);
        Assert.Equal(6, c.Totals.ByRole[TensorRole.OptimizerState].Parameters);
    }

    [Theory]
    [InlineData("fc1*", new[] { "fc1.weight", "fc1.bias" })]
    [InlineData("*.bias", new[] { "fc1.bias", "fc2.bias" })]
    [InlineData("fc?.weight", new[] { "fc1.weight", "fc2.weight" })]
    [InlineData("fc[2].*", new[] { "fc2.weight", "fc2.bias" })]
    [InlineData("c1", new[] { "fc1.weight", "fc1.bias" })] // a plain word matches names containing it, like `'c1' in name`
    [InlineData("fc[]1]*", new[] { "fc1.weight", "fc1.bias" })] // fnmatch: "]" first in a set is a member
    [InlineData("fc[1", new string[0])]                      // an unclosed "[" is a literal character
    public void Globs_select_names(string glob, string[] expected)
    {
        var s = new ArrayStorage(new byte[4], "s");
        var c = new TensorCollection(new[] { "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias" }.Select(n => T(n, s, [1])));
        Assert.Equal(expected, c.Match(glob).Select(t => t.Name));
    }

    [Fact]
    public void Unknown_names_suggest_close_ones()
    {
        var s = new ArrayStorage(new byte[4], "s");
        var c = new TensorCollection([T("encoder.fc1.weight", s, [1])]);
        var e = Assert.Throws<KeyNotFoundException>(() => c["fc1.weight"]);
        Assert.Contains("encoder.fc1.weight", e.Message);
    }

    [Fact]
    public void Duplicate_names_are_refused() =>
        Assert.Throws<ArgumentException>(() => new TensorCollection([
            T("a", new ArrayStorage(new byte[4], "s"), [1]), T("a", new ArrayStorage(new byte[4], "t"), [1])]));
}
