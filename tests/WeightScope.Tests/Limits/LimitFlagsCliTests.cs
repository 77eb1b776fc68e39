using WeightScope.Tests.Cli;
using Xunit;

namespace WeightScope.Tests.Limits;

/// <summary>The <c>--max-*</c> flags: every verb that opens files takes them, a crossed limit names its flag (exit 3), and the flag raises it.</summary>
public sealed class LimitFlagsCliTests
{
    private static string Pt => TestPaths.Fixture("pytorch", "mymodel_state_dict.pt");
    private static string Npz => TestPaths.Fixture("numpy", "savez_compressed.npz");
    private static string H5 => TestPaths.Fixture("hdf5", "mixed_latest.h5");

    private static void Refused(CliRunner.Result r, string flag, string file)
    {
        Assert.Equal(3, r.ExitCode);
        Assert.Contains($"(raise with {flag} if the file is trusted", r.Stderr);
        Assert.Contains(file, r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Theory]
    [InlineData("--max-tensors", "3", "4")]
    [InlineData("--max-depth", "2", "3")]
    [InlineData("--max-pickle-memo", "1", "1000")]
    [InlineData("--max-pickle-ops", "10", "10000")]
    [InlineData("--max-zip-entries", "5", "6")]
    [InlineData("--max-header-bytes", "488", "489B")]
    public void Pytorch_limits_cross_and_raise(string flag, string lowered, string raised)
    {
        Refused(CliRunner.Run("list", Pt, flag, lowered), flag, Pt);
        var ok = CliRunner.Run("list", Pt, flag, raised);
        Assert.Equal(0, ok.ExitCode);
        Assert.Contains("4 tensors", ok.Stdout);
    }

    [Fact]
    public void Decompressed_bytes_take_sizes_with_units()
    {
        // embedding.npy inflates to 1,152 bytes: 1KB (1,000) and 1KiB (1,024) are below it, 2KiB above.
        Refused(CliRunner.Run("list", Npz, "--max-decompressed-bytes", "1KB"), "--max-decompressed-bytes", Npz);
        var r = CliRunner.Run("list", Npz, "--max-decompressed-bytes", "1KiB");
        Refused(r, "--max-decompressed-bytes", Npz);
        Assert.Contains("decompressed size is 1,152 bytes, more than the limit of 1,024 bytes", r.Stderr);
        Assert.Equal(0, CliRunner.Run("list", Npz, "--max-decompressed-bytes", "2KiB").ExitCode);
        Assert.Equal(0, CliRunner.Run("list", Npz, "--max-decompressed-bytes", "4GiB").ExitCode);
    }

    [Fact]
    public void Hdf5_objects()
    {
        Refused(CliRunner.Run("stats", H5, "--max-hdf5-objects", "3"), "--max-hdf5-objects", H5);
        Assert.Equal(0, CliRunner.Run("stats", H5, "--max-hdf5-objects", "1000000").ExitCode);
    }

    // The flags are global: accepted before the verb and by verbs other than list, including ones opening two files.
    [Fact]
    public void Flags_are_accepted_by_every_verb_and_before_it()
    {
        Refused(CliRunner.Run("--max-tensors", "3", "list", Pt), "--max-tensors", Pt);
        Refused(CliRunner.Run("info", Pt, "--max-tensors", "3"), "--max-tensors", Pt);
        Refused(CliRunner.Run("show", Pt, "fc1.weight", "--max-tensors", "3"), "--max-tensors", Pt);
        Refused(CliRunner.Run("diff", Pt, Pt, "--max-zip-entries", "5"), "--max-zip-entries", Pt);
        Assert.Equal(0, CliRunner.Run("diff", Pt, Pt, "--max-zip-entries", "6").ExitCode);
        var dir = Path.Combine(Path.GetTempPath(), "ws-limits-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var output = Path.Combine(dir, "out.safetensors");
            Refused(CliRunner.Run("convert", Pt, output, "--max-tensors", "3"), "--max-tensors", Pt);
            Assert.False(File.Exists(output));
            Assert.Equal(0, CliRunner.Run("convert", Pt, output, "--max-tensors", "4").ExitCode);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("--max-tensors", "lots")]
    [InlineData("--max-tensors", "0")]
    [InlineData("--max-tensors", "4MB")]
    [InlineData("--max-header-bytes", "1XB")]
    [InlineData("--max-header-bytes", "-5")]
    [InlineData("--max-decompressed-bytes", "99999999999TiB")]
    public void Bad_values_are_usage_errors(string flag, string value)
    {
        var r = CliRunner.Run("list", Pt, flag, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(flag, r.Stderr);
    }

    [Fact]
    public void Help_lists_every_flag_with_its_default()
    {
        var r = CliRunner.Run("list", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var info in ReaderLimits.All) Assert.Contains(info.Flag, r.Stdout);
        Assert.Contains("(default 1,000,000)", r.Stdout);
        Assert.Contains("(default 64.0 GiB)", r.Stdout);
    }
}
