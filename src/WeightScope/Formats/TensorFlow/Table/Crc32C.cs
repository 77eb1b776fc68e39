using System.Buffers.Binary;
using System.Numerics;

namespace WeightScope.Formats.TensorFlow.Table;

/// <summary>
/// CRC-32C (Castagnoli), as TensorFlow's <c>crc32c::Value</c>/<c>Extend</c>, on the processor's CRC32C instruction where
/// there is one (<see cref="BitOperations.Crc32C(uint, ulong)"/>), and the leveldb "mask" TensorFlow stores checksums with.
/// </summary>
internal static class Crc32C
{
    /// <summary>leveldb's mask delta: stored checksums are rotated right by 15 bits and offset by this.</summary>
    public const uint MaskDelta = 0xa282ead8;

    /// <summary>CRC-32C of <paramref name="data"/> (check value: "123456789" → 0xE3069283).</summary>
    public static uint Value(ReadOnlySpan<byte> data) => Extend(0, data);

    /// <summary>The CRC-32C of the concatenation of the bytes that gave <paramref name="crc"/> and <paramref name="data"/>.</summary>
    public static uint Extend(uint crc, ReadOnlySpan<byte> data)
    {
        // The instruction computes the raw register update; the standard CRC-32C pre- and post-inverts the register.
        uint state = ~crc;
        int i = 0;
        for (; i + sizeof(ulong) <= data.Length; i += sizeof(ulong))
            state = BitOperations.Crc32C(state, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        for (; i < data.Length; i++)
            state = BitOperations.Crc32C(state, data[i]);
        return ~state;
    }

    /// <summary>leveldb's <c>crc32c::Mask</c>: a CRC stored next to the data it covers is masked, so that the CRC of a
    /// string containing embedded CRCs is not degenerate.</summary>
    public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + MaskDelta;

    /// <summary>Inverse of <see cref="Mask"/>.</summary>
    public static uint Unmask(uint masked)
    {
        uint rot = masked - MaskDelta;
        return (rot >> 17) | (rot << 15);
    }
}
