using System.Buffers.Binary;
using System.Numerics;
using WeightScope.IO;

namespace WeightScope.Formats.Gguf;

/// <summary>
/// Parses the GGUF header, metadata key/values and tensor infos, in file order (<c>gguf_file_t</c>), and validates
/// what the specification requires of them: known version, no duplicate keys, <c>general.alignment</c> a power of two
/// stored as uint32. Tensor data is not touched; <see cref="GgufReader"/> checks where each tensor's bytes lie.
/// </summary>
internal static class GgufParser
{
    /// <summary>Most dimensions a tensor may have (<c>GGML_MAX_DIMS</c>).</summary>
    public const int MaxDimensions = 4;

    private const int TypeFieldSize = 4;      // gguf_metadata_value_type, ggml_type, n_dimensions: uint32
    private const int OffsetFieldSize = 8;    // gguf_tensor_info_t.offset: uint64 in every version
    private const int InitialCapacity = 1024; // lists grow past it; the counts themselves are bounded by the file

    /// <summary>True when the bytes start with the magic "GGUF".</summary>
    public static bool HasMagic(ReadOnlySpan<byte> header) => header.StartsWith(GgufHeader.Magic);

    public static GgufFile Parse(MappedFile file, ReaderLimits limits)
    {
        var window = file.Span(0, (int)Math.Min(file.Length, Math.Min(limits.MaxHeaderBytes, int.MaxValue)));
        var c = new GgufCursor(window, file.Length, limits.MaxHeaderBytes);

        var header = ReadHeader(ref c, limits);
        var kvs = new List<GgufKeyValue>((int)Math.Min(header.KvCount, InitialCapacity));
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < header.KvCount; i++)
        {
            var kv = ReadKeyValue(ref c, limits);
            if (!keys.Add(kv.Key)) throw GgufErrors.DuplicateKey(kv.Key, kv.Offset);
            kvs.Add(kv);
        }
        long alignment = Alignment(kvs);

        var infos = new List<GgufTensorInfo>((int)Math.Min(header.TensorCount, InitialCapacity));
        for (long i = 0; i < header.TensorCount; i++) infos.Add(ReadTensorInfo(ref c));

