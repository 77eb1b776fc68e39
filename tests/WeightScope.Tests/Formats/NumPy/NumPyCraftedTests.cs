using System.Text;
using WeightScope.Tensors;
using Xunit;
using static WeightScope.Tests.Formats.NumPy.NumPyBytes;

namespace WeightScope.Tests.Formats.NumPy;

/// <summary>
/// Crafted bytes: each damaged npy/npz must fail with a <see cref="ModelFormatException"/> of the right format that names
/// the offset of the problem (within the file for npy, within the member for npz), and never with another exception.
/// </summary>
public class NumPyCraftedTests
{
    // The dict np.save writes for a float32 (3, 4) array; after the 10-byte prelude and padding, its data starts at 128.
    private const string F4x34 = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
    private const int V1Prelude = 10, V2Prelude = 12;

    // numpy pads prelude + header with spaces and a '\n' to the next multiple of 64, where the data starts.
    private static int DataStart(string header, int prelude = V1Prelude) => ((prelude + header.Length) / 64 + 1) * 64;
    private static readonly byte[] Data48 = new byte[48];

    private static T Fails<T>(byte[] bytes, string format, long offset, ReaderOptions? options = null) where T : ModelFormatException
    {
        var e = Assert.Throws<T>(() => { using var m = ModelFile.Open(new MemoryStream(bytes), options); });
        Assert.Equal(format, e.Format);
        Assert.Equal(offset, e.Offset);
        Assert.Contains($"offset {offset}", e.Message);
        return e;
    }

    private static InvalidModelContentException NpyFails(byte[] bytes, long offset) => Fails<InvalidModelContentException>(bytes, "npy", offset);

    [Fact]
    public void The_well_formed_baseline_opens()
    {
        // Guards the crafted cases below: the same bytes, undamaged, read as numpy reads them.
        using var m = ModelFile.Open(new MemoryStream(Npy(F4x34, Floats([.. Enumerable.Range(0, 12).Select(i => i * 0.5f)]))));
        Assert.Equal(new Shape(3, 4), m.Tensors["array"].Shape);
        Assert.Equal(5.5f, m.Tensors["array"].ToArray<float>()[11]);
    }

    [Fact]
    public void Wrong_magic_in_a_bare_file_is_not_recognised_as_npy()
    {
        // 93 4E 55 4D 50 5A "\x93NUMPZ": detection is by the magic alone, so this is no known format at all.
        var bytes = Npy(F4x34, Data48);
        bytes[5] = (byte)'Z';
        var e = Assert.Throws<UnknownModelFormatException>(() => ModelFile.Open(new MemoryStream(bytes)));
        Assert.Contains("934E554D505A", e.Message);
    }

    [Fact]
    public void Wrong_magic_in_an_npz_member_names_the_member()
    {
        // a.npy holds text, not an array: numpy would hand back raw bytes, but a member named *.npy must be an array.
        var zip = Zip(Member.Stored("a.npy", "hello, not an array"u8.ToArray()));
        var e = Fails<InvalidModelContentException>(zip, "npz", 0);
        Assert.Equal("a.npy", e.Entry);
        Assert.Contains("68656C6C6F2C", e.Message); // the 6 bytes found instead of the magic
    }

    [Fact]
    public void File_ending_inside_the_prelude()
    {
        // 93 4E 55 4D 50 59 | 01 00 | 76 — the uint16 header length (offset 8) is cut after one byte.
        var e = NpyFails([.. Prelude(1, 118)[..9]], 8);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Header_length_beyond_the_file()
    {
        // prelude says FF FF (65535) header bytes follow at offset 10; the file has 128 + 48 bytes.
        var bytes = Npy(F4x34, Data48);
        bytes[8] = 0xFF;
        bytes[9] = 0xFF;
        var e = NpyFails(bytes, V1Prelude);
        Assert.Contains("65535", e.Message);
    }

    [Fact]
    public void Unterminated_dict()
    {
        // {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4),  then only padding: the '}' never comes.
        const string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), ";
        var bytes = Npy(header, Data48);
        var e = NpyFails(bytes, DataStart(header)); // the end of the header, where '}' or another key was due
        Assert.Contains("end of the header", e.Message);
    }

    [Fact]
    public void Code_in_the_header_is_never_evaluated()
    {
        // 'shape': __import__('os') — ast.literal_eval refuses names; so does WeightScope, at the name's offset.
        const string header = "{'descr': '<f4', 'fortran_order': False, 'shape': __import__('os'), }";
        var e = NpyFails(Npy(header, Data48), V1Prelude + header.IndexOf("__import__", StringComparison.Ordinal));
        Assert.Contains("__import__", e.Message);
    }

