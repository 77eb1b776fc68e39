using System.Text;
using WeightScope.Formats.TensorFlow.Table;
using Xunit;

namespace WeightScope.Tests.Formats.TensorFlow;

/// <summary>CRC-32C against published check values (the CRC catalogue's check value; RFC 3720 appendix B.4) and leveldb's masking.</summary>
public sealed class Crc32CTests
{
    [Fact]
    public void Check_value_of_123456789() => Assert.Equal(0xE3069283u, Crc32C.Value(Encoding.ASCII.GetBytes("123456789")));

    [Fact]
    public void Rfc3720_vectors()
    {
        Assert.Equal(0x8A9136AAu, Crc32C.Value(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Value(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Value(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
        Assert.Equal(0x113FDB5Cu, Crc32C.Value(Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray()));
    }

    [Fact]
    public void Extend_equals_value_of_the_concatenation()
    {
        var a = Encoding.ASCII.GetBytes("hello ");
        var b = Encoding.ASCII.GetBytes("world, and more than eight bytes");
        Assert.Equal(Crc32C.Value([.. a, .. b]), Crc32C.Extend(Crc32C.Value(a), b));
    }

    [Fact]
    public void Mask_is_leveldbs_rotation_plus_delta_and_unmask_inverts_it()
    {
        uint crc = Crc32C.Value(Encoding.ASCII.GetBytes("foo"));
        // ((crc >> 15) | (crc << 17)) + 0xa282ead8, computed here with 64-bit arithmetic as a second derivation
        ulong rotated = ((ulong)crc >> 15) | (((ulong)crc << 17) & 0xFFFFFFFF);
        Assert.Equal((uint)((rotated + 0xa282ead8UL) & 0xFFFFFFFF), Crc32C.Mask(crc));
        Assert.NotEqual(crc, Crc32C.Mask(crc));
        Assert.Equal(crc, Crc32C.Unmask(Crc32C.Mask(crc)));
        Assert.Equal(crc, Crc32C.Unmask(Crc32C.Unmask(Crc32C.Mask(Crc32C.Mask(crc)))));
    }
}