        long dataStart = AlignOffset(c.Offset, alignment);
        return new GgufFile(header, kvs, infos, alignment, dataStart);
    }

    /// <summary>The specification's <c>align_offset</c>: the next multiple of <paramref name="alignment"/> (checked).</summary>
    public static long AlignOffset(long offset, long alignment) => checked(offset + (alignment - offset % alignment) % alignment);

    private static GgufHeader ReadHeader(ref GgufCursor c, ReaderLimits limits)
    {
        var magic = c.ReadBytes(GgufHeader.Magic.Length, "magic");
        if (!magic.SequenceEqual(GgufHeader.Magic)) throw GgufErrors.BadMagic(magic);

        uint version = c.ReadUInt32("version");
        if (version is < GgufHeader.FirstVersion or > GgufHeader.LastVersion)
        {
            // A big-endian file (allowed since v3) stores the version big-endian too: say so rather than "version 50331648".
            uint swapped = BinaryPrimitives.ReverseEndianness(version);
            if (swapped is >= GgufHeader.FirstVersion and <= GgufHeader.LastVersion) throw GgufErrors.BigEndian(swapped);
            throw GgufErrors.UnknownVersion(version);
        }
        c.NarrowCounts = version == 1;

        long minInfo = checked(c.CountSize + TypeFieldSize + TypeFieldSize + OffsetFieldSize); // name length, n_dims, type, offset
        long minKv = checked(c.CountSize + TypeFieldSize + 1);                                // key length, type, value (≥1 byte)
        long tensorCountAt = c.Offset;
        long tensorCount = c.ReadCount("tensor_count", minInfo);
        if (tensorCount > limits.MaxTensorCount)
            throw new ReaderLimitException(GgufErrors.Format, nameof(ReaderLimits.MaxTensorCount), tensorCount, limits.MaxTensorCount, tensorCountAt);
        long kvCount = c.ReadCount("metadata_kv_count", minKv);
        return new GgufHeader(version, tensorCount, kvCount);
    }

    private static GgufKeyValue ReadKeyValue(ref GgufCursor c, ReaderLimits limits)
    {
        long at = c.Offset;
        string key = c.ReadString("metadata key");
        var type = ReadValueType(ref c, key);
        object? value = ReadValue(ref c, type, key, 0, limits);
        return new GgufKeyValue(key, type, value, at);
    }

    private static GgufValueType ReadValueType(ref GgufCursor c, string key)
    {
        long at = c.Offset;
        uint t = c.ReadUInt32("value type");
        if (t > (uint)GgufValueType.Float64) throw GgufErrors.UnknownValueType(key, t, at);
        return (GgufValueType)t;
    }

    // Small integers and bools are boxed once: a token-type array of 150k entries, or a crafted array of a hundred
    // million uint8, then costs one reference per value rather than a reference and a box.
    private const int SmallMin = -256, SmallMax = 1024;
    private static readonly object[] SmallLongs = [.. Enumerable.Range(SmallMin, SmallMax - SmallMin).Select(i => (object)(long)i)];
    private static readonly object True = true, False = false;

    private static object Box(long v) => v is >= SmallMin and < SmallMax ? SmallLongs[v - SmallMin] : v;

    // Values follow the metadata conventions: integers as long (uint64 beyond long as BigInteger), floats as double,
    // bool, string, arrays as List<object?>.
    private static object? ReadValue(ref GgufCursor c, GgufValueType type, string key, int depth, ReaderLimits limits)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return Box(c.ReadByte(key));
            case GgufValueType.Int8: return Box((sbyte)c.ReadByte(key));
            case GgufValueType.UInt16: return Box(c.ReadUInt16(key));
            case GgufValueType.Int16: return Box((short)c.ReadUInt16(key));
            case GgufValueType.UInt32: return Box(c.ReadUInt32(key));
            case GgufValueType.Int32: return Box((int)c.ReadUInt32(key));
            case GgufValueType.Float32: return (double)c.ReadSingle(key);
            case GgufValueType.Bool:
                {
                    long at = c.Offset;
                    byte b = c.ReadByte(key);
                    if (b > 1) throw GgufErrors.BadBool(key, b, at);
                    return b == 1 ? True : False;
                }
            case GgufValueType.String: return c.ReadString(key);
            case GgufValueType.UInt64:
                {
                    ulong v = c.ReadUInt64(key);
                    return v <= long.MaxValue ? Box((long)v) : new BigInteger(v);
                }
            case GgufValueType.Int64: return Box((long)c.ReadUInt64(key));
            case GgufValueType.Float64: return c.ReadDouble(key);
            case GgufValueType.Array: return ReadArray(ref c, key, depth + 1, limits);
            default: throw new InvalidOperationException($"unhandled GGUF value type {type}");
        }
    }

    private static List<object?> ReadArray(ref GgufCursor c, string key, int depth, ReaderLimits limits)
    {
        if (depth > limits.MaxNestingDepth)
            throw new ReaderLimitException(GgufErrors.Format, nameof(ReaderLimits.MaxNestingDepth), depth, limits.MaxNestingDepth, c.Offset);
        var itemType = ReadValueType(ref c, key);
        long n = c.ReadCount($"array length of '{key}'", MinValueBytes(itemType, c.CountSize));
        var list = new List<object?>((int)n); // n is bounded by the bytes left in the file
        for (long i = 0; i < n; i++) list.Add(ReadValue(ref c, itemType, key, depth, limits));
        return list;
    }

    // The fewest bytes one value of a type occupies: what bounds an array length by the file's size.
    private static int MinValueBytes(GgufValueType t, int countSize) => t switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        GgufValueType.String => countSize,
        _ => TypeFieldSize + countSize, // a nested array: its item type and length
    };

    private static long Alignment(List<GgufKeyValue> kvs)
    {
        var kv = kvs.Find(k => k.Key == GgufFile.AlignmentKey);
        if (kv is null) return GgufFile.DefaultAlignment;
        // gguf.cpp and gguf-py both insist on uint32 here; a power of two keeps align_offset meaningful.
        if (kv.Type != GgufValueType.UInt32 || kv.Value is not long a || a == 0 || !BitOperations.IsPow2(a))
            throw GgufErrors.BadAlignment(kv.Type, kv.Value, kv.Offset);
        return a;
    }

    private static GgufTensorInfo ReadTensorInfo(ref GgufCursor c)
    {
        long at = c.Offset;
        string name = c.ReadString("tensor name");
        long dimsAt = c.Offset;
        uint nDims = c.ReadUInt32("n_dimensions");
        if (nDims > MaxDimensions) throw GgufErrors.TooManyDimensions(name, nDims, dimsAt);
        var ne = new long[nDims];
        for (int i = 0; i < nDims; i++)
        {
            long neAt = c.Offset;
            ulong d = c.NarrowCounts ? c.ReadUInt32("dimension") : c.ReadUInt64("dimension");
            if (d > long.MaxValue) throw GgufErrors.BadDimension(name, d, neAt);
            ne[i] = (long)d;
        }
        uint type = c.ReadUInt32("tensor type");
        ulong offset = c.ReadUInt64("tensor offset");
        return new GgufTensorInfo(name, ne, type, offset, at);
    }
}
