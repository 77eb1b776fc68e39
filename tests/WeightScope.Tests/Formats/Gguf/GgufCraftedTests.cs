using System.Buffers.Binary;
using System.Diagnostics;
using System.Numerics;
using WeightScope.Tensors;
using Xunit;
using static WeightScope.Tests.Formats.Gguf.GgufBuilder;

namespace WeightScope.Tests.Formats.Gguf;

/// <summary>Crafted GGUF files: every metadata value type, plain tensor types, alignment, and each kind of bad input.</summary>
public sealed class GgufCraftedTests
{
    private static ModelFile Open(byte[] bytes, ReaderOptions? options = null) => ModelFile.Open(new MemoryStream(bytes), options);

    private static T Fails<T>(byte[] bytes, ReaderOptions? options = null) where T : ModelFormatException
    {
        var e = Assert.Throws<T>(() => { using var _ = Open(bytes, options); });
        return e;
    }

    // --- metadata ------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(1u)]
    [InlineData(2u)]
    [InlineData(3u)]
    public void Every_value_type_maps_to_the_metadata_conventions(uint version)
    {
        var b = new GgufBuilder(version);
        b.Kv("u8", TypeUInt8, [250])
            .Kv("i8", TypeInt8, [0x80])
            .Kv("u16", TypeUInt16, BitConverter.GetBytes((ushort)65535))
            .Kv("i16", TypeInt16, BitConverter.GetBytes((short)-2))
            .Kv("u32", TypeUInt32, BitConverter.GetBytes(4_000_000_000u))
            .Kv("i32", TypeInt32, BitConverter.GetBytes(-7))
            .Kv("f32", TypeFloat32, BitConverter.GetBytes(1e-5f))
            .Kv("yes", TypeBool, [1])
            .Kv("no", TypeBool, [0])
            .Kv("s", TypeString, b.Str("héllo"))
            .Kv("u64", TypeUInt64, BitConverter.GetBytes(ulong.MaxValue))
            .Kv("u64small", TypeUInt64, BitConverter.GetBytes(42UL))
            .Kv("i64", TypeInt64, BitConverter.GetBytes(long.MinValue))
            .Kv("f64", TypeFloat64, BitConverter.GetBytes(0.1))
            .Kv("strings", TypeArray, b.Array(TypeString, [b.Str("a"), b.Str(""), b.Str("ü")]))
            .Kv("ints", TypeArray, b.Array(TypeInt32, [BitConverter.GetBytes(1), BitConverter.GetBytes(-1)]))
            .Kv("nested", TypeArray, b.Array(TypeArray, [b.Array(TypeUInt8, [[1], [2]]), b.Array(TypeString, [b.Str("x")])]))
            .Kv("empty", TypeArray, b.Array(TypeFloat32, []));
        using var m = Open(b.Build());
        var md = m.Metadata;
        Assert.Equal(250L, md["u8"]);
        Assert.Equal(-128L, md["i8"]);
        Assert.Equal(65535L, md["u16"]);
        Assert.Equal(-2L, md["i16"]);
        Assert.Equal(4_000_000_000L, md["u32"]);
        Assert.Equal(-7L, md["i32"]);
        Assert.Equal((double)1e-5f, md["f32"]); // the float32 widened, as gguf-py's .tolist() gives it
        Assert.Equal(true, md["yes"]);
        Assert.Equal(false, md["no"]);
        Assert.Equal("héllo", md["s"]);
        Assert.Equal(new BigInteger(ulong.MaxValue), md["u64"]);
        Assert.Equal(42L, md["u64small"]);
        Assert.Equal(long.MinValue, md["i64"]);
        Assert.Equal(0.1, md["f64"]);
        Assert.Equal(new List<object?> { "a", "", "ü" }, md["strings"]);
        Assert.Equal(new List<object?> { 1L, -1L }, md["ints"]);
        var nested = Assert.IsType<List<object?>>(md["nested"]);
        Assert.Equal(new List<object?> { 1L, 2L }, nested[0]);
        Assert.Equal(new List<object?> { "x" }, nested[1]);
        Assert.Equal(new List<object?>(), md["empty"]);
        Assert.Equal($"v{version}", m.Format.Version);
        Assert.Null(m.Format.Producer);
    }

    [Fact]
    public void A_tokenizer_array_of_150k_strings_is_read_quickly()
    {
        var b = new GgufBuilder();
        var tokens = Enumerable.Range(0, 150_000).Select(i => $"tok{i}").ToList();
        b.Kv("tokenizer.ggml.tokens", TypeArray, b.Array(TypeString, tokens.Select(b.Str)));
        var bytes = b.Build();
        var sw = Stopwatch.StartNew();
        using var m = Open(bytes);
        var list = Assert.IsType<List<object?>>(m.Metadata["tokenizer.ggml.tokens"]);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
        Assert.Equal(tokens, list.Cast<string>());
    }

