using System.Buffers.Binary;
using System.IO.Compression;

namespace WeightScope.Tests.Robustness;

/// <summary>
/// Mutations aimed at a file's structure rather than at random bytes: truncation at every offset where the original
/// has likely structure, length and count fields inflated to huge values, and zip archives rewritten with an entry
/// duplicated or the entries reordered. Each generator lists every candidate, then keeps a seeded sample of
/// <c>max</c> of them (all of them when max is <see cref="int.MaxValue"/>), so a failure names an exact, reproducible input.
/// </summary>
internal static class StructuredMutations
{
    /// <summary>A seed that is the same in every process (string.GetHashCode is randomized per process).</summary>
    public static int StableSeed(string text)
    {
        uint h = 2166136261;
        foreach (char c in text) h = (h ^ c) * 16777619;
        return (int)(h & 0x7FFFFFFF);
    }

    /// <summary>Magic numbers and tags that start a structure in one of the formats read.</summary>
    private static readonly byte[][] Markers =
    [
        "PK\x03\x04"u8.ToArray(), "PK\x01\x02"u8.ToArray(), "PK\x05\x06"u8.ToArray(), "PK\x06\x06"u8.ToArray(), "PK\x06\x07"u8.ToArray(),
        [0x89, (byte)'H', (byte)'D', (byte)'F'], "OHDR"u8.ToArray(), "OCHK"u8.ToArray(), "TREE"u8.ToArray(), "HEAP"u8.ToArray(),
        "SNOD"u8.ToArray(), "GCOL"u8.ToArray(), "FRHP"u8.ToArray(), "FHDB"u8.ToArray(), "FHIB"u8.ToArray(), "FSHD"u8.ToArray(),
        "BTHD"u8.ToArray(), "BTIN"u8.ToArray(), "BTLF"u8.ToArray(), "FAHD"u8.ToArray(), "FADB"u8.ToArray(),
        "\x93NUMPY"u8.ToArray(), "GGUF"u8.ToArray(), [0x80], // pickle PROTO
        "\"dtype\""u8.ToArray(), "\"shape\""u8.ToArray(), "\"data_offsets\""u8.ToArray(), "\"weightsManifest\""u8.ToArray(),
    ];

