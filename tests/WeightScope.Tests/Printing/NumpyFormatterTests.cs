using Xunit;
using WeightScope.Printing.Numpy;
using WeightScope.Tensors;

namespace WeightScope.Tests.Printing;

/// <summary>NumpyFormatter against numpy 1.24's str(a) and repr(a): file → WeightScope → text (numpy_prints.json).</summary>
public class NumpyFormatterTests
{
    public static TheoryData<string> Cases => NumpyPrintingFixtures.CaseIds();

    public static TheoryData<string> ScalarSets => NumpyPrintingFixtures.ScalarSetIds();

    public static TheoryData<string> Lists => NumpyPrintingFixtures.ListIds();

    public static TheoryData<string> Slices => NumpyPrintingFixtures.SliceIds();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Str_is_numpys(string id)
    {
        var (array, options, str, _) = NumpyPrintingFixtures.Case(id);
        Assert.Equal(str, NumpyFormatter.Str(array, options));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Repr_is_numpys(string id)
    {
        var (array, options, _, repr) = NumpyPrintingFixtures.Case(id);
        Assert.Equal(repr, NumpyFormatter.Repr(array, options));
    }

    [Theory]
    [MemberData(nameof(Slices))]
    public void A_view_prints_as_numpy_prints_the_same_index(string id)
    {
        var (view, options, str, repr) = NumpyPrintingFixtures.Slice(id);
        Assert.Equal(str, NumpyFormatter.Str(view, options));
        Assert.Equal(repr, NumpyFormatter.Repr(view, options));
    }

    [Theory]
    [MemberData(nameof(ScalarSets))]
    public void Each_element_as_a_0d_array_prints_as_numpy_scalars_do(string name)
    {
        var (array, strs, reprs) = NumpyPrintingFixtures.ScalarSet(name);
        Assert.Equal(strs.Length, (int)array.Shape[0]);
        var wrongStr = new List<string>();
        var wrongRepr = new List<string>();
        for (int i = 0; i < strs.Length; i++)
        {
            var element = array.Slice($"[{i}]"); // a 0-d view, as a[i] is a numpy scalar
            string s = NumpyFormatter.Str(element);
            if (s != strs[i]) wrongStr.Add($"[{i}] numpy {strs[i]} weightscope {s}");
            string r = NumpyFormatter.Repr(element);
            if (r != reprs[i]) wrongRepr.Add($"[{i}] numpy {reprs[i]} weightscope {r}");
        }
        Assert.Empty(wrongStr);
        Assert.Empty(wrongRepr);
    }

    [Theory]
    [MemberData(nameof(Lists))]
    public void A_list_of_arrays_prints_as_python_prints_get_weights(string id)
    {
        var (arrays, options, repr) = NumpyPrintingFixtures.List(id);
        Assert.Equal(repr, NumpyFormatter.ReprList(arrays, options));
    }

    [Fact]
    public void Refused_options_get_numpys_messages()
    {
        int checkedCount = 0;
        foreach (var (option, value, message) in NumpyPrintingFixtures.Errors())
        {
            var o = option switch
            {
                "floatmode" => NumpyPrintOptions.Default with { FloatMode = value.GetString()! },
                "sign" => NumpyPrintOptions.Default with { Sign = value.GetString()! },
                "threshold" => NumpyPrintOptions.Default with { Threshold = double.NaN },
                "precision" => NumpyPrintOptions.Default with { Precision = value.GetInt32() },
                _ => throw new NotSupportedException(option),
            };
            var e = Assert.Throws<ArgumentException>(o.Validate);
            Assert.StartsWith(message, e.Message);
            var t = NumpyPrintingFixtures.Case("float32_randn_7/default").Array;
            Assert.Throws<ArgumentException>(() => NumpyFormatter.Str(t, o));
            checkedCount++;
        }
        Assert.Equal(4, checkedCount);
        Assert.Throws<ArgumentException>((NumpyPrintOptions.Default with { EdgeItems = -1 }).Validate);
        NumpyPrintOptions.Default.Validate();
    }

    [Fact]
    public void Defaults_are_numpys()
    {
        var d = NumpyPrintOptions.Default;
        Assert.Equal((8, 1000.0, 3, 75, false, "maxprec", "-"), (d.Precision, d.Threshold, d.EdgeItems, d.LineWidth, d.Suppress, d.FloatMode, d.Sign));
        Assert.Equal(d, NumpyPrintingFixtures.Options("default"));
    }

    [Fact]
    public void Summarising_reads_only_the_printed_elements()
    {
        // 10^8 float32 elements would be 400 MB; the storage counts what is read instead.
        var storage = new CountingStorage(100_000_000L * 4);
        var t = new TensorEntry("huge", DType.Float32, new Shape(10_000, 10_000), storage);
        var (repr, str) = NumpyPrintingFixtures.Huge();
        Assert.Equal(repr, NumpyFormatter.Repr(t));
        Assert.Equal(36 * 4, storage.BytesRead);
        Assert.Equal(str, NumpyFormatter.Str(t));
        Assert.Equal(2 * 36 * 4, storage.BytesRead);
    }

    [Fact]
    public void Big_endian_storage_prints_the_values_not_the_bytes()
    {
        // np.load keeps '>f4'; numpy prints its values and names it float32 (dtype_short_repr ignores byte order).
        var (t, options, str, repr) = NumpyPrintingFixtures.Case("be_float32/default");
        Assert.True(t.IsBigEndian);
        Assert.Equal(str, NumpyFormatter.Str(t, options));
        Assert.Equal(repr, NumpyFormatter.Repr(t, options));
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
