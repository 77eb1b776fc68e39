using Google.Protobuf;
using WeightScope.Formats.Onnx.Proto;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.Onnx;

/// <summary>
/// FLOAT8E4M3FNUZ, FLOAT8E5M2FNUZ, FLOAT4E2M1, FLOAT8E8M0, INT4, UINT4, INT2 and UINT2 initializers (Debian's onnx 1.12
/// predates them, so the tensors are built with the generated onnx.proto types here, and laid out field by field by
/// onnx_fixtures.py for narrow_types.onnx and the .pb files). Expected values are the formats' definitions worked out
/// by hand — bias, largest finite value, NaN code from onnx's docs/Operators.md Cast tables, onnx main's
/// numpy_helper unpacking — not by the reader's code.
/// </summary>
public sealed class OnnxNarrowTypeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("weightscope-onnx-narrow-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ModelFile Open(TensorProto t)
    {
        var path = Path.Combine(_dir, "model.onnx");
        File.WriteAllBytes(path, OnnxProtos.Model(t).ToByteArray());
        return ModelFile.Open(path);
    }

    private static TensorProto Raw(TensorProto.Types.DataType type, long elements, params byte[] stored)
    {
        var t = new TensorProto { Name = "w", DataType = (int)type, RawData = ByteString.CopyFrom(stored) };
        t.Dims.Add(elements);
        return t;
    }

    [Fact]
    public void Float8_e4m3fnuz_has_bias_8_no_negative_zero_and_max_240()
    {
        // 0x00 zero; 0x01 smallest subnormal 2^-7·(1/8); 0x08 smallest normal 2^(1-8); 0x40 1.0; 0x7F 1.875·2^7 = 240
        using var m = Open(Raw(TensorProto.Types.DataType.Float8E4M3Fnuz, 7, 0x00, 0x01, 0x08, 0x40, 0x7F, 0xC0, 0x80));
        var w = m.Tensors["w"];
        Assert.Equal(DType.Float32, w.DType);
        Assert.Equal("onnx-float8e4m3fnuz", w.Quantization?.BlockType);
        var v = w.ToFloat32();
        Assert.Equal([0f, 1f / 1024, 1f / 128, 1f, 240f, -1f], v[..6]);
        Assert.True(float.IsNaN(v[6]));
    }

    [Fact]
    public void Float8_e5m2fnuz_has_bias_16_and_max_57344()
    {
        // 0x01 smallest subnormal 2^-15·(1/4) = 2^-17; 0x40 1.0; 0x7F 1.75·2^15 = 57344; 0xC0 −1.0; 0x80 NaN
        using var m = Open(Raw(TensorProto.Types.DataType.Float8E5M2Fnuz, 5, 0x01, 0x40, 0x7F, 0xC0, 0x80));
        var v = m.Tensors["w"].ToFloat32();
        Assert.Equal([1f / 131072, 1f, 57344f, -1f], v[..4]);
        Assert.True(float.IsNaN(v[4]));
    }

    [Fact]
    public void Float4_e2m1_is_packed_low_nibble_first()
    {
        // codes 0..7 are 0, 0.5, 1, 1.5, 2, 3, 4, 6; bit 3 is the sign. Bytes hold (first | second << 4).
        using var m = Open(Raw(TensorProto.Types.DataType.Float4E2M1, 9, 0x10, 0x32, 0x54, 0x76, 0x0F));
        Assert.Equal([0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f, -6f], m.Tensors["w"].ToFloat32());
    }

    [Theory]
    [InlineData(22, new double[] { 1, 2, 7, -8, -1 })] // INT4
    [InlineData(21, new double[] { 1, 2, 7, 8, 15 })] // UINT4
    public void Four_bit_integers_are_packed_low_nibble_first_odd_count_padded(int dataType, double[] expected)
    {
        var type = (TensorProto.Types.DataType)dataType;
        using var m = Open(Raw(type, 5, 0x21, 0x87, 0xFF)); // the last byte's high nibble is padding
        var w = m.Tensors["w"];
        Assert.Equal(type == TensorProto.Types.DataType.Int4 ? DType.Int8 : DType.UInt8, w.DType);
        Assert.Equal(expected.Select(x => (float)x), w.ToFloat32());
    }

    [Fact]
    public void Int32_data_holds_one_packed_byte_per_value()
    {
        var t = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Int4 };
        t.Dims.Add(2);
        t.Dims.Add(2);
        t.Int32Data.Add([0xF1, 0x7E]); // (1, -1), (-2, 7)
        using var m = Open(t);
        Assert.Equal([1f, -1f, -2f, 7f], m.Tensors["w"].ToFloat32());
        Assert.Equal([2L, 2L], m.Tensors["w"].Shape.ToArray());
    }

    [Fact]
    public void Wrong_stored_sizes_and_values_are_reported()
    {
        var e = Assert.Throws<InvalidModelContentException>(() => Open(Raw(TensorProto.Types.DataType.Int4, 5, 0x21, 0x43)).Dispose());
        Assert.Contains("2 bytes in raw_data but its dims hold 5 elements, stored in 3 bytes", e.Message);
        var t = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Uint4 };
        t.Dims.Add(2);
        t.Int32Data.Add(300);
        Assert.Contains("int32_data[0] is 300", Assert.Throws<InvalidModelContentException>(() => Open(t).Dispose()).Message);
    }

    [Fact]
    public void Float8_e8m0_is_a_power_of_two_from_2_to_the_minus_127_to_2_to_the_127_and_0xFF_is_NaN()
    {
        // 0x00 2^-127 (a float32 subnormal, exact); 0x7F 2^0; 0x80 2^1; 0xFE 2^127; no sign bit: 0x83 is 2^4
        using var m = Open(Raw(TensorProto.Types.DataType.Float8E8M0, 6, 0x00, 0x7F, 0x80, 0xFE, 0x83, 0xFF));
        var w = m.Tensors["w"];
        Assert.Equal("onnx-float8e8m0", w.Quantization?.BlockType);
        var v = w.ToFloat32();
        Assert.Equal([BitConverter.Int32BitsToSingle(1 << 22), 1f, 2f, BitConverter.Int32BitsToSingle(0x7F000000), 16f], v[..5]);
        Assert.True(float.IsNaN(v[5]));
    }

    [Theory]
    [InlineData(26, new double[] { 1, -2, -1, 0, 1 })] // INT2: pairs 01 10 11 00 | 01 → 1, -2, -1, 0, 1
    [InlineData(25, new double[] { 1, 2, 3, 0, 1 })] // UINT2
    public void Two_bit_integers_are_packed_four_to_a_byte_low_bits_first(int dataType, double[] expected)
    {
        using var m = Open(Raw((TensorProto.Types.DataType)dataType, 5, 0b00_11_10_01, 0b11_11_11_01)); // the last six bits are padding
        Assert.Equal(dataType == 26 ? DType.Int8 : DType.UInt8, m.Tensors["w"].DType);
        Assert.Equal(expected.Select(x => (float)x), m.Tensors["w"].ToFloat32());
    }

    [Fact]
    public void Two_bit_sizes_count_four_elements_a_byte()
    {
        var e = Assert.Throws<InvalidModelContentException>(() => Open(Raw(TensorProto.Types.DataType.Uint2, 5, 0x00)).Dispose());
        Assert.Contains("1 bytes in raw_data but its dims hold 5 elements, stored in 2 bytes", e.Message);
    }

    public static TheoryData<string> FixtureTensors()
    {
        var d = new TheoryData<string>();
        foreach (var t in OnnxAnswers.Fixtures.GetProperty("narrow_types.onnx").GetProperty("tensors").EnumerateObject()) d.Add(t.Name);
        return d;
    }

    private static void AssertValues(System.Text.Json.JsonElement answer, TensorEntry t)
    {
        Assert.Equal(answer.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), t.Shape.ToArray());
        var expected = answer.GetProperty("values").EnumerateArray().Select(e => e.ValueKind == System.Text.Json.JsonValueKind.String ? float.NaN : (float)e.GetDouble());
        Assert.Equal(expected, t.ToFloat32());
    }

    [Theory]
    [MemberData(nameof(FixtureTensors))]
    public void Tensors_laid_out_from_onnx_proto_read_as_onnx_s_numpy_helper_unpacks_them(string name)
    {
        using var m = ModelFile.Open(TestPaths.Fixture("onnx", "narrow_types.onnx"));
        var answer = OnnxAnswers.Fixtures.GetProperty("narrow_types.onnx").GetProperty("tensors").GetProperty(name);
        if (answer.GetProperty("values").ValueKind == System.Text.Json.JsonValueKind.Null)
        {
            // data type 27: no onnx defines it; that tensor alone is refused, with its type and shape named
            Assert.False(m.Tensors.Contains(name));
            Assert.StartsWith($"tensor '{name}' [2, 3] has data type 27 (unknown to this reader)", Assert.IsType<string>(m.Metadata["unsupported:" + name]));
            Assert.Equal(5, m.Tensors.Count);
            return;
        }
        AssertValues(answer, m.Tensors[name]);
    }

    [Fact]
    public void A_bare_pb_of_a_narrow_type_reads_and_one_of_an_unknown_type_opens_empty_saying_why()
    {
        using (var m = ModelFile.Open(TestPaths.Fixture("onnx", "int2_0.pb")))
        {
            Assert.Equal("onnx-tensor", m.Format.Name);
            AssertValues(OnnxAnswers.Fixtures.GetProperty("int2_0.pb"), m.Tensors["i2"]);
        }
        using var unknown = ModelFile.Open(TestPaths.Fixture("onnx", "unknown_type_0.pb"));
        Assert.Equal("onnx-tensor", unknown.Format.Name);
        Assert.Empty(unknown.Tensors);
        Assert.Contains("has data type 27 (unknown to this reader)", Assert.IsType<string>(unknown.Metadata["unsupported:future"]));
    }
}
