using System.Diagnostics;
using System.Text;
using WeightScope.IO;
using WeightScope.Tensors;
using WeightScope.Tests.Cli;
using WeightScope.Tests.Export;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Writing;

/// <summary>
/// What a write's target really is (issue 17 §5): the input under another path (a folder symlink, <c>/proc/self/cwd</c>,
/// a hard link) is still the input; a device or pipe is written into, never replaced; a killed write's temporary file
/// does not stay behind.
/// </summary>
public sealed class WriteTargetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-write-target-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static TensorEntry Tensor(string name, params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return new TensorEntry(name, DType.Float32, new Shape(values.Length), new ArrayStorage(bytes, name));
    }

    private string Model(string name = "m.safetensors")
    {
        TensorWriters.Save([Tensor("fc.weight", 1, 2, 3), Tensor("fc.bias", 4)], P(name));
        return P(name);
    }

    [Fact]
    public void The_input_under_another_path_is_still_the_input()
    {
        if (!OperatingSystem.IsLinux()) return;
        Directory.CreateDirectory(P("real"));
        var input = Model("real/m.safetensors");
        Directory.CreateSymbolicLink(P("alias"), "real");
        File.CreateSymbolicLink(P("hard-to-see"), "alias/m.safetensors");
        ExternalTools.Run(_dir, "ln", input, P("hardlink.safetensors"));
        var before = File.ReadAllBytes(input);
        foreach (var output in new[] { P("alias/m.safetensors"), "/proc/self/cwd/m.safetensors", P("hardlink.safetensors"), P("hard-to-see") })
        {
            // The child's /proc/self/cwd is the child's working folder: real/.
            var convert = CliRunner.RunIn(P("real"), "convert", "m.safetensors", output, "--format", "safetensors", "--dtype", "float16");
            Assert.True(convert.ExitCode == 2, $"convert to {output}: exit {convert.ExitCode}: {convert.Stderr}");
            Assert.Contains("OUT is IN", convert.Stderr);
            var edit = CliRunner.RunIn(P("real"), "edit", "m.safetensors", output, "--zero", "fc.bias");
            Assert.True(edit.ExitCode == 2, $"edit to {output}: exit {edit.ExitCode}: {edit.Stderr}");
            Assert.Contains("--in-place", edit.Stderr);
            Assert.Equal(before, File.ReadAllBytes(input));
        }
        // With --in-place, OUT given under another name of IN is accepted (it is IN).
        var inPlace = CliRunner.RunIn(P("real"), "edit", "m.safetensors", "/proc/self/cwd/m.safetensors", "--in-place", "--zero", "fc.bias");
        Assert.True(inPlace.ExitCode == 0, inPlace.Stderr);
        using var m = ModelFile.Open(input);
        Assert.Equal([0f], m.Tensors["fc.bias"].ToFloat32());
    }

    [Fact]
    public void Identity_is_by_inode_not_by_text()
    {
        if (!OperatingSystem.IsLinux()) return;
        var a = Model("a.safetensors");
        var b = Model("b.safetensors");
        Assert.False(FileIdentity.Same(a, b));
        Directory.CreateDirectory(P("x"));
        Assert.True(FileIdentity.Same(a, Path.Combine(_dir, ".", "x", "..", "a.safetensors")));
        Assert.False(FileIdentity.Same(a, P("missing.safetensors")));
        Assert.True(FileIdentity.Same(P("missing.safetensors"), P("./missing.safetensors")));
        Assert.Equal(FileKind.Regular, FileIdentity.Kind(a));
        Assert.Equal(FileKind.Directory, FileIdentity.Kind(_dir));
        Assert.Equal(FileKind.CharacterDevice, FileIdentity.Kind("/dev/null"));
        Assert.Equal(FileKind.Missing, FileIdentity.Kind(P("missing")));
    }

    [Fact]
    public void Dev_null_stays_a_device()
    {
        if (!OperatingSystem.IsLinux()) return;
        var input = Model();
        var r = CliRunner.Run("convert", input, "/dev/null", "--format", "safetensors");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(FileKind.CharacterDevice, FileIdentity.Kind("/dev/null"));
        Assert.Empty(Directory.GetFiles("/dev", "*" + AtomicFile.TempSuffix, SearchOption.TopDirectoryOnly));
    }

    [Fact]
    public async Task A_named_pipe_gets_the_same_bytes_as_a_file()
    {
        if (!OperatingSystem.IsLinux()) return;
        var input = Model();
        Assert.Equal(0, CliRunner.Run("convert", input, P("file.npz")).ExitCode);
        ExternalTools.Run(_dir, "mkfifo", P("pipe"));
        var reader = Task.Run(() =>
        {
            using var pipe = new FileStream(P("pipe"), FileMode.Open, FileAccess.Read);  // blocks until a writer opens it
            using var copy = new MemoryStream();
            pipe.CopyTo(copy);
            return copy.ToArray();
        });
        var r = await Task.Run(() => CliRunner.Run("convert", input, P("pipe"), "--format", "npz"));
        if (r.ExitCode != 0)
            using (new FileStream(P("pipe"), FileMode.Open, FileAccess.Write)) { }  // the CLI never opened it: release the reader
        Assert.True(r.ExitCode == 0, r.Stderr);
        var received = await reader.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(File.ReadAllBytes(P("file.npz")), received);
        Assert.Equal(FileKind.Fifo, FileIdentity.Kind(P("pipe")));
    }

    [Fact]
    public void A_dead_writers_leftover_is_removed_and_a_live_ones_kept()
    {
        int dead = DeadPid();
        var stale = P($".out.safetensors.{dead}-deadbeef{AtomicFile.TempSuffix}");
        var live = P($".out.safetensors.{Environment.ProcessId}-0badf00d{AtomicFile.TempSuffix}");
        var otherTarget = P($".other.safetensors.{dead}-deadbeef{AtomicFile.TempSuffix}");
        var notOurs = P($".out.safetensors.{dead}-notours{AtomicFile.TempSuffix}");
        foreach (var f in new[] { stale, live, otherTarget, notOurs }) File.WriteAllText(f, "leftover");
        TensorWriters.Save([Tensor("a", 1)], P("out.safetensors"));
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(otherTarget));
        Assert.True(File.Exists(notOurs));
    }

    // A pid no process has now: Linux lists the running ones in /proc.
    private static int DeadPid()
    {
        for (int pid = 3_999_999; ; pid--)
            if (!Directory.Exists($"/proc/{pid}")) return pid;
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task A_signal_mid_write_leaves_no_temporary_file(string signal)
    {
        if (!OperatingSystem.IsLinux()) return;
        // 1 GiB of float32 zeros as a sparse .npy: instant to make, seconds to write out again.
        var input = P("big.npy");
        const long count = 1L << 28;
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + count + ",), }";
        header = header.PadRight(118 - 1) + "\n";  // NPY 1.0: magic(6) + version(2) + length(2) + header, a multiple of 64
        using (var f = new FileStream(input, FileMode.CreateNew))
        {
            f.Write([0x93, .. "NUMPY"u8, 1, 0, (byte)header.Length, 0]);
            f.Write(Encoding.ASCII.GetBytes(header));
            f.SetLength(f.Position + count * 4);
        }
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = _dir };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "WeightScope.Cli.dll"), "convert", input, P("out.safetensors") }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        var deadline = Stopwatch.StartNew();
        string? temp = null;
        while (temp is null && !p.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            temp = Directory.GetFiles(_dir, "*" + AtomicFile.TempSuffix).FirstOrDefault(t => new FileInfo(t).Length > 0);
            if (temp is null) Thread.Sleep(2);
        }
        Assert.True(temp is not null, $"the write finished (or failed) before it could be interrupted: {(p.HasExited ? await stderr : "")}");
        // The shell's own kill: a procps /bin/kill is not on every image.
        ExternalTools.Run(_dir, "sh", "-c", $"kill -{signal} {p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        Assert.True(p.WaitForExit(30_000), "the interrupted write did not end");
        Assert.NotEqual(0, p.ExitCode);
        Assert.Empty(Directory.GetFiles(_dir, "*" + AtomicFile.TempSuffix));
        Assert.False(File.Exists(P("out.safetensors")));
    }
}
