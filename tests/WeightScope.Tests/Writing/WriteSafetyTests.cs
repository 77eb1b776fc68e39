using WeightScope.Tensors;
using WeightScope.Tests.Cli;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Writing;

/// <summary>What a write must never do to the files around it (found in review): replace a link, widen permissions,
/// overwrite a read-only file or one of its own input's files, edit names it was not given.</summary>
public sealed class WriteSafetyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-write-safety-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static TensorEntry Tensor(string name, params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return new TensorEntry(name, DType.Float32, new Shape(values.Length), new ArrayStorage(bytes, name));
    }

    [Fact]
    public void Writing_through_a_symlink_replaces_its_target_and_keeps_the_link_and_mode()
    {
        if (OperatingSystem.IsWindows()) return;
        TensorWriters.Save([Tensor("a", 1)], P("blob.safetensors"));
        File.SetUnixFileMode(P("blob.safetensors"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        File.CreateSymbolicLink(P("link.safetensors"), "blob.safetensors");
        TensorWriters.Save([Tensor("a", 2)], P("link.safetensors"));
        Assert.NotNull(new FileInfo(P("link.safetensors")).LinkTarget);
        using (var m = ModelFile.Open(P("blob.safetensors"))) Assert.Equal([2f], m.Tensors["a"].ToFloat32());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(P("blob.safetensors")));
    }

    [Fact]
    public void A_read_only_file_is_refused_not_replaced()
    {
        if (OperatingSystem.IsWindows()) return;
        TensorWriters.Save([Tensor("a", 1)], P("ro.safetensors"));
        File.SetUnixFileMode(P("ro.safetensors"), UnixFileMode.UserRead);
        var before = File.ReadAllBytes(P("ro.safetensors"));
        var e = Assert.Throws<ModelWriteException>(() => TensorWriters.Save([Tensor("a", 2)], P("ro.safetensors")));
        Assert.Contains("read-only", e.Message);
        Assert.Equal(before, File.ReadAllBytes(P("ro.safetensors")));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Big_endian_tensors_larger_than_one_chunk_are_written_little_endian()
    {
        const int n = 3 << 20; // 12 MiB: several 4 MiB chunks, each swapped
        var big = new byte[n * 4];
        for (int i = 0; i < n; i++) System.Buffers.Binary.BinaryPrimitives.WriteSingleBigEndian(big.AsSpan(i * 4), i * 0.5f);
        var t = new TensorEntry("be", DType.Float32, new Shape(n), new ArrayStorage(big, "be"), bigEndian: true);
        TensorWriters.Save([t], P("be.safetensors"));
        using var m = ModelFile.Open(P("be.safetensors"));
        var back = m.Tensors["be"].ToArray<float>();
        Assert.Equal(n, back.Length);
        for (int i = 0; i < n; i += 4099) Assert.Equal(i * 0.5f, back[i]);
        Assert.Equal((n - 1) * 0.5f, back[^1]);
    }

    [Fact]
    public void Zeroing_allocates_nothing_and_reads_as_zeros()
    {
        var t = new TensorEntry("huge", DType.Float32, new Shape(3L << 30), new ZeroStorage(12L << 30, "src"));
        var z = TensorEdits.Zeroed(t);
        Assert.Equal(t.ByteSize, z.ByteSize);
        var piece = new byte[4096];
        z.Storage.Read(z.ByteSize - piece.Length, piece);
        Assert.All(piece, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Write_verbs_take_a_plain_name_as_exact_not_as_a_substring()
    {
        var src = TestPaths.Fixture("pytorch", "resnet_tiny_state_dict.pth");
        var r = CliRunner.Run("convert", src, P("d.safetensors"), "--drop", "conv1.weight");
        Assert.Equal(0, r.ExitCode);
        using (var m = ModelFile.Open(P("d.safetensors")))
        {
            Assert.False(m.Tensors.Contains("conv1.weight"));
            Assert.True(m.Tensors.Contains("layer1.0.conv1.weight"));
        }
        var e = CliRunner.Run("edit", src, P("e.safetensors"), "--zero", "conv1.weight");
        Assert.Equal(0, e.ExitCode);
        using (var a = ModelFile.Open(src))
        using (var b = ModelFile.Open(P("e.safetensors")))
        {
            Assert.All(b.Tensors["conv1.weight"].ToFloat32(), v => Assert.Equal(0f, v));
            Assert.Equal(a.Tensors["layer1.0.conv1.weight"].ReadBytes(), b.Tensors["layer1.0.conv1.weight"].ReadBytes());
        }
        var glob = CliRunner.Run("convert", src, P("g.safetensors"), "--filter", "*conv1.weight");
        Assert.Equal(0, glob.ExitCode);
        using (var g = ModelFile.Open(P("g.safetensors")))
            Assert.True(g.Tensors.Count > 1 && g.Tensors.All(t => t.Name.EndsWith("conv1.weight", StringComparison.Ordinal)));
    }

    [Fact]
    public void Convert_refuses_to_write_over_a_shard_of_its_input()
    {
        Directory.CreateDirectory(P("sharded"));
        TensorWriters.Save([Tensor("a", 1)], P("sharded/model-00001-of-00002.safetensors"));
        TensorWriters.Save([Tensor("b", 2)], P("sharded/model-00002-of-00002.safetensors"));
        File.WriteAllText(P("sharded/model.safetensors.index.json"),
            """{"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}""");
        var before = File.ReadAllBytes(P("sharded/model-00001-of-00002.safetensors"));
        var r = CliRunner.Run("convert", P("sharded"), P("sharded/model-00001-of-00002.safetensors"), "--filter", "b");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("is one of the files", r.Stderr);
        Assert.Equal(before, File.ReadAllBytes(P("sharded/model-00001-of-00002.safetensors")));
        var inPlace = CliRunner.Run("edit", P("sharded/model.safetensors.index.json"), "--in-place", "--zero", "a");
        Assert.Equal(2, inPlace.ExitCode);
    }

    [Fact]
    public void A_mistyped_option_is_not_taken_for_the_output_file()
    {
        TensorWriters.Save([Tensor("a", 1)], P("in.safetensors"));
        var r = CliRunner.RunIn(_dir, "edit", "in.safetensors", "--zero", "a", "--inplace");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("looks like an option", r.Stderr);
        Assert.False(File.Exists(P("--inplace")));
    }
}
