using WeightScope.Formats.Hdf5.Heaps;
using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>One segment of external raw storage: <see cref="Size"/> bytes of file <see cref="Name"/> from <see cref="Offset"/>.</summary>
/// <param name="Name">The file name as stored (relative names are relative to the HDF5 file's folder here; see README).</param>
/// <param name="Offset">Byte offset of the segment in that file.</param>
/// <param name="Size">Bytes of the dataset's storage the segment holds; <see cref="ExternalFileList.Unlimited"/> for "to the end".</param>
/// <param name="At">File offset of the slot, for messages.</param>
internal sealed record ExternalSegment(string Name, ulong Offset, ulong Size, long At);

/// <summary>
/// The external data files message (specification §IV.A.2.h, type 0x0007; <c>H5Pset_external</c>, h5py's
/// <c>create_dataset(..., external=[(name, offset, size), …])</c>): a contiguous dataset's bytes live in other files,
/// segment after segment, in slot order. Names are NUL-terminated strings in a local heap.
/// </summary>
internal static class ExternalFileList
{
    private const int Version = 1;
    private const int Reserved = 3;

    /// <summary>A segment size with all bits set: the segment runs to the end of the dataset (H5F_UNLIMITED).</summary>
    public const ulong Unlimited = ulong.MaxValue;

    /// <summary>Parses the message body and the names it points at.</summary>
    public static List<ExternalSegment> Read(ref SpanReader r, Hdf5File file, string path)
    {
        long at = r.Offset;
        int version = r.ReadByte();
        if (version != Version) throw Hdf5Errors.Unsupported($"external data files message version {version}", at, path);
        r.ReadBytes(Reserved);
        int allocated = r.ReadUInt16();
        int used = r.ReadUInt16();
        if (used > allocated) throw Hdf5Errors.Invalid($"external data files message uses {used} slots of {allocated} allocated", at, path);
        ulong heapAddress = file.ReadAddress(ref r);
        var heap = LocalHeap.Read(file, heapAddress, at, path);
        var segments = new List<ExternalSegment>(Math.Min(used, r.Remaining));
        for (int i = 0; i < used; i++)
        {
            long slotAt = r.Offset;
            ulong nameOffset = file.ReadLength(ref r);
            ulong offset = file.ReadLength(ref r);
            ulong size = file.ReadLength(ref r);
            // A length field of fewer than 8 bytes with all bits set is "unlimited" too.
            if (file.LengthSize < 8 && size == (1UL << (file.LengthSize * 8)) - 1) size = Unlimited;
            segments.Add(new ExternalSegment(heap.String(nameOffset, slotAt, path), offset, size, slotAt));
        }
        return segments;
    }
}
