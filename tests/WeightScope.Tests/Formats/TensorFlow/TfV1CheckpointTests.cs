using System.Text;
using Google.Protobuf;
using WeightScope.Formats.TensorFlow.Proto;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.TensorFlow;

/// <summary>
/// V1 checkpoints built as <c>tensor_slice_writer.cc</c> lays them out: the meta under the empty key, one SavedSlice per
/// tensor with values in the typed TensorProto field <c>SaveTypeTraits</c> uses. Data keys here are simplified
/// (0x00, name, 0x00 0x01): the reader finds slices by <c>SavedSlice.name</c>, not by decoding keys.
/// </summary>
public sealed class TfV1CheckpointTests
{
    private readonly SavedTensorSliceMeta _meta = new() { Versions = new VersionDef { Producer = 1 } };
    private readonly List<(string Name, SavedSlice Slice)> _data = [];

    private SavedSliceMeta Add(string name, DataType type, long[] shape, TensorProto values)
    {
        var m = new SavedSliceMeta { Name = name, Type = type, Shape = new TensorShapeProto(), };
        foreach (var d in shape) m.Shape.Dim.Add(new TensorShapeProto.Types.Dim { Size = d });
        var full = new TensorSliceProto();
        foreach (var _ in shape) full.Extent.Add(new TensorSliceProto.Types.Extent());
        m.Slice.Add(full);
        _meta.Tensor.Add(m);
        _data.Add((name, new SavedSlice { Name = name, Slice = full, Data = values }));
        return m;
    }

    private byte[] Build() =>
        new TfTableBuilder().Build(
            new[] { (Key: Array.Empty<byte>(), Value: new SavedTensorSlices { Meta = _meta }.ToByteArray()) }
                .Concat(_data.OrderBy(d => d.Name, StringComparer.Ordinal).Select(d =>
                    (Key: (byte[])[0x00, .. Encoding.UTF8.GetBytes(d.Name), 0x00, 0x01], Value: new SavedTensorSlices { Data = d.Slice }.ToByteArray()))));

    private ModelFile Open() => ModelFile.Open(new MemoryStream(Build()));

    [Fact]
    public void Typed_values_become_tensors_sorted_by_name()
    {
        var f = new TensorProto();
        f.FloatVal.Add([1.5f, -2f, 3f, 4f, 5f, 6f]);
        Add("w", DataType.DtFloat, [2, 3], f);
        var i = new TensorProto();
        i.Int64Val.Add(7);
        Add("global_step", DataType.DtInt64, [], i);
        var i8 = new TensorProto();
        i8.IntVal.Add([-1, 2]);
        Add("codes", DataType.DtInt8, [2], i8);
        var h = new TensorProto();
        h.HalfVal.Add([0x3C00, 0xC000]); // float16 1.0, -2.0
        Add("h", DataType.DtHalf, [2], h);
        var b = new TensorProto();
        b.BoolVal.Add([true, false]);
        Add("mask", DataType.DtBool, [2], b);
        var s = new TensorProto();
        s.StringVal.Add(ByteString.CopyFromUtf8("vocab.txt"));
        Add("asset", DataType.DtString, [], s);
        var c = new TensorProto { TensorContent = ByteString.CopyFrom(BitConverter.GetBytes(9.25)) };
        Add("d", DataType.DtDouble, [1], c);

        using var m = Open();
        Assert.Equal("V1", m.Format.Version);
        Assert.Equal(["codes", "d", "global_step", "h", "mask", "w"], m.Tensors.Select(t => t.Name));
        Assert.Equal([1.5f, -2f, 3f, 4f, 5f, 6f], m.Tensors["w"].ToArray<float>());
        Assert.Equal([2L, 3L], m.Tensors["w"].Shape.ToArray());
        Assert.Equal([7L], m.Tensors["global_step"].ToArray<long>());
        Assert.Equal([(sbyte)-1, (sbyte)2], m.Tensors["codes"].ToArray<sbyte>());
        Assert.Equal([1f, -2f], m.Tensors["h"].ToFloat32());
        Assert.Equal([true, false], m.Tensors["mask"].ToArray<bool>());
        Assert.Equal([9.25], m.Tensors["d"].ToArray<double>());
        Assert.Equal("vocab.txt", m.Metadata["asset"]);
    }

    [Fact]
    public void Value_count_not_matching_the_shape()
    {
        var f = new TensorProto();
        f.FloatVal.Add([1f, 2f]);
        Add("w", DataType.DtFloat, [3], f);
        Assert.Contains("2 values for shape [3]", Assert.Throws<InvalidModelContentException>(Open).Message);
    }

    [Fact]
    public void Tensor_in_the_meta_without_data()
    {
        var f = new TensorProto();
        f.FloatVal.Add(1f);
        Add("w", DataType.DtFloat, [1], f);
        _data.Clear();
        Assert.Contains("tensor 'w': the meta lists it but no data entry holds it", Assert.Throws<InvalidModelContentException>(Open).Message);
    }

    [Fact]
    public void Partitioned_tensor_is_not_supported_and_named()
    {
        var f = new TensorProto();
        f.FloatVal.Add([1f, 2f]);
        var m = Add("emb", DataType.DtFloat, [4], f);
        m.Slice[0].Extent[0].Start = 0;
        m.Slice[0].Extent[0].Length = 2;
        Assert.Contains("partitioned variable 'emb'", Assert.Throws<UnsupportedModelFeatureException>(Open).Message);
    }
}
