using System.Buffers.Binary;
using System.Numerics;
using WeightScope.Formats.Hdf5.Datatypes;
using WeightScope.Formats.Hdf5.Heaps;
using WeightScope.IO;
using WeightScope.Modules;

namespace WeightScope.Formats.Hdf5.Attributes;

/// <summary>
/// Turns an attribute's raw value into the metadata conventions: numbers as long/BigInteger/double, bool, strings, a
/// scalar as one value and an array as (nested) <see cref="List{T}"/>; other types as an <see cref="OpaqueObject"/>.
/// </summary>
internal static class AttributeValues
{
    private const int SpacePadded = 2;

    /// <summary>The value of <paramref name="a"/>.</summary>
    public static object? Convert(AttributeMessage a, Hdf5File file, string path) =>
        Convert(a.Type, a.Space, a.Data, a.DataOffset, file, path);

    /// <summary>
    /// The value of raw elements of <paramref name="type"/> laid out by <paramref name="space"/> (an attribute's data, or
    /// a small dataset's bytes); <paramref name="dataOffset"/> is where they start in the file, for messages.
    /// </summary>
    public static object? Convert(Datatype type, Dataspace.Dataspace space, ReadOnlySpan<byte> data, long dataOffset, Hdf5File file, string path)
    {
        if (space.IsNull) return null;
        var values = new List<object?>();
        int size = type.Size;
        long count = space.ElementCount;
        if (size <= 0 && count > 0) throw Hdf5Errors.Invalid($"element size of {size}", dataOffset, path);
        if (checked(count * size) > data.Length) throw Hdf5Errors.Invalid($"{count} elements of {size} bytes need {count * size} bytes, the data has {data.Length}", dataOffset, path);
        for (long i = 0; i < count; i++)
        {
            var e = data.Slice(checked((int)(i * size)), size);
            values.Add(Element(type, e, file, dataOffset + i * size, path));
        }
        if (space.Dims.Length == 0) return values[0];
        if (count == 0) CheckEmptyNesting(space.Dims, dataOffset, path);
        return Nest(values, space.Dims, 0, 0, out _);
    }

    // An empty array still nests one list per index of the dimensions before its first zero: a corrupt huge dimension
    // beside a zero (found by the fuzzer) would build 2^40 empty lists. Real empty attributes nest a handful.
    private const long MaxEmptyLists = 1 << 20;

    private static void CheckEmptyNesting(long[] dims, long at, string path)
    {
        long lists = 1, level = 1;
        foreach (long d in dims)
        {
            if (d == 0) return;
            level = level > MaxEmptyLists / d ? MaxEmptyLists + 1 : level * d;
            lists += level;
            if (lists > MaxEmptyLists)
                throw Hdf5Errors.Invalid($"attribute of shape [{string.Join(", ", dims)}] has no elements but would nest over {MaxEmptyLists} empty lists (a corrupt dimension?)", at, path);
        }
    }

    private static List<object?> Nest(List<object?> flat, long[] dims, int dim, int start, out int used)
    {
        var list = new List<object?>();
        if (dim == dims.Length - 1)
        {
            for (long i = 0; i < dims[dim]; i++) list.Add(flat[start + (int)i]);
            used = (int)dims[dim];
            return list;
        }
        int pos = start;
        for (long i = 0; i < dims[dim]; i++)
        {
            list.Add(Nest(flat, dims, dim + 1, pos, out int n));
            pos += n;
        }
        used = pos - start;
        return list;
    }

    private static object? Element(Datatype t, ReadOnlySpan<byte> e, Hdf5File file, long at, string path)
    {
        switch (t.Class)
        {
            case DatatypeClass.FixedPoint when t.Size <= 8:
                return Integer(e, t.BigEndian, t.Signed);
            case DatatypeClass.BitField when t.ToDType() is not null: // h5py: the unsigned integer of the bitfield's size
                return Integer(e, t.BigEndian, signed: false);
            case DatatypeClass.Enumerated when t.IsBoolEnum:
                return e[0] != 0;
            case DatatypeClass.Enumerated when t.EnumBase is { Class: DatatypeClass.FixedPoint } eb && t.Size <= 8:
                return Integer(e, eb.BigEndian, eb.Signed);
            case DatatypeClass.FloatingPoint:
                Span<byte> b = stackalloc byte[t.Size];
                e.CopyTo(b);
                if (t.BigEndian) b.Reverse();
                return t.Size switch
                {
                    2 => (double)BitConverter.ToHalf(b),
                    4 => (double)BitConverter.ToSingle(b),
                    8 => BitConverter.ToDouble(b),
                    _ => new OpaqueObject("hdf5." + t.Describe(), [], e.ToArray()),
                };
            case DatatypeClass.String:
                return FixedString(e, t.StringPadding);
            case DatatypeClass.VariableLength when t.IsVlenString:
                var r = new SpanReader(e, at);
                uint length = r.ReadUInt32();
                ulong collection = file.ReadAddress(ref r);
                uint index = r.ReadUInt32();
                if (length == 0 || file.IsUndefined(collection) || collection == 0) return "";
                var bytes = GlobalHeap.ReadObject(file, collection, index, at, path);
                return System.Text.Encoding.UTF8.GetString(bytes.AsSpan(0, (int)Math.Min(length, (uint)bytes.Length)));
            default:
                return new OpaqueObject("hdf5." + t.Describe(), [], e.ToArray());
        }
    }

    private static object Integer(ReadOnlySpan<byte> e, bool bigEndian, bool signed)
    {
        Span<byte> b = stackalloc byte[8];
        b.Clear();
        for (int i = 0; i < e.Length; i++) b[i] = bigEndian ? e[e.Length - 1 - i] : e[i];
        if (signed && e.Length < 8 && (b[e.Length - 1] & 0x80) != 0) b[e.Length..].Fill(0xff);
        ulong u = BinaryPrimitives.ReadUInt64LittleEndian(b);
        if (signed || u <= long.MaxValue) return (long)u;
        return new BigInteger(u);
    }

    // h5py reads fixed-length strings as bytes up to the first NUL; space-padded strings drop trailing spaces.
    private static string FixedString(ReadOnlySpan<byte> e, int padding)
    {
        int nul = e.IndexOf((byte)0);
        var s = nul >= 0 ? e[..nul] : e;
        string text = System.Text.Encoding.UTF8.GetString(s);
        return padding == SpacePadded ? text.TrimEnd(' ') : text;
    }
}