    [Fact]
    public void Unterminated_string()
    {
        // {'descr': '<f4   and the padding's '\n' arrives before the closing quote.
        const string header = "{'descr': '<f4";
        NpyFails(Npy(header, Data48), V1Prelude + header.LastIndexOf('\''));
    }

    [Fact]
    public void Shape_whose_element_count_overflows_a_long()
    {
        // 2^32 × 2^32 × 4 elements = 2^66: more than a 64-bit count; the error points at the shape tuple.
        const string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4), }";
        var e = NpyFails(Npy(header, Data48), V1Prelude + header.IndexOf('(', StringComparison.Ordinal));
        Assert.Contains("4294967296", e.Message);
    }

    [Fact]
    public void Data_shorter_than_shape_times_itemsize()
    {
        // float32 (3, 4) needs 48 bytes at offset 128; only 20 follow the header.
        var e = NpyFails(Npy(F4x34, new byte[20]), DataStart(F4x34));
        Assert.Contains("48 bytes", e.Message);
        Assert.Contains("20", e.Message);
    }

    [Fact]
    public void Python_2_long_suffix_is_read_in_version_1_but_not_in_version_3()
    {
        // numpy's _filter_header drops the L of "(2L,)" for 1.0/2.0 headers (win64python2.npy has one); 3.0 has no filter.
        const string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }";
        using (var m = ModelFile.Open(new MemoryStream(Npy(header, Floats(1, 2)))))
            Assert.Equal(new Shape(2), m.Tensors[0].Shape);
        NpyFails(Npy(header, Floats(1, 2), major: 3), V2Prelude + header.IndexOf('L', StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_format_version_is_not_supported()
    {
        // 93 4E 55 4D 50 59 | 04 00: numpy reads only 1.0, 2.0 and 3.0.
        var bytes = Npy(F4x34, Data48);
        bytes[6] = 4;
        var e = Fails<UnsupportedModelFeatureException>(bytes, "npy", 6);
        Assert.Contains("4.0", e.Feature);
    }

    [Fact]
    public void Keys_must_be_exactly_descr_fortran_order_and_shape()
    {
        const string extra = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1}";
        NpyFails(Npy(extra, Data48), V1Prelude + extra.IndexOf("1}", StringComparison.Ordinal));
        const string missing = "{'descr': '<f4', 'shape': (3, 4)}";
        Assert.Contains("'fortran_order'", NpyFails(Npy(missing, Data48), V1Prelude).Message);
        const string notBool = "{'descr': '<f4', 'fortran_order': 0, 'shape': (3, 4)}";
        NpyFails(Npy(notBool, Data48), V1Prelude + notBool.IndexOf('0', StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("<f4")] // what np.save writes
    [InlineData("=f4")] // native order
    [InlineData("|f4")] // "not applicable" order, read as native by numpy.dtype
    [InlineData("f4")]
    [InlineData("f")] // numpy's type character
    [InlineData("float32")] // numpy's dtype name
    // (numpy 1.24: numpy.dtype(d) is float32 for each of these spellings)
    public void Every_spelling_numpy_dtype_accepts_for_float32_reads_as_float32(string descr)
    {
        // Unpadded, double-quoted, no trailing comma: other writers' headers are still Python literals.
        string header = $"{{\"descr\": \"{descr}\", \"fortran_order\": False, \"shape\": (2,)}}";
        using var m = ModelFile.Open(new MemoryStream(Npy(header, Floats(0.5f, 2), pad: false)));
        Assert.Equal(DType.Float32, m.Tensors[0].DType);
        Assert.False(m.Tensors[0].IsBigEndian);
        Assert.Equal(new[] { 0.5f, 2f }, m.Tensors[0].ToArray<float>());
    }

    [Fact]
    public void Duplicate_keys_keep_the_last_as_python_does()
    {
        const string header = "{'descr': '<i4', 'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
        using var m = ModelFile.Open(new MemoryStream(Npy(header, Data48)));
        Assert.Equal(DType.Float32, m.Tensors[0].DType);
    }

    [Fact]
    public void Version_3_headers_must_be_utf8()
    {
        // a structured field name holding the lone byte E9 (latin-1 'é'), which is not UTF-8.
        var header = Encoding.Latin1.GetBytes("{'descr': [('\u00e9', '<f4')], 'fortran_order': False, 'shape': (3,), }");
        var bytes = Npy(Encoding.Latin1.GetString(header), new byte[12], major: 3);
        NpyFails(bytes, V2Prelude + Array.IndexOf(header, (byte)0xE9));
    }

    [Fact]
    public void Header_and_nesting_limits_apply()
    {
        var small = new ReaderOptions { Limits = ReaderLimits.Default with { MaxHeaderBytes = 32 } };
        Fails<ReaderLimitException>(Npy(F4x34, Data48), "npy", 8, small);

        string deep = "{'descr': " + new string('[', 50) + new string(']', 50) + ", 'fortran_order': False, 'shape': (), }";
        var shallow = new ReaderOptions { Limits = ReaderLimits.Default with { MaxNestingDepth = 10 } };
        var e = Fails<ReaderLimitException>(Npy(deep, []), "npy", V1Prelude + deep.IndexOf('[') + 10, shallow);
        Assert.Equal(nameof(ReaderLimits.MaxNestingDepth), e.Limit);
    }

    [Fact]
    public void Npz_member_without_the_npy_suffix_or_magic_is_noted_not_read()
    {
        // np.load lists 'notes.txt' and returns its raw bytes; WeightScope reads the arrays and notes the rest.
        // A member without the suffix that does start with the magic is an array, under its full name, as in np.load.
        var npy = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", Floats(1.5f, -2));
        var zip = Zip(Member.Stored("w.npy", npy), Member.Stored("notes.txt", "trained on CIFAR"u8.ToArray()), Member.Stored("extra", npy));
        using var m = ModelFile.Open(new MemoryStream(zip));
        Assert.Equal(["w", "extra"], m.Tensors.Select(t => t.Name));
        Assert.Equal(new[] { 1.5f, -2f }, m.Tensors["w"].ToArray<float>());
        Assert.Contains("not an npy array", Assert.IsType<string>(m.Metadata["unsupported:notes.txt"]));
    }

    [Fact]
    public void Npz_members_that_give_the_same_name_are_rejected()
    {
        // "x.npy" and "x" (with the npy magic) would both be np.load(...)["x"].
        var npy = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", Floats(1, 2));
        var zip = Zip(Member.Stored("x.npy", npy), Member.Stored("x", npy));
        long secondLocalHeader = 30 + "x.npy".Length + npy.Length;
        Fails<InvalidModelContentException>(zip, "npz", secondLocalHeader);
    }

    [Fact]
    public void Deflated_member_with_corrupt_data_fails_when_its_values_are_read()
    {
        // Deflate stream: a stored block with the npy prelude and header (64 bytes) and the first 2 of 4 floats, then a
        // block of the reserved type 11. The header inflates cleanly, so the archive opens; the data does not.
        const string header = "{'descr':'<f4','fortran_order':False,'shape':(4,)}"; // compact, so the data starts at 64
        Assert.Equal(64, DataStart(header));
        var npy = Npy(header, Floats(1, 2, 3, 4));
        byte[] deflate = [.. StoredDeflateBlock(npy[..72], final: false), .. ReservedDeflateBlock];
        var zip = Zip(new Member("w.npy", 8, deflate, npy.Length));

        using var m = ModelFile.Open(new MemoryStream(zip));
        var t = m.Tensors["w"];
        Assert.Equal(new Shape(4), t.Shape);
        var e = Assert.Throws<InvalidModelContentException>(() => t.ToArray<float>());
        Assert.Equal("npz", e.Format);
        Assert.Equal("w.npy", e.Entry);
        Assert.Contains("offset 64", e.Message); // the data's offset within the member
    }

    [Fact]
    public void Deflated_member_with_a_corrupt_header_fails_on_open()
    {
        // The very first deflate block has the reserved type: not even the magic inflates.
        var zip = Zip(new Member("w.npy", 8, ReservedDeflateBlock, 80));
        var e = Fails<InvalidModelContentException>(zip, "npz", 0);
        Assert.Equal("w.npy", e.Entry);
    }

    [Fact]
    public void Deflated_member_declaring_more_than_deflate_can_hold_is_rejected()
    {
        // 6 compressed bytes cannot inflate to 1 GB (deflate's ceiling is 1032:1): a bomb or a corrupt directory.
        var zip = Zip(new Member("w.npy", 8, StoredDeflateBlock([1], final: true), 1L << 30));
        Fails<InvalidModelContentException>(zip, "npz", 0);
    }

    [Fact]
    public void Unsupported_members_are_noted_and_the_rest_is_read()
    {
        // An object array (pickled data) beside a plain one: the archive opens; the note names the feature.
        var obj = Npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "\x80\x02N."u8.ToArray());
        var w = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", Floats(7));
        using var m = ModelFile.Open(new MemoryStream(Zip(Member.Stored("obj.npy", obj), Member.Stored("w.npy", w))));
        Assert.Equal(["w"], m.Tensors.Select(t => t.Name));
        var note = Assert.IsType<string>(m.Metadata["unsupported:obj"]);
        Assert.Contains("object arrays", note);
        Assert.Contains("never executed", note);
    }
}
