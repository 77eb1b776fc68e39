using Xunit;

namespace WeightScope.Tests.Robustness;

/// <summary>
/// Inputs the fuzzer (<see cref="StructuredMutationTests"/>, <see cref="MutationTests"/>) found a bug with, kept as
/// files under <c>tests/fixtures/fuzz-regressions/</c> (made by <c>tests/fixtures/generate/fuzz_regressions.py</c>),
/// each with what the reader must now do.
/// </summary>
public sealed class FuzzRegressionTests
{
    private static string Regression(string name) => TestPaths.Fixture("fuzz-regressions", name);

    /// <summary>
    /// Found on jhdf's test_byteshuffle_compressed_datasets_earliest.hdf5 with its shuffle element size inflated to
    /// 0x7FFFFFFF: undoing the shuffle looped over 2^31 byte planes of an empty slice (a hang of minutes per chunk).
    /// An element larger than the chunk leaves the chunk as is, as libhdf5's H5Z__filter_shuffle does.
    /// </summary>
    [Fact]
    public void Hdf5_shuffle_element_size_larger_than_the_chunk_does_not_hang()
    {
        var path = Regression("hdf5_shuffle_element_size_huge.h5");
        FuzzCheck.OpenPath(path, "huge shuffle element size");
        using var model = ModelFile.Open(path);
        // The deflated chunk is left unshuffled: values are the shuffled bytes, but every one is read.
        Assert.Equal(64, model.Tensors["x"].ToFloat32().Length);
    }

    /// <summary>
    /// Found on jhdf's test_attribute_latest.hdf5 (random mutation 178 of MutationTests: a 64-bit 0x7FFFFFFF written
    /// over the dimensions of a (2, 3) attribute, leaving [2^55 + 2, 0]): no elements, so the size check passed, and
    /// opening hung building one empty list per index of the huge dimension. Now a format error naming the shape.
    /// </summary>
    [Fact]
    public void Hdf5_empty_attribute_with_a_huge_dimension_is_a_format_error()
    {
        var path = Regression("hdf5_empty_attribute_huge_dimension.h5");
        Assert.False(FuzzCheck.OpenPath(path, "empty attribute with a huge dimension"));
        var e = Assert.ThrowsAny<ModelFormatException>(() => ModelFile.Open(path));
        Assert.True(e.Message.Contains("attribute of shape [1099511627776, 0] has no elements", StringComparison.Ordinal), e.Message);
        Assert.Contains("hdf5", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Found by <see cref="ScanMutationTests"/> on keras3_unbuilt.keras (random mutation 933: 0xFFFFFFFF over 4 bytes of
    /// the "Sequential" class name in the stored config.json): System.Text.Json parsed the structure, then reading the
    /// class name threw InvalidOperationException out of <c>scan</c>. Now the member is reported unreadable (exit 3),
    /// naming the member, the offset in it and the byte: a config that cannot be decoded cannot be checked for Lambda layers.
    /// </summary>
    [Fact]
    public void Scan_of_a_keras_config_that_is_not_utf8_reports_it_unreadable()
    {
        var path = Regression("scan_keras_config_invalid_utf8.keras");
        Assert.True(FuzzCheck.ScanPath(path, new FileInfo(path).Length, "keras config with invalid UTF-8"));
        var report = global::WeightScope.Security.PickleScanner.Scan(path);
        var (source, message) = Assert.Single(report.Errors);
        Assert.Equal("config.json", source);
        Assert.Contains("keras, entry 'config.json', offset 38: the config is not UTF-8 text (invalid byte 0xFF)", message);
    }

    /// <summary>
    /// Found by <see cref="ScanMutationTests"/> on text_opcodes_p0.pkl (random mutation 876, minimised to one bit: the
    /// UNICODE opcode's <c>\U0001d11e</c> became <c>\U8001d11e</c>): the 8 hex digits overflowed an int to a negative code
    /// point, which passed the range check and made char.ConvertFromUtf32 throw ArgumentOutOfRangeException out of both
    /// the scanner and the unpickler. Any code point over 0x10FFFF now reads as U+FFFD, as the ones below 2^31 did.
    /// </summary>
    [Fact]
    public void Pickle_unicode_escape_beyond_int_range_reads_as_a_replacement_character()
    {
        Assert.Equal("uni\u00e9\uFFFD", global::WeightScope.Formats.PyTorch.Pickle.PickleText.RawUnicodeEscapeDecode("uni\\u00e9\\U8001d11e"u8));
        var path = Regression("pickle_unicode_escape_out_of_range.pkl");
        FuzzCheck.OpenPath(path, "UNICODE opcode with \\U8001d11e");
        Assert.True(FuzzCheck.ScanPath(path, new FileInfo(path).Length, "scan of a UNICODE opcode with \\U8001d11e"));
        var report = global::WeightScope.Security.PickleScanner.Scan(path);
        Assert.Empty(report.Errors);
        Assert.NotEmpty(report.Pickles);
    }
}
