using Google.Protobuf;
using WeightScope.Formats.Onnx.Proto;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.Onnx;

/// <summary>
/// FLOAT8E4M3FNUZ, FLOAT8E5M2FNUZ, FLOAT4E2M1, INT4 and UINT4 initializers (Debian's onnx 1.12 predates them, so the
/// tensors are built with the generated onnx.proto types). Expected values are the formats' definitions worked out
/// by hand here — bias, largest finite value, NaN code from onnx's docs/Operators.md Cast tables — not by the reader's code.
/// </summary>
public sealed class OnnxNarrowTypeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("weightscope-onnx-narrow-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ModelFile Open(TensorProto t)
    {
        var g = new GraphProto { Name = "g" };
        g.Initializer.Add(t);
        var m = new ModelProto { IrVersion = 10, ProducerName = "crafted", Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 21 });
        var path = Path.Combine(_dir, "model.onnx");
        File.WriteAllBytes(path, m.ToByteArray());
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
}
