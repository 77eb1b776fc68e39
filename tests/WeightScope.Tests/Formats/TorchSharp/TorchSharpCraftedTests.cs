using System.Text;
using WeightScope.Formats.TorchSharp;
using WeightScope.IO;
using Xunit;

namespace WeightScope.Tests.Formats.TorchSharp;

/// <summary>
/// Files built here from the layout TorchSharp writes (Module.save: LEB128 count; per entry BinaryWriter.Write(name),
/// then Tensor.Save: LEB128 ScalarType, rank, dimensions, raw bytes), each broken in one way.
/// </summary>
public sealed class TorchSharpCraftedTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("torchsharp-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Leb(long v)
    {
        var o = new List<byte>();
        while (true)
        {
            byte b = (byte)(v & 0x7F);
            v >>= 7;
            if (v == 0) { o.Add(b); return [.. o]; }
            o.Add((byte)(b | 0x80));
        }
    }

    private static byte[] Entry(string name, long scalarType, long[] shape, byte[] data) =>
        [.. Leb(Encoding.UTF8.GetByteCount(name)), .. Encoding.UTF8.GetBytes(name), .. Leb(scalarType), .. Leb(shape.Length), .. shape.SelectMany(Leb), .. data];

    // count 2; "w": float32 (6) [2] = 1.5, −2; "n": int64 (4) scalar = 7
    private static byte[] Valid() =>
        [.. Leb(2), .. Entry("w", 6, [2], [.. BitConverter.GetBytes(1.5f), .. BitConverter.GetBytes(-2f)]), .. Entry("n", 4, [], BitConverter.GetBytes(7L))];

    private string Write(byte[] bytes, string name = "model.dat")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static ModelFormatException ParseFails(byte[] bytes)
    {
        using var file = MappedFile.FromArray(bytes);
        return Assert.ThrowsAny<ModelFormatException>(() => TorchSharpParser.ParseStateDict(file, ReaderLimits.Default));
    }

    [Fact]
    public void Valid_state_dict_opens_from_a_file_and_a_stream()
    {
        using var m = ModelFile.Open(Write(Valid()));
        Assert.Equal([1.5f, -2f], m.Tensors["w"].ToFloat32());
        Assert.Equal([7L], m.Tensors["n"].ToArray<long>());
        using var s = ModelFile.Open(new MemoryStream(Valid()));
        Assert.Equal("torchsharp", s.Format.Name);
    }

    [Fact]
    public void Truncated_file_with_the_extension_says_where()
    {
        var bytes = Valid()[..^3];
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(Write(bytes)));
        Assert.Contains("truncated", e.Message);
        Assert.Equal("torchsharp", e.Format);
        Assert.NotNull(e.Offset);
    }

    [Fact]
    public void Truncated_file_without_a_torchsharp_extension_is_not_claimed()
    {
        Assert.Throws<UnknownModelFormatException>(() => ModelFile.Open(Write(Valid()[..^3], "model.weights")));
    }

    [Fact]
    public void Trailing_bytes()
    {
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(Write([.. Valid(), 0])));
        Assert.Contains("1 trailing bytes", e.Message);
        Assert.IsType<InvalidModelContentException>(ParseFails([.. Valid(), 0, 0]));
    }

    [Fact]
    public void Leb128_overflow()
    {
        // count: ten continuation groups of 0x7F then a final one: more than 63 bits
        byte[] bytes = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, .. Valid()[1..]];
        Assert.Contains("larger than a 64-bit", ParseFails(bytes).Message);
        // a dimension of 2^63 (ten groups, the last holding bit 63)
        byte[] dim = [.. Leb(1), .. Leb(1), (byte)'w', .. Leb(6), .. Leb(1), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
        Assert.Contains("larger than a 64-bit", ParseFails(dim).Message);
    }

    [Fact]
    public void Unknown_scalar_type()
    {
        byte[] bytes = [.. Leb(1), .. Entry("w", 12, [1], [1])]; // 12 = QInt8, never written by Tensor.Save
        Assert.IsType<UnsupportedModelFeatureException>(ParseFails(bytes));
        var e = Assert.Throws<UnsupportedModelFeatureException>(() => ModelFile.Open(Write([.. Leb(1), .. Entry("w", 4711, [1], [1])])));
        Assert.Contains("4711", e.Message);
    }

    [Fact]
    public void Sizes_beyond_the_file()
    {
        byte[] bytes = [.. Leb(1), .. Entry("w", 6, [1000000], [0, 0, 0, 0])];
        Assert.Contains("needs 4000000 bytes", ParseFails(bytes).Message);
        byte[] overflow = [.. Leb(1), .. Entry("w", 6, [1L << 62, 4], [])];
        Assert.Contains("overflows", ParseFails(overflow).Message);
        byte[] count = [.. Leb(1_000_000), .. Entry("w", 0, [], [1])];
        Assert.Contains("entry count 1000000", ParseFails(count).Message);
    }

    [Fact]
    public void Names_must_be_text_of_bounded_length_and_unique()
    {
        Assert.Contains("not UTF-8", ParseFails([.. Leb(1), .. Leb(2), 0xC3, 0x28, .. Leb(0), .. Leb(0), 1]).Message);
        Assert.Contains("not UTF-8", ParseFails([.. Leb(1), .. Leb(1), 0x01, .. Leb(0), .. Leb(0), 1]).Message); // a control character
        Assert.Contains("name length", ParseFails([.. Leb(1), .. Leb(5000), .. new byte[5000]]).Message);
        Assert.Contains("appears twice", ParseFails([.. Leb(2), .. Entry("a", 0, [], [1]), .. Entry("a", 0, [], [2])]).Message);
    }

    [Fact]
    public void Too_many_dimensions()
    {
        Assert.Contains("rank 65", ParseFails([.. Leb(1), .. Leb(1), (byte)'w', .. Leb(6), .. Leb(65)]).Message);
    }

    [Fact]
    public void Random_small_files_are_not_taken_for_torchsharp()
    {
        // Without the extension a single-tensor parse is never tried: 3 bytes would otherwise be a uint8 scalar.
        Assert.Throws<UnknownModelFormatException>(() => ModelFile.Open(Write([0, 0, 42], "x.raw")));
        Assert.Throws<UnknownModelFormatException>(() => ModelFile.Open(new MemoryStream([0, 0, 42])));
        Assert.Throws<UnknownModelFormatException>(() => ModelFile.Open(Write([0], "empty.dat"))); // an empty state dict is too weak a signal
    }

    [Fact]
    public void Single_tensor_needs_the_extension_and_ends_at_the_end()
    {
        byte[] single = [.. Leb(7), .. Leb(1), .. Leb(2), .. BitConverter.GetBytes(0.5), .. BitConverter.GetBytes(-1.0)];
        using (var m = ModelFile.Open(Write(single, "t.bin"))) Assert.Equal([0.5, -1.0], m.Tensors[""].ToFloat64());
        Assert.Throws<UnknownModelFormatException>(() => ModelFile.Open(Write([.. single, 9], "t2.bin")));
    }

    // exportsd.save_sgd: name "SGD"; 1 group; 1 state; options lr, initial_lr, momentum, dampening, weight_decay (float64),
    // nesterov, maximize (bool bytes); state: conditional momentum_buffer (bool 1, then float32 [2]).
    private static byte[] Sgd(byte nesterov = 1) =>
        [.. Leb(3), .. "SGD"u8, .. Leb(1), .. Leb(1), .. new[] { 0.5, 0.5, 0.9, 0.0, 0.01 }.SelectMany(BitConverter.GetBytes), nesterov, 0,
         1, .. Leb(6), .. Leb(1), .. Leb(2), .. BitConverter.GetBytes(0.25f), .. BitConverter.GetBytes(-4f)];

    [Fact]
    public void Optimizer_state_built_by_the_exportsd_layout()
    {
        using var m = ModelFile.Open(new MemoryStream(Sgd())); // a whole consistent parse needs no extension
        Assert.Equal("optimizer", m.Format.Version);
        var group = Assert.IsType<OrderedDictionary<string, object?>>(Assert.Single(Assert.IsType<List<object?>>(m.Metadata["param_groups"])));
        Assert.Equal(["lr", "initial_lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"], group.Keys);
        Assert.Equal(new object?[] { 0.5, 0.5, 0.9, 0.0, 0.01, true, false }, group.Values);
        Assert.Equal([0.25f, -4f], m.Tensors["state.0.momentum_buffer"].ToFloat32());
    }

    [Fact]
    public void Optimizer_state_truncated_or_with_a_bad_bool()
    {
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(Write(Sgd()[..^2], "sgd.dat")));
        Assert.Contains("truncated", e.Message);
        var b = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(Write(Sgd(nesterov: 7), "sgd2.dat")));
        Assert.Contains("bool byte of 7", b.Message);
        Assert.Throws<UnknownModelFormatException>(() => ModelFile.Open(new MemoryStream(Sgd()[..^2]))); // no extension: not claimed
    }
}
