using System.Text;
using WeightScope.Tests.Cli;
using WeightScope.Tests.Formats.NumPy;
using Xunit;

namespace WeightScope.Tests.Limits;

/// <summary>
/// Issue 17 §4: a tensor of 100,000 dimensions (show never finished) is refused at open by every reader, within the
/// small-input budget, naming <see cref="ReaderLimits.MaxDimensions"/> and <c>--max-dims</c>; 64 dimensions (numpy 2's
/// NPY_MAXDIMS) open by default.
/// </summary>
public sealed class DimensionLimitTests : IDisposable
{
    private const int Huge = 100_000;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ws-dims-" + Guid.NewGuid().ToString("N"));

    public DimensionLimitTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    private static string Ones(int rank) => string.Join(",", Enumerable.Repeat("1", rank));

    // safetensors: u64 header length, the JSON header, then the data (one float32 element: every dimension is 1).
    private string SafeTensors(int rank)
    {
        var header = Encoding.UTF8.GetBytes($"{{\"t\":{{\"dtype\":\"F32\",\"shape\":[{Ones(rank)}],\"data_offsets\":[0,4]}}}}");
        var path = Path.Combine(_dir, $"r{rank}.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. new byte[4]]);
        return path;
    }

    // npy version 2.0 (uint32 header length): the shape tuple spelled as numpy writes it.
    private string Npy(int rank)
    {
        var path = Path.Combine(_dir, $"r{rank}.npy");
        File.WriteAllBytes(path, NumPyBytes.Npy($"{{'descr': '<f4', 'fortran_order': False, 'shape': ({Ones(rank)},), }}", new byte[4], major: 2));
        return path;
    }

    public static TheoryData<string> Formats() => ["safetensors", "npy"];

    private string Fixture(string format, int rank) => format == "npy" ? Npy(rank) : SafeTensors(rank);

    [Theory]
    [MemberData(nameof(Formats))]
    public void Hundred_thousand_dimensions_are_refused_within_the_budget(string format)
    {
        var path = Fixture(format, Huge);
        var e = Bounded.Fails<ReaderLimitException>(() => Bounded.OpenAndReadAll(path, new() { Limits = new() { MaxHeaderBytes = 100_000_000 } }));
        Assert.Equal(nameof(ReaderLimits.MaxDimensions), e.Limit);
        Assert.Equal(Huge, e.Value);
        Assert.Equal("--max-dims", e.Flag);
        Assert.Contains("number of dimensions of a tensor is 100,000, more than the limit of 64 (raise with --max-dims", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Numpys_cap_opens_one_more_is_refused(string format)
    {
        using (var m = ModelFile.Open(Fixture(format, 64))) Assert.Equal(64, m.Tensors[0].Shape.Rank);
        Assert.Throws<ReaderLimitException>(() => ModelFile.Open(Fixture(format, 65)).Dispose());
        using var raised = ModelFile.Open(Fixture(format, 65), new() { Limits = new() { MaxDimensions = 65 } });
        Assert.Equal(65, raised.Tensors[0].Shape.Rank);
    }

    [Fact]
    public void Show_refuses_naming_the_flag_and_runs_once_it_is_raised()
    {
        var path = SafeTensors(1000);
        var refused = CliRunner.Run("show", path, "t");
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains("--max-dims", refused.Stderr);
        var raised = CliRunner.Run("show", path, "t", "--max-dims", "1000");
        Assert.True(raised.ExitCode == 0, raised.Stderr);
    }
}
