using WeightScope.Formats.TensorFlow.Table;
using Xunit;

namespace WeightScope.Tests.Formats.TensorFlow;

/// <summary>
/// The Snappy decoder against vectors compressed by the reference library (python3-snappy; tests/fixtures/generate/
/// tf_snappy_vectors.py), against encodings built by hand from the format description, and against broken input.
/// </summary>
public sealed class SnappyTests
{
    public static TheoryData<string> Vectors() => ["text", "run", "random", "far", "empty"];

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Decodes_what_the_reference_compressor_wrote(string name)
    {
        var compressed = File.ReadAllBytes(TestPaths.Fixture("tensorflow", "snappy", name + ".snappy"));
        var plain = File.ReadAllBytes(TestPaths.Fixture("tensorflow", "snappy", name + ".txt"));
        Assert.Equal(plain, Snappy.Decompress(compressed, 1 << 20));
    }

    [Fact]
    public void Literal_only_encoding_decodes_to_its_input()
    {
        var plain = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        Assert.Equal(plain, Snappy.Decompress(TfTableBuilder.SnappyLiteralEncode(plain), 1 << 20));
    }

    [Fact]
    public void Long_literal_with_a_two_byte_length()
    {
        var plain = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        // preamble 300 = AC 02; tag 61<<2 | 00 = F4 says two length bytes follow: 299 = 2B 01
        byte[] encoded = [0xAC, 0x02, 0xF4, 0x2B, 0x01, .. plain];
        Assert.Equal(plain, Snappy.Decompress(encoded, 1 << 20));
    }

    [Fact]
    public void Every_copy_kind_from_the_format_description()
    {
        byte[] encoded =
        [
            20,                          // preamble: 20 bytes
            0x0C, (byte)'a', (byte)'b', (byte)'c', (byte)'d', // literal of 4 (tag (4-1)<<2)
            0x01, 0x04,                  // copy, 1-byte offset: length 4 + 0, offset 4 → "abcd"
            0x0E, 0x02, 0x00,            // copy, 2-byte offset: length (3)+1 = 4, offset 2 → "cdcd"
            0x1F, 0x01, 0x00, 0x00, 0x00, // copy, 4-byte offset: length (7)+1 = 8, offset 1 → "dddddddd" (overlapping)
        ];
        Assert.Equal("abcdabcdcdcddddddddd"u8.ToArray(), Snappy.Decompress(encoded, 1 << 20));
    }

    [Fact]
    public void Output_longer_than_declared_is_rejected()
    {
        byte[] encoded = [3, 0x0C, 1, 2, 3, 4]; // declares 3, literal of 4
        var e = Assert.Throws<InvalidDataException>(() => Snappy.Decompress(encoded, 1 << 20));
        Assert.Contains("past the declared uncompressed length 3", e.Message);
    }

    [Fact]
    public void Output_shorter_than_declared_is_rejected()
    {
        byte[] encoded = [5, 0x0C, 1, 2, 3, 4];
        Assert.Contains("declares 5", Assert.Throws<InvalidDataException>(() => Snappy.Decompress(encoded, 1 << 20)).Message);
    }

    [Fact]
    public void Copy_reaching_before_the_output_is_rejected()
    {
        byte[] encoded = [8, 0x0C, 1, 2, 3, 4, 0x01, 0x05]; // offset 5 with 4 bytes decoded
        Assert.Contains("reaches back 5", Assert.Throws<InvalidDataException>(() => Snappy.Decompress(encoded, 1 << 20)).Message);
        byte[] zero = [8, 0x0C, 1, 2, 3, 4, 0x01, 0x00]; // offset 0
        Assert.Throws<InvalidDataException>(() => Snappy.Decompress(zero, 1 << 20));
    }

    [Fact]
    public void Truncated_literal_is_rejected() =>
        Assert.Contains("runs past the end", Assert.Throws<InvalidDataException>(() => Snappy.Decompress([4, 0x0C, 1, 2], 1 << 20)).Message);

    [Fact]
    public void Declared_length_beyond_what_the_input_can_expand_to_is_rejected_before_allocating()
    {
        // preamble 0xFFFFFFFF (4 GiB - 1) followed by 2 bytes: no allocation may be attempted
        byte[] encoded = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00, 0x00];
        Assert.Contains("more than 2 compressed bytes can hold", Assert.Throws<InvalidDataException>(() => Snappy.Decompress(encoded, long.MaxValue)).Message);
        Assert.Contains("exceeds the limit", Assert.Throws<InvalidDataException>(() => Snappy.Decompress(encoded, 100)).Message);
    }
}
