using Xunit;
using WeightScope.Printing;
using WeightScope.Tensors;

namespace WeightScope.Tests.Printing;

/// <summary>TensorFormatter against torch 1.13's str(tensor) under many print options (tensor_prints.json).</summary>
public class TensorFormatterTests
{
    public static TheoryData<string> Cases => PrintingFixtures.TensorCaseIds();

    public static TheoryData<string> Slices => PrintingFixtures.SliceCaseIds();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Prints_like_torch(string id)
    {
        var (tensor, options, expected) = PrintingFixtures.TensorCase(id);
        Assert.Equal(expected, TensorFormatter.Format(tensor, options));
    }

    [Theory]
    [MemberData(nameof(Slices))]
    public void Prints_a_slice_like_torch(string id)
    {
        var (tensor, index, expected) = PrintingFixtures.SliceCase(id);
        Assert.Equal(expected, TensorFormatter.Format(tensor.Slice(index)));
    }

    [Theory]
    [InlineData("randn_2x3/default")]     // read whole
    [InlineData("big_2d/default")]        // summarized: only the printed elements are read
    [InlineData("complex64/default")]     // each component swapped
    [InlineData("big_complex/default")]
    [InlineData("float16_randn/default")]
    [InlineData("int64_extremes/default")]
    public void Big_endian_storage_prints_the_same_values(string id)
    {
        var (t, options, expected) = PrintingFixtures.TensorCase(id);
        var bytes = t.ReadBytes();
        int size = t.DType.IsComplex() ? t.DType.ItemSize() / 2 : t.DType.ItemSize();
        for (int i = 0; i < bytes.Length; i += size) Array.Reverse(bytes, i, size);
        var swapped = new TensorEntry(t.Name, t.DType, t.Shape, new ArrayStorage(bytes, "swapped"), bigEndian: true);
        Assert.Equal(expected, TensorFormatter.Format(swapped, options));
    }

    [Fact]
    public void Per_channel_parameters_that_do_not_fit_the_shape_are_reported()
    {
        var t = PrintingFixtures.Tensor("qint8_per_channel_axis0");
        var bad = new TensorEntry(t.Name, t.DType, t.Shape, t.Storage, quantization: t.Quantization! with { Axis = 1 });
        var e = Assert.Throws<ArgumentException>(() => TensorFormatter.Format(bad));
        Assert.Contains("axis 1", e.Message);
        Assert.Throws<ArgumentException>(() => TensorFormatter.FormatValues(bad));
    }

    [Fact]
    public void FormatValues_is_the_bracketed_part_of_Format()
    {
        var t = PrintingFixtures.Tensor("randn_2x3");
        string full = TensorFormatter.Format(t);
        Assert.Equal(full, "tensor(" + TensorFormatter.FormatValues(t, indent: 7) + ")");
        string values = TensorFormatter.FormatValues(t);
        Assert.StartsWith("[[", values);
        Assert.Contains("\n [", values); // rows align after the opening bracket when there is no prefix
    }

    [Fact]
    public void FormatValues_of_a_quantized_tensor_prints_dequantized_values_only()
    {
        var t = PrintingFixtures.Tensor("quint8_per_tensor");
        string full = TensorFormatter.Format(t);
        string values = TensorFormatter.FormatValues(t, indent: 7);
        Assert.StartsWith("tensor(" + values + ", size=", full);
    }

    [Fact]
    public void Summarizing_reads_only_the_printed_elements()
    {
        // 10^8 float32 elements would be 400 MB; the storage counts what is read instead.
        var storage = new CountingStorage(100_000_000L * 4);
        var t = new TensorEntry("huge", DType.Float32, new Shape(10_000, 10_000), storage);
        string s = TensorFormatter.Format(t);
        Assert.StartsWith("tensor([[0., 0., 0.,  ..., 0., 0., 0.],\n        [0., 0., 0.,  ..., 0., 0., 0.],\n", s);
        Assert.Equal(36 * 4, storage.BytesRead);
    }

    private sealed class CountingStorage(long length) : TensorStorage("counting")
    {
        public long BytesRead { get; private set; }

        public override long ByteLength => length;

        protected override void ReadCore(long offset, Span<byte> destination)
        {
            BytesRead += destination.Length;
            destination.Clear();
        }
    }
}

public class PrintOptionsTests
{
    [Fact]
    public void Profiles_match_torch_set_printoptions()
    {
        Assert.Equal(new PrintOptions(), PrintOptions.FromProfile("default"));
        var s = PrintOptions.FromProfile("short");
        Assert.Equal((2, 1000.0, 2, 80, (bool?)null), (s.Precision, s.Threshold, s.EdgeItems, s.LineWidth, s.SciMode));
        var f = PrintOptions.FromProfile("full");
        Assert.Equal((4, double.PositiveInfinity, 3, 80), (f.Precision, f.Threshold, f.EdgeItems, f.LineWidth));
        Assert.Throws<ArgumentException>(() => PrintOptions.FromProfile("long"));
    }

    [Fact]
    public void Rejects_negative_precision_and_edgeitems()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrintOptions { Precision = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrintOptions { EdgeItems = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new PrintOptions { Threshold = double.NaN });
    }
}