    /// <summary>
    /// Offsets where the file likely has a boundary: every value in range that appears as a little-endian 32- or
    /// 64-bit integer anywhere in it (offsets and lengths point at boundaries), the positions of known magic numbers
    /// and tags, the end of a safetensors or .npy header, and each such offset's neighbours (one byte short, one over).
    /// </summary>
    public static SortedSet<int> Boundaries(byte[] b)
    {
        var set = new SortedSet<int>();
        void Add(long o) { for (long d = -1; d <= 1; d++) if (o + d > 0 && o + d < b.Length) set.Add((int)(o + d)); }
        for (int i = 0; i + 4 <= b.Length; i++)
        {
            Add(BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(i)));
            if (i + 8 <= b.Length)
            {
                ulong v = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(i));
                if (v < (ulong)b.Length) Add((long)v + 8 + i); // a length field counted from its own end (safetensors header, pickle BINUNICODE8…)
            }
            uint u = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(i));
            if (u < (uint)b.Length) Add(u + 4L + i);
        }
        foreach (var m in Markers)
        {
            var span = b.AsSpan();
            for (int at = 0, k; (k = span[at..].IndexOf(m)) >= 0; at += k + 1) Add(at + k);
        }
        if (b.Length >= 8) Add(8 + (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(b), (ulong)b.Length));
        if (b.Length > 10 && b[0] == 0x93) Add(b.AsSpan().IndexOf((byte)'\n') + 1);
        return set;
    }

    /// <summary>The file cut at each boundary.</summary>
    public static IEnumerable<(byte[] Bytes, string How)> Truncations(byte[] b, Random rng, int max) =>
        Sample(Boundaries(b).ToList(), rng, max).Select(cut => (b[..cut], $"truncate at boundary {cut}"));

    /// <summary>Values a corrupt or hostile length, count or offset field may hold.</summary>
    public static readonly ulong[] HugeValues = [0x7FFFFFFF, 0xFFFFFFFF, 1UL << 40, 1UL << 62];

    /// <summary>
    /// Positions holding a little-endian integer that looks like a length, count or offset (1 up to the file size, as
    /// 32 bits; as 64 bits when the next 4 bytes are zero), each overwritten with one of <see cref="HugeValues"/>
    /// (2^40 and 2^62 only where a 64-bit field fits).
    /// </summary>
    public static IEnumerable<(byte[] Bytes, string How)> InflatedFields(byte[] src, Random rng, int max)
    {
        var candidates = new List<(int At, bool Wide, ulong Value)>();
        for (int i = 0; i + 4 <= src.Length; i++)
        {
            uint v = BinaryPrimitives.ReadUInt32LittleEndian(src.AsSpan(i));
            if (v == 0 || v > src.Length) continue;
            bool wide = i + 8 <= src.Length && BinaryPrimitives.ReadUInt32LittleEndian(src.AsSpan(i + 4)) == 0;
            foreach (var h in HugeValues)
                if (h <= uint.MaxValue || wide) candidates.Add((i, wide, h));
        }
        foreach (var (at, wide, value) in Sample(candidates, rng, max))
        {
            var b = (byte[])src.Clone();
            if (wide) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), value);
            else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), (uint)value);
            yield return (b, $"field at {at} (was {BinaryPrimitives.ReadUInt32LittleEndian(src.AsSpan(at))}) inflated to {value}{(wide ? " as 64 bits" : "")}");
        }
    }

    /// <summary>
    /// Protobuf length fields (ONNX, TensorFlow graphs and checkpoint entries): wherever a byte reads as a
    /// length-delimited field's key followed by a one-byte length that fits in the file, that length is replaced by
    /// a multi-byte varint of one of <see cref="HugeValues"/>.
    /// </summary>
    public static IEnumerable<(byte[] Bytes, string How)> InflatedVarints(byte[] src, Random rng, int max)
    {
        var candidates = new List<(int At, ulong Value)>();
        for (int i = 0; i + 2 < src.Length; i++)
            if ((src[i] & 7) == 2 && src[i] >> 3 is > 0 and < 16 && src[i + 1] is > 0 and < 128 && i + 2 + src[i + 1] <= src.Length)
                foreach (var h in HugeValues) candidates.Add((i + 1, h));
        foreach (var (at, value) in Sample(candidates, rng, max))
        {
            var varint = new List<byte>();
            for (ulong v = value; ; v >>= 7)
            {
                if (v < 0x80) { varint.Add((byte)v); break; }
                varint.Add((byte)(v | 0x80));
            }
            yield return ([.. src.AsSpan(0, at), .. varint, .. src.AsSpan(at + 1)], $"varint length at {at} (was {src[at]}) inflated to {value}");
        }
    }

    /// <summary>Numbers in JSON text (safetensors headers, tfjs manifests, index files): each digit run replaced by a huge or negative number.</summary>
    public static IEnumerable<(byte[] Bytes, string How)> InflatedJsonNumbers(byte[] src, Random rng, int max)
    {
        string[] replacements = ["2147483647", "4294967295", "1099511627776", "4611686018427387904", "18446744073709551616", "-1", "1e308"];
        var candidates = new List<(int At, int Length, string Value)>();
        int jsonEnd = JsonTextEnd(src);
        for (int i = 0; i < jsonEnd; i++)
        {
            if (src[i] is < (byte)'0' or > (byte)'9' || (i > 0 && src[i - 1] is >= (byte)'0' and <= (byte)'9')) continue;
            if (i > 0 && src[i - 1] is not ((byte)' ' or (byte)'[' or (byte)',' or (byte)':' or (byte)'\n')) continue; // a number, not a digit in a name
            int end = i;
            while (end < jsonEnd && src[end] is >= (byte)'0' and <= (byte)'9') end++;
            foreach (var r in replacements) candidates.Add((i, end - i, r));
        }
        foreach (var (at, length, value) in Sample(candidates, rng, max))
            yield return ([.. src.AsSpan(0, at), .. System.Text.Encoding.ASCII.GetBytes(value), .. src.AsSpan(at + length)], $"JSON number at {at} replaced by {value}");
    }

    /// <summary>Where the JSON text of a file ends: the whole of a JSON file, the header of a safetensors file, nothing otherwise.</summary>
    private static int JsonTextEnd(byte[] b)
    {
        if (b.Length > 0 && b[0] == (byte)'{') return b.Length;
        if (b.Length > 9 && b[8] == (byte)'{') return (int)Math.Min(8 + BinaryPrimitives.ReadUInt64LittleEndian(b), (ulong)b.Length);
        return 0;
    }

    /// <summary>
    /// For a zip archive: rewritten (by System.IO.Compression, stored entries kept stored) with each entry duplicated in
    /// turn, the entries reversed, and each entry moved to the front. Nothing for other files.
    /// </summary>
    public static IEnumerable<(byte[] Bytes, string How)> ZipRewrites(byte[] src, Random rng, int max)
    {
        if (src.Length < 4 || src[0] != 'P' || src[1] != 'K') return [];
        List<(string Name, byte[] Data, bool Stored)> entries;
        try
        {
            using var zip = new ZipArchive(new MemoryStream(src), ZipArchiveMode.Read);
            entries = [];
            foreach (var e in zip.Entries)
            {
                using var s = e.Open();
                var ms = new MemoryStream();
                s.CopyTo(ms);
                entries.Add((e.FullName, ms.ToArray(), e.CompressedLength == e.Length));
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return [];
        }
        var orders = new List<(int[] Order, string How)>();
        for (int i = 0; i < entries.Count; i++)
        {
            var dup = Enumerable.Range(0, entries.Count).ToList();
            dup.Insert(i + 1, i);
            orders.Add((dup.ToArray(), $"zip entry {entries[i].Name} duplicated"));
        }
        orders.Add((Enumerable.Range(0, entries.Count).Reverse().ToArray(), "zip entries reversed"));
        for (int i = 1; i < entries.Count; i++)
            orders.Add(([i, .. Enumerable.Range(0, entries.Count).Where(j => j != i)], $"zip entry {entries[i].Name} moved first"));
        return Sample(orders, rng, max).Select(o => (Rewrite(entries, o.Order), o.How));
    }

    private static byte[] Rewrite(List<(string Name, byte[] Data, bool Stored)> entries, int[] order)
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (int i in order)
            {
                var (name, data, stored) = entries[i];
                var e = zip.CreateEntry(name, stored ? CompressionLevel.NoCompression : CompressionLevel.Optimal);
                using var s = e.Open();
                s.Write(data);
            }
        return ms.ToArray();
    }

    /// <summary>A chunk that starts at one boundary copied over the bytes at another (a structure where another is expected).</summary>
    public static IEnumerable<(byte[] Bytes, string How)> Splices(byte[] src, Random rng, int max)
    {
        var bounds = Boundaries(src).ToArray();
        if (bounds.Length < 2) yield break;
        for (int k = 0; k < Math.Min(max, bounds.Length); k++)
        {
            int from = bounds[rng.Next(bounds.Length)], to = bounds[rng.Next(bounds.Length)];
            int len = Math.Min(1 + rng.Next(128), src.Length - Math.Max(from, to));
            if (from == to || len <= 0) continue;
            var b = (byte[])src.Clone();
            Array.Copy(src, from, b, to, len);
            yield return (b, $"splice {len} bytes from boundary {from} to boundary {to}");
        }
    }

    /// <summary>Every structured mutation of one file, each kind sampled to <paramref name="maxPerKind"/>.</summary>
    public static IEnumerable<(byte[] Bytes, string How)> All(byte[] b, Random rng, int maxPerKind) =>
        Truncations(b, rng, maxPerKind).Concat(InflatedFields(b, rng, maxPerKind)).Concat(InflatedVarints(b, rng, maxPerKind))
            .Concat(InflatedJsonNumbers(b, rng, maxPerKind)).Concat(Splices(b, rng, maxPerKind)).Concat(ZipRewrites(b, rng, maxPerKind));

    private static List<T> Sample<T>(List<T> all, Random rng, int max)
    {
        if (all.Count <= max) return all;
        // A partial Fisher–Yates shuffle, kept in file order so failures read in order.
        var idx = Enumerable.Range(0, all.Count).ToArray();
        for (int i = 0; i < max; i++) { int j = i + rng.Next(idx.Length - i); (idx[i], idx[j]) = (idx[j], idx[i]); }
        return idx[..max].Order().Select(i => all[i]).ToList();
    }
}
