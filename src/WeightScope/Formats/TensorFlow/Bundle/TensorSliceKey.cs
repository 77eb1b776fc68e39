namespace WeightScope.Formats.TensorFlow.Bundle;

/// <summary>
/// <c>checkpoint::EncodeTensorNameSlice</c> (<c>saved_tensor_slice_util.cc</c>): the key a partitioned variable's slice
/// is stored under — OrderedCode's <c>NumIncreasing(0)</c>, <c>String(name)</c>, <c>NumIncreasing(rank)</c>, then per
/// dimension <c>SignedNumIncreasing(start)</c> and <c>SignedNumIncreasing(length)</c> (a full extent is start 0,
/// length −1). Written from <c>tensorflow/core/lib/strings/ordered_code.cc</c>.
/// </summary>
internal static class TensorSliceKey
{
    // OrderedCode's string escapes: 0x00 → 00 FF, 0xFF → FF 00, and the terminator 00 01.
    private const byte Escape1 = 0x00;
    private const byte NullCharacter = 0xFF;
    private const byte Separator = 0x01;
    private const byte Escape2 = 0xFF;
    private const byte FFCharacter = 0x00;

    /// <summary><c>kFullExtent</c>: the length a dimension taken whole has in a TensorSlice.</summary>
    public const long FullExtent = -1;

    // kLengthToHeaderBits: the bits that mark an n-byte SignedNumIncreasing encoding in its first two bytes.
    private static readonly byte[][] LengthToHeaderBits =
    [
        [0x00, 0x00], [0x80, 0x00], [0xc0, 0x00], [0xe0, 0x00], [0xf0, 0x00], [0xf8, 0x00],
        [0xfc, 0x00], [0xfe, 0x00], [0xff, 0x00], [0xff, 0x80], [0xff, 0xc0],
    ];

    // kBitsToLength: bytes needed for a number of significant bits (1 + the highest set bit of x, or of ~x if negative).
    private static int BitsToLength(int bits) => bits / 7 + 1;

    /// <summary>The key for <paramref name="name"/>'s slice with the given (start, length) per dimension.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> name, IReadOnlyList<(long Start, long Length)> extents)
    {
        var b = new List<byte>(name.Length + 4 + extents.Count * 4);
        WriteNumIncreasing(b, 0);
        foreach (byte c in name)
        {
            if (c == Escape1) { b.Add(Escape1); b.Add(NullCharacter); }
            else if (c == Escape2) { b.Add(Escape2); b.Add(FFCharacter); }
            else b.Add(c);
        }
        b.Add(Escape1);
        b.Add(Separator);
        WriteNumIncreasing(b, (ulong)extents.Count);
        foreach (var (start, length) in extents)
        {
            WriteSignedNumIncreasing(b, start);
            WriteSignedNumIncreasing(b, length);
        }
        return [.. b];
    }

    // A length byte, then the value big-endian without leading zero bytes.
    private static void WriteNumIncreasing(List<byte> b, ulong value)
    {
        int len = 0;
        for (ulong v = value; v > 0; v >>= 8) len++;
        b.Add((byte)len);
        for (int i = len - 1; i >= 0; i--) b.Add((byte)(value >> (8 * i)));
    }

    private static void WriteSignedNumIncreasing(List<byte> b, long value)
    {
        ulong x = value < 0 ? ~(ulong)value : (ulong)value;
        if (x < 64)
        {
            b.Add((byte)(LengthToHeaderBits[1][0] ^ (byte)value));
            return;
        }
        // value big-endian, sign-extended to 10 bytes; the last len bytes with the header bits xor-ed into the first two
        var buf = new byte[10];
        byte sign = value < 0 ? (byte)0xff : (byte)0x00;
        buf[0] = sign;
        buf[1] = sign;
        for (int i = 0; i < 8; i++) buf[2 + i] = (byte)((ulong)value >> (56 - 8 * i));
        int bits = 64 - System.Numerics.BitOperations.LeadingZeroCount(x);
        int len = BitsToLength(bits);
        int begin = buf.Length - len;
        buf[begin] ^= LengthToHeaderBits[len][0];
        buf[begin + 1] ^= LengthToHeaderBits[len][1];
        for (int i = begin; i < buf.Length; i++) b.Add(buf[i]);
    }
}
