using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using WeightScope.Tensors;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary><c>weightscope convert</c> and <c>edit</c> end to end: what is written, what is refused, and that inputs are never damaged.</summary>
public sealed class ConvertEditCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-convert-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Out(string name) => Path.Combine(_dir, name);

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    private static void AssertSameTensors(string expectedPath, string actualPath, Func<string, string>? rename = null)
    {
        using var a = ModelFile.Open(expectedPath);
        using var b = ModelFile.Open(actualPath);
        Assert.Equal(a.Tensors.Count, b.Tensors.Count);
        foreach (var t in a.Tensors)
        {
            var u = b.Tensors[rename?.Invoke(t.Name) ?? t.Name];
            Assert.Equal((t.DType, t.Shape), (u.DType, u.Shape));
            Assert.Equal(t.ReadBytes(), u.ReadBytes());
        }
    }

    [Fact]
    public void Convert_writes_every_tensor_and_diff_finds_no_difference()
    {
        var src = TestPaths.Fixture("pytorch", "resnet_tiny_state_dict.pth");
        var r = CliRunner.Run("convert", src, Out("r.safetensors"));
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("wrote ", r.Stdout);
        Assert.Contains("(safetensors, ", r.Stdout);
        AssertSameTensors(src, Out("r.safetensors"));
        Assert.Equal(0, CliRunner.Run("diff", src, Out("r.safetensors")).ExitCode);
        Assert.Empty(Directory.GetFiles(_dir, "*" + AtomicFile.TempSuffix, SearchOption.AllDirectories));
    }

    [Fact]
    public void Convert_dtype_casts_floating_point_tensors_only()
    {
        var src = TestPaths.Fixture("writing", "cast_sources.pt");
        var r = CliRunner.Run("convert", src, Out("h.safetensors"), "--dtype", "float16", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("safetensors", doc.RootElement.GetProperty("format").GetString());
        Assert.Equal(8, doc.RootElement.GetProperty("tensors").GetInt32());
        using var s = ModelFile.Open(src);
        using var h = ModelFile.Open(Out("h.safetensors"));
        Assert.Equal(DType.Float16, h.Tensors["tricky64"].DType);
        Assert.Equal(DType.Float16, h.Tensors["bf16"].DType);
        Assert.Equal(DType.Int64, h.Tensors["steps"].DType);
        Assert.Equal(DType.Bool, h.Tensors["mask"].DType);
        Assert.Equal(TensorCast.Cast(s.Tensors["normal32"], DType.Float16).ReadBytes(), h.Tensors["normal32"].ReadBytes());
        Assert.Equal(2, CliRunner.Run("convert", src, Out("x.safetensors"), "--dtype", "int8").ExitCode);
    }

    [Fact]
    public void Convert_rename_filter_and_drop()
    {
        var r = CliRunner.Run("convert", TestPaths.Fixture("diff", "dp.pt"), Out("clean.safetensors"), "--rename", "s/^module\\.//");
        Assert.Equal(0, r.ExitCode);
        AssertSameTensors(TestPaths.Fixture("diff", "base.pt"), Out("clean.safetensors"));

        var src = TestPaths.Fixture("pytorch", "resnet_tiny_state_dict.pth");
        Assert.Equal(0, CliRunner.Run("convert", src, Out("f.safetensors"), "--filter", "*.weight", "--drop", "fc.*").ExitCode);
        using var m = ModelFile.Open(src);
        using var f = ModelFile.Open(Out("f.safetensors"));
        var expected = m.Tensors.Where(t => t.Name.EndsWith(".weight", StringComparison.Ordinal) && !t.Name.StartsWith("fc.", StringComparison.Ordinal))
            .Select(t => t.Name).Order(StringComparer.Ordinal);
        Assert.Equal(expected, f.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.NotEmpty(f.Tensors);

        var typo = CliRunner.Run("convert", src, Out("g.safetensors"), "--drop", "conv9*");
        Assert.Equal(2, typo.ExitCode);
        Assert.Contains("--drop 'conv9*' matches no tensor", typo.Stderr);
        Assert.False(File.Exists(Out("g.safetensors")));
        var clash = CliRunner.Run("convert", src, Out("g.safetensors"), "--rename", "s/.*/same/");
        Assert.Equal(2, clash.ExitCode);
        Assert.Contains("the same name 'same'", clash.Stderr);
    }

    [Fact]
    public void Convert_refuses_what_it_cannot_write_and_leaves_nothing()
    {
        var src = TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth");
        var ending = CliRunner.Run("convert", src, Out("model.xyz"));
        Assert.Equal(2, ending.ExitCode);
        Assert.Contains("cannot tell the output format", ending.Stderr);
        Assert.Contains(".safetensors", ending.Stderr);
        var same = CliRunner.Run("convert", src, src);
        Assert.Equal(2, same.ExitCode);
        Assert.Contains("never overwrites its input", same.Stderr);
        var quantized = CliRunner.Run("convert", TestPaths.Fixture("pytorch", "quantized.pt"), Out("q.safetensors"));
        Assert.Equal(2, quantized.ExitCode);
        Assert.Contains("--dtype float32", quantized.Stderr);
        var compress = CliRunner.Run("convert", src, Out("c.safetensors"), "--compress");
        Assert.Equal(2, compress.ExitCode);
        Assert.Contains("--compress applies to .npz", compress.Stderr);
        Assert.Empty(Directory.GetFiles(_dir));
        // …and --dtype float32 dequantizes, as the message says.
        Assert.Equal(0, CliRunner.Run("convert", TestPaths.Fixture("pytorch", "quantized.pt"), Out("q.safetensors"), "--dtype", "float32").ExitCode);
        using var q = ModelFile.Open(TestPaths.Fixture("pytorch", "quantized.pt"));
        using var d = ModelFile.Open(Out("q.safetensors"));
        foreach (var t in q.Tensors.Where(t => t.DType.IsQuantized()))
            Assert.Equal(t.ToFloat32(), d.Tensors[t.Name].ToFloat32());
    }

    [Fact]
    public void Tied_weights_are_copied_with_a_note_or_refused()
    {
        var src = TestPaths.Fixture("pytorch", "views_shared.pt");
        var r = CliRunner.Run("convert", src, Out("v.safetensors"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("note: tied_a, tied_b, transposed share storage", r.Stderr);
        AssertSameTensors(src, Out("v.safetensors"));
        var refused = CliRunner.Run("convert", src, Out("w.safetensors"), "--refuse-shared");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("tied_a, tied_b, transposed share storage", refused.Stderr);
        Assert.False(File.Exists(Out("w.safetensors")));
    }

    [Fact]
    public void Safetensors_metadata_is_kept_and_can_be_added()
    {
        var src = TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth");
        Assert.Equal(0, CliRunner.Run("convert", src, Out("a.safetensors"), "--metadata", "format=pt", "--metadata", "note=x=y").ExitCode);
        Assert.Equal(0, CliRunner.Run("convert", Out("a.safetensors"), Out("b.safetensors")).ExitCode);
        using var b = ModelFile.Open(Out("b.safetensors"));
        Assert.Equal("pt", b.Metadata["format"]);
        Assert.Equal("x=y", b.Metadata["note"]);
    }

    [Fact]
    public void Edit_zero_scale_drop_rename_and_input_untouched()
    {
        var src = Out("in.safetensors");
        TensorWriters.Save(ModelFile.Open(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth")).Tensors, src);
        var before = Hash(src);
        var r = CliRunner.Run("edit", src, Out("out.safetensors"), "--zero", "fc2.*", "--scale", "fc1.weight=0.5",
            "--drop", "fc1.bias", "--rename", "fc1.weight=first.weight");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(before, Hash(src));
        using var a = ModelFile.Open(src);
        using var b = ModelFile.Open(Out("out.safetensors"));
        Assert.Equal(["fc2.bias", "fc2.weight", "first.weight"], b.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.All(b.Tensors["fc2.weight"].ToFloat32(), v => Assert.Equal(0f, v));
        Assert.All(b.Tensors["fc2.bias"].ToFloat32(), v => Assert.Equal(0f, v));
        Assert.Equal(a.Tensors["fc1.weight"].ToFloat32().Select(v => v * 0.5f), b.Tensors["first.weight"].ToFloat32());
    }

    [Fact]
    public void Edit_set_takes_a_one_tensor_file_and_checks_shape_and_dtype()
    {
        var src = Out("in.safetensors");
        using (var m = ModelFile.Open(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth")))
        {
            TensorWriters.Save(m.Tensors, src);
            var w = m.Tensors["fc1.weight"];
            TensorWriters.Save([TensorEdits.Scaled(w, -1).With(name: "value")], Out("neg.safetensors"));
            TensorWriters.Save([TensorCast.Cast(w, DType.Float64).With(name: "value")], Out("f64.safetensors"));
        }
        Assert.Equal(0, CliRunner.Run("edit", src, Out("out.safetensors"), "--set", "fc1.weight=" + Out("neg.safetensors")).ExitCode);
        using (var a = ModelFile.Open(src))
        using (var b = ModelFile.Open(Out("out.safetensors")))
        {
            Assert.Equal(a.Tensors["fc1.weight"].ToFloat32().Select(v => -v), b.Tensors["fc1.weight"].ToFloat32());
            Assert.Equal(a.Tensors["fc2.weight"].ReadBytes(), b.Tensors["fc2.weight"].ReadBytes());
        }
        var wrong = CliRunner.Run("edit", src, Out("bad.safetensors"), "--set", "fc1.weight=" + Out("f64.safetensors"));
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("it is float32[5, 10], the new value 'value' is float64[5, 10]", wrong.Stderr);
        var shape = CliRunner.Run("edit", src, Out("bad.safetensors"), "--set", "fc2.weight=" + Out("neg.safetensors"));
        Assert.Equal(2, shape.ExitCode);
        Assert.Contains("float32[1, 5]", shape.Stderr);
        Assert.Contains("float32[5, 10]", shape.Stderr);
        var many = CliRunner.Run("edit", src, Out("bad.safetensors"), "--set", "fc2.weight=" + src);
        Assert.Equal(2, many.ExitCode);
        Assert.Contains("holds 4 tensors", many.Stderr);
        Assert.False(File.Exists(Out("bad.safetensors")));
    }

    [Fact]
    public void Edit_overwrites_its_input_only_with_in_place()
    {
        var src = Out("in.safetensors");
        TensorWriters.Save(ModelFile.Open(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth")).Tensors, src);
        var before = Hash(src);
        var refused = CliRunner.Run("edit", src, src, "--zero", "fc1.bias");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--in-place", refused.Stderr);
        Assert.Equal(before, Hash(src));
        Assert.Equal(2, CliRunner.Run("edit", src, "--zero", "fc1.bias").ExitCode);
        Assert.Equal(2, CliRunner.Run("edit", src, "--in-place").ExitCode); // nothing to do
        var r = CliRunner.Run("edit", src, "--in-place", "--zero", "fc1.bias");
        Assert.Equal(0, r.ExitCode);
        Assert.NotEqual(before, Hash(src));
        using var m = ModelFile.Open(src);
        Assert.All(m.Tensors["fc1.bias"].ToFloat32(), v => Assert.Equal(0f, v));
        Assert.Equal(4, m.Tensors.Count);
        Assert.Single(Directory.GetFiles(_dir));
    }

    /// <summary>
    /// Kills <c>edit</c> while it writes a 128 MiB result over an existing file: the old file must be intact (the write
    /// goes to a temporary file that is renamed only when complete). The kill lands mid-write when the temporary file
    /// exists; the test checks that it did (the leftover temporary file is there and the process did not finish).
    /// </summary>
    [Fact]
    public void Killing_edit_mid_write_leaves_the_old_file_intact()
    {
        var big = Out("big.safetensors");
        var storage = new ArrayStorage(new byte[128 << 20], "big");
        TensorWriters.Save([new TensorEntry("w", DType.Float32, new Shape(32 << 20), storage)], big);
        var target = Out("target.safetensors");
        TensorWriters.Save(ModelFile.Open(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth")).Tensors, target);
        var before = Hash(target);

        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "WeightScope.Cli.dll"), "edit", big, target, "--scale", "w=2" })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var sw = Stopwatch.StartNew();
        string[] temps = [];
        while (!p.HasExited && sw.Elapsed < TimeSpan.FromSeconds(60))
        {
            temps = Directory.GetFiles(_dir, "*" + AtomicFile.TempSuffix);
            if (temps.Length > 0) break;
            Thread.Sleep(1);
        }
        Assert.False(p.HasExited, "edit finished before the test saw its temporary file; nothing was interrupted");
        p.Kill(entireProcessTree: true);
        p.WaitForExit();
        Assert.NotEqual(0, p.ExitCode);
        Assert.Single(temps);
        Assert.True(File.Exists(temps[0]), "the killed write's temporary file is left behind, not renamed");
        Assert.Equal(before, Hash(target));
        using var m = ModelFile.Open(target);
        Assert.Equal(4, m.Tensors.Count);
    }
}
