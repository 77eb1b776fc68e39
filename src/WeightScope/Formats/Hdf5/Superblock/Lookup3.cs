namespace WeightScope.Formats.Hdf5.Superblock;

/// <summary>Bob Jenkins' lookup3 <c>hashlittle</c> with initial value 0: the checksum of every v2 metadata structure.</summary>
internal static class Lookup3
{
    /// <summary>The checksum of <paramref name="k"/>.</summary>
    public static uint Hash(ReadOnlySpan<byte> k)
    {
        uint a, b, c;
        a = b = c = 0xdeadbeef + (uint)k.Length;
        int i = 0, length = k.Length;
        while (length > 12)
        {
            a += k[i] + ((uint)k[i + 1] << 8) + ((uint)k[i + 2] << 16) + ((uint)k[i + 3] << 24);
            b += k[i + 4] + ((uint)k[i + 5] << 8) + ((uint)k[i + 6] << 16) + ((uint)k[i + 7] << 24);
            c += k[i + 8] + ((uint)k[i + 9] << 8) + ((uint)k[i + 10] << 16) + ((uint)k[i + 11] << 24);
            Mix(ref a, ref b, ref c);
            length -= 12;
            i += 12;
        }
        if (length == 0) return c;
        Span<byte> tail = stackalloc byte[12];
        tail.Clear();
        k.Slice(i, length).CopyTo(tail);
        a += tail[0] + ((uint)tail[1] << 8) + ((uint)tail[2] << 16) + ((uint)tail[3] << 24);
        b += tail[4] + ((uint)tail[5] << 8) + ((uint)tail[6] << 16) + ((uint)tail[7] << 24);
        c += tail[8] + ((uint)tail[9] << 8) + ((uint)tail[10] << 16) + ((uint)tail[11] << 24);
        Final(ref a, ref b, ref c);
        return c;
    }

    private static uint Rot(uint x, int k) => (x << k) | (x >> (32 - k));

    private static void Mix(ref uint a, ref uint b, ref uint c)
    {
        a -= c; a ^= Rot(c, 4); c += b;
        b -= a; b ^= Rot(a, 6); a += c;
        c -= b; c ^= Rot(b, 8); b += a;
        a -= c; a ^= Rot(c, 16); c += b;
        b -= a; b ^= Rot(a, 19); a += c;
        c -= b; c ^= Rot(b, 4); b += a;
    }

    private static void Final(ref uint a, ref uint b, ref uint c)
    {
        c ^= b; c -= Rot(b, 14);
        a ^= c; a -= Rot(c, 11);
        b ^= a; b -= Rot(a, 25);
        c ^= b; c -= Rot(b, 16);
        a ^= c; a -= Rot(c, 4);
        b ^= a; b -= Rot(a, 14);
        c ^= b; c -= Rot(b, 24);
    }
}
