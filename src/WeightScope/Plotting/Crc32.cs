namespace WeightScope.Plotting;

/// <summary>
/// CRC-32 as PNG computes it over each chunk's type and data (ISO 3309 / ITU-T V.42: reflected polynomial 0xEDB88320,
/// initial value and final XOR 0xFFFFFFFF), table-driven one byte at a time (PNG spec, Annex D).
/// </summary>
internal static class Crc32
{
    private const uint ReflectedPolynomial = 0xEDB88320;
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC of <paramref name="data"/> (check value: "123456789" → 0xCBF43926).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Update(0xFFFFFFFF, data) ^ 0xFFFFFFFF;

    /// <summary>Continues a running (not yet final-XORed) CRC over more bytes.</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? ReflectedPolynomial ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