    // --- plain tensor types and layout ------------------------------------------------------------------------

    [Fact]
    public void Plain_types_map_zero_copy_with_row_major_shapes()
    {
        byte[] Bytes<T>(params T[] v) where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray();
        var bytes = new GgufBuilder()
            .AddTensor("f32", [3, 2], 0, Bytes(1f, 2f, 3f, 4f, 5f, 6f))      // ne [3, 2] → shape [2, 3]
            .AddTensor("f16", [2], 1, Bytes((Half)0.5f, (Half)(-2f)))
            .AddTensor("i8", [3], 24, Bytes<sbyte>(-1, 0, 127))
            .AddTensor("i16", [2], 25, Bytes<short>(-300, 300))
            .AddTensor("i32", [1], 26, Bytes(-70000))
            .AddTensor("i64", [1], 27, Bytes(long.MaxValue))
            .AddTensor("f64", [2], 28, Bytes(0.1, -0.25))
            .AddTensor("bf16", [2], 30, Bytes<ushort>(0x3F80, 0xC040)) // 1.0, -3.0
            .AddTensor("scalar", [], 0, Bytes(9f))
            .Build();
        using var m = Open(bytes);
        var f32 = m.Tensors["f32"];
        Assert.Equal(new Shape(2, 3), f32.Shape);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, f32.ToFloat32());
        Assert.Equal(2f, f32.Slice("[0, 1]").ToFloat32()[0]); // row-major: the second value of the first ne[0] run
        Assert.True(f32.TryGetSpan<float>(out _));
        Assert.Equal(DType.Float16, m.Tensors["f16"].DType);
        Assert.Equal(new[] { (Half)0.5f, (Half)(-2f) }, m.Tensors["f16"].ToArray<Half>());
        Assert.Equal(new sbyte[] { -1, 0, 127 }, m.Tensors["i8"].ToArray<sbyte>());
        Assert.Equal(new short[] { -300, 300 }, m.Tensors["i16"].ToArray<short>());
        Assert.Equal(new[] { -70000 }, m.Tensors["i32"].ToArray<int>());
        Assert.Equal(new[] { long.MaxValue }, m.Tensors["i64"].ToArray<long>());
        Assert.Equal(new[] { 0.1, -0.25 }, m.Tensors["f64"].ToArray<double>());
        Assert.Equal(DType.BFloat16, m.Tensors["bf16"].DType);
        Assert.Equal(new[] { 1f, -3f }, m.Tensors["bf16"].ToFloat32());
        Assert.Equal(Shape.Scalar, m.Tensors["scalar"].Shape);
        Assert.Equal(new[] { 9f }, m.Tensors["scalar"].ToFloat32());
        Assert.All(m.Tensors, t => Assert.Null(t.Quantization));
    }

    [Fact]
    public void An_empty_tensor_needs_no_data_section()
    {
        // header and infos only, not even padding after them: ne [0] holds no bytes
        var bytes = new GgufBuilder().AddTensor("empty", [0, 4], 2, []).Build();
        var walk = GgufWalker.Walk(bytes);
        Assert.True(walk.DataStart > walk.InfosEnd);
        using var m = Open(bytes[..(int)walk.InfosEnd]);
        Assert.Equal(new Shape(4, 0), m.Tensors["empty"].Shape);
        Assert.Empty(m.Tensors["empty"].ToFloat32());
    }

    [Fact]
    public void General_alignment_places_the_data_section_and_offsets()
    {
        var b = new GgufBuilder { Alignment = 256 };
        b.KvUInt32("general.alignment", 256)
            .AddTensor("a", [3], 0, [.. BitConverter.GetBytes(1f), .. BitConverter.GetBytes(2f), .. BitConverter.GetBytes(3f)])
            .AddTensor("b", [1], 0, BitConverter.GetBytes(4f));
        var bytes = b.Build();
        var walk = GgufWalker.Walk(bytes);
        Assert.Equal(0, walk.DataStart % 256);
        Assert.Equal(256UL, walk.Tensors[1].Offset);
        using var m = Open(bytes);
        Assert.Equal(new[] { 1f, 2f, 3f }, m.Tensors["a"].ToFloat32());
        Assert.Equal(new[] { 4f }, m.Tensors["b"].ToFloat32());
    }

    // --- bad input --------------------------------------------------------------------------------------------

    private static byte[] Minimal(uint version = 3) =>
        new GgufBuilder(version).KvString("general.architecture", "llama").AddTensor("w", [8], 0, new byte[32]).Build(); // data fills its alignment: no trailing padding

    [Fact]
    public void Wrong_magic_is_not_recognised_as_gguf()
    {
        var bytes = Minimal();
        bytes[3] = (byte)'X';
        Assert.Throws<UnknownModelFormatException>(() => Open(bytes));
    }

    [Fact]
    public void A_gguf_with_the_hdf5_signature_at_offset_512_is_still_gguf()
    {
        // HDF5 looks for its signature at 0, 512, 1024, …; a metadata string can hold those bytes anywhere.
        byte[] hdf5 = [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A];
        var b = new GgufBuilder();
        int keyAt = 24 + 8 + "pad".Length + 4 + 8;  // where the string value's bytes start
        var text = new byte[512 - keyAt + hdf5.Length + 16];
        Array.Fill(text, (byte)'x');
        hdf5.CopyTo(text, 512 - keyAt);
        b.Kv("pad", TypeString, [.. BitConverter.GetBytes((ulong)text.Length), .. text]);
        var bytes = b.Build();
        Assert.Equal(hdf5, bytes[512..520]);
        using var m = Open(bytes);
        Assert.Equal("gguf", m.Format.Name);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(4u)]
    [InlineData(0xFFFFFFFFu)]
    public void Unknown_versions_are_refused_by_number(uint version)
    {
        var e = Fails<UnsupportedModelFeatureException>(new GgufBuilder { VersionOverride = version }.Build());
        Assert.Contains($"version {version}", e.Message);
        Assert.Equal(4, e.Offset);
    }

    [Fact]
    public void A_big_endian_file_is_named_as_such()
    {
        var bytes = Minimal();
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), 3);
        Assert.Contains("big-endian", Fails<UnsupportedModelFeatureException>(bytes).Message);
    }

    [Fact]
    public void A_truncated_header_says_where_and_what()
    {
        var bytes = Minimal()[..12]; // magic, version, half of tensor_count
        var e = Fails<InvalidModelContentException>(bytes);
        Assert.Equal(8, e.Offset);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("tensor_count", e.Message);
    }

    [Fact]
    public void Every_truncation_fails_cleanly()
    {
        var bytes = Minimal();
        for (int n = 4; n < bytes.Length; n++)
        {
            var e = Record.Exception(() => { using var m = Open(bytes[..n]); foreach (var t in m.Tensors) t.ToFloat32(); });
            Assert.True(e is ModelFormatException, $"cut at {n}: {e?.GetType().Name} {e?.Message}");
        }
    }

    [Theory]
    [InlineData(1u)]
    [InlineData(3u)]
    public void A_huge_kv_count_fails_fast_naming_its_offset(uint version)
    {
        var b = new GgufBuilder(version) { KvCountOverride = version == 1 ? uint.MaxValue : 1UL << 60 };
        b.KvString("general.architecture", "llama");
        var sw = Stopwatch.StartNew();
        var e = Fails<InvalidModelContentException>(b.Build());
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1));
        Assert.Equal(version == 1 ? 12 : 16, e.Offset);
        Assert.Contains("metadata_kv_count", e.Message);
        Assert.Contains(version == 1 ? $"{uint.MaxValue}" : $"{1UL << 60}", e.Message);
    }

    [Fact]
    public void A_huge_tensor_count_fails_fast()
    {
        var e = Fails<InvalidModelContentException>(new GgufBuilder { TensorCountOverride = 1UL << 60 }.Build());
        Assert.Equal(8, e.Offset);
        Assert.Contains("tensor_count", e.Message);
    }

    [Fact]
    public void A_tensor_count_over_the_limit_is_a_limit_error()
    {
        var e = Fails<ReaderLimitException>(Minimal(), new ReaderOptions { Limits = new ReaderLimits { MaxTensorCount = 0 } });
        Assert.Equal(nameof(ReaderLimits.MaxTensorCount), e.Limit);
    }

    [Fact]
    public void A_header_over_the_limit_is_a_limit_error()
    {
        var e = Fails<ReaderLimitException>(Minimal(), new ReaderOptions { Limits = new ReaderLimits { MaxHeaderBytes = 30 } });
        Assert.Equal(nameof(ReaderLimits.MaxHeaderBytes), e.Limit);
    }

    [Fact]
    public void A_string_length_beyond_the_file_fails()
    {
        var b = new GgufBuilder();
        b.Kv("general.architecture", TypeString, [.. BitConverter.GetBytes(1UL << 40), .. "llama"u8]);
        var e = Fails<InvalidModelContentException>(b.Build());
        Assert.Contains("length", e.Message);
        Assert.Equal(24 + 8 + "general.architecture".Length + 4, e.Offset);
    }

    [Fact]
    public void An_array_length_beyond_the_file_fails()
    {
        var b = new GgufBuilder();
        b.Kv("tokenizer.ggml.scores", TypeArray, b.Array(TypeFloat32, [BitConverter.GetBytes(1f)], lengthOverride: 1UL << 59));
        Assert.Contains("array length", Fails<InvalidModelContentException>(b.Build()).Message);
    }

    [Fact]
    public void An_unknown_value_type_fails_naming_the_key()
    {
        var e = Fails<InvalidModelContentException>(new GgufBuilder().Kv("general.odd", 13, [0]).Build());
        Assert.Equal("general.odd", e.Entry);
        Assert.Contains("value type 13", e.Message);
    }

    [Fact]
    public void A_bool_other_than_0_or_1_is_invalid()
    {
        Assert.Contains("0 or 1", Fails<InvalidModelContentException>(new GgufBuilder().Kv("flag", TypeBool, [2]).Build()).Message);
    }

    [Fact]
    public void Duplicate_keys_and_tensor_names_are_invalid()
    {
        Assert.Contains("twice", Fails<InvalidModelContentException>(new GgufBuilder().KvString("k", "a").KvString("k", "b").Build()).Message);
        var twice = new GgufBuilder().AddTensor("w", [1], 0, new byte[4]).AddTensor("w", [1], 0, new byte[4]).Build();
        Assert.Equal("w", Fails<InvalidModelContentException>(twice).Entry);
    }

    [Theory]
    [InlineData(TypeUInt32, 48u)]  // not a power of two
    [InlineData(TypeUInt32, 0u)]
    [InlineData(TypeInt32, 32u)]   // right value, wrong type: gguf.cpp and gguf-py insist on uint32
    public void A_bad_alignment_is_invalid(uint type, uint value)
    {
        var bytes = new GgufBuilder().Kv("general.alignment", type, BitConverter.GetBytes(value)).AddTensor("w", [1], 0, new byte[4]).Build();
        Assert.Equal("general.alignment", Fails<InvalidModelContentException>(bytes).Entry);
    }

    [Fact]
    public void Tensor_data_beyond_the_file_fails()
    {
        var bytes = Minimal();
        var e = Fails<InvalidModelContentException>(bytes[..^4]);
        Assert.Equal("w", e.Entry);
        Assert.Contains("beyond the end of the file", e.Message);
        var far = new GgufBuilder().AddTensor("w", [4], 0, new byte[16], offset: 1UL << 62).Build();
        Assert.Contains("beyond the end", Fails<InvalidModelContentException>(far).Message);
        var huge = new GgufBuilder().AddTensor("w", [1UL << 40, 1UL << 20], 0, new byte[16]).Build();
        Assert.Equal("w", Fails<InvalidModelContentException>(huge).Entry);
    }

    [Fact]
    public void Misaligned_and_overlapping_data_are_invalid()
    {
        var misaligned = new GgufBuilder().AddTensor("w", [4], 0, new byte[16], offset: 4).Build();
        Assert.Contains("not a multiple of the alignment 32", Fails<InvalidModelContentException>(misaligned).Message);
        var overlapping = new GgufBuilder()
            .AddTensor("a", [16], 0, new byte[64])
            .AddTensor("b", [8], 0, new byte[32], offset: 32)
            .Build();
        var e = Fails<InvalidModelContentException>(overlapping);
        Assert.Equal("b", e.Entry);
        Assert.Contains("'a'", e.Message);
    }

    [Fact]
    public void Shapes_that_break_ggml_rules_are_invalid()
    {
        // Q4_0 stores 32-value blocks along ne[0]
        var partialBlock = new GgufBuilder().AddTensor("q", [20, 2], 2, new byte[36]).Build();
        Assert.Contains("blocks of 32", Fails<InvalidModelContentException>(partialBlock).Message);
        var fiveDims = new GgufBuilder().AddTensor("t", [1, 1, 1, 1, 1], 0, new byte[4]).Build();
        Assert.Contains("at most 4", Fails<InvalidModelContentException>(fiveDims).Message);
        // an unknown type's size cannot be told, but no ggml type stores a value in under one bit
        var unknownHuge = new GgufBuilder().AddTensor("t", [1UL << 40], 99, new byte[32]).Build();
        Assert.Contains("beyond the end of the file", Fails<InvalidModelContentException>(unknownHuge).Message);
        var overflow = new GgufBuilder().AddTensor("t", [1UL << 62, 1UL << 62], 99, new byte[4]).Build();
        Assert.Contains("overflows", Fails<InvalidModelContentException>(overflow).Message);
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_a_limit_error()
    {
        var b = new GgufBuilder();
        byte[] value = b.Array(TypeUInt8, []);
        for (int i = 0; i < 20; i++) value = b.Array(TypeArray, [value]);
        b.Kv("deep", TypeArray, value);
        var e = Fails<ReaderLimitException>(b.Build(), new ReaderOptions { Limits = new ReaderLimits { MaxNestingDepth = 10 } });
        Assert.Equal(nameof(ReaderLimits.MaxNestingDepth), e.Limit);
        using var ok = Open(b.Build());
        Assert.IsType<List<object?>>(ok.Metadata["deep"]);
    }
}
