using System.Buffers.Binary;
using System.Text;

namespace WeightScope.Formats.Hdf5.Writer;

/// <summary>
/// Header message bodies (specification §IV.A.2) in the versions libhdf5 writes with h5py's default
/// <c>libver="earliest"</c>: dataspace v1, fill value v2, layout v3 (contiguous), symbol table, attribute v1.
/// </summary>
internal static class H5Messages
{
    /// <summary>The undefined address (all bits set).</summary>
    public const ulong Undefined = ulong.MaxValue;

    public const int TypeDataspace = 0x0001;
    public const int TypeDatatype = 0x0003;
    public const int TypeFillValue = 0x0005;
    public const int TypeDataLayout = 0x0008;
    public const int TypeAttribute = 0x000C;
    public const int TypeSymbolTable = 0x0011;

    /// <summary>Message flag bit 0: constant (libhdf5 sets it on a dataset's datatype and fill value).</summary>
    public const int FlagConstant = 0x01;

    /// <summary>
    /// Dataspace v1 (§IV.A.2.b): rank 0 is scalar; maximum dimensions present and equal to the dimensions, as libhdf5
    /// writes h5py's fixed-size datasets and attributes.
    /// </summary>
    public static byte[] Dataspace(IReadOnlyList<long>? dims)
    {
        int rank = dims?.Count ?? 0;
        var b = new byte[8 + 16 * rank];
        b[0] = 1; // version
        b[1] = (byte)rank;
        b[2] = (byte)(rank > 0 ? 1 : 0); // flags: bit 0, maximum dimensions present
        // b[3..8] reserved
        for (int i = 0; i < rank; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8 + 8 * i), (ulong)dims![i]);
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8 + 8 * (rank + i)), (ulong)dims[i]);
        }
        return b;
    }

    /// <summary>
    /// Fill value v2 (§IV.A.2.f) as libhdf5 writes h5py's default: allocation late, write time "if set", fill value
    /// defined with size 0 — the library default (zeros; h5dump: <c>H5D_FILL_VALUE_DEFAULT</c>), not "undefined".
    /// </summary>
    public static byte[] FillValue() => [2, 2, 2, 1, 0, 0, 0, 0];

    /// <summary>Data layout v3 (§IV.A.2.i), contiguous class: address and size of the data.</summary>
    public static byte[] ContiguousLayout(ulong address, ulong size)
    {
        var b = new byte[18];
        b[0] = 3; // version
        b[1] = 1; // layout class: contiguous
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(2), address);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(10), size);
        return b;
    }

    /// <summary>Symbol table message (§IV.A.2.r): the group's v1 B-tree and local heap.</summary>
    public static byte[] SymbolTable(ulong btree, ulong heap)
    {
        var b = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(b, btree);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), heap);
        return b;
    }

    /// <summary>
    /// Attribute message v1 (§IV.A.2.m): name, datatype and dataspace each padded to a multiple of 8 (their sizes
    /// recorded unpadded), then the data.
    /// </summary>
    public static byte[] Attribute(H5Attribute a)
    {
        var name = Encoding.UTF8.GetBytes(a.Name + "\0");
        var space = Dataspace(a.Dims);
        var b = new byte[8 + Pad8(name.Length) + Pad8(a.Datatype.Length) + Pad8(space.Length) + a.Data.Length];
        b[0] = 1; // version
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2), checked((ushort)name.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), (ushort)a.Datatype.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6), (ushort)space.Length);
        int p = 8;
        name.CopyTo(b, p);
        p += Pad8(name.Length);
        a.Datatype.CopyTo(b, p);
        p += Pad8(a.Datatype.Length);
        space.CopyTo(b, p);
        p += Pad8(space.Length);
        a.Data.CopyTo(b, p);
        return b;
    }

    /// <summary><paramref name="n"/> rounded up to a multiple of 8.</summary>
    public static int Pad8(int n) => (n + 7) & ~7;
}
