using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Heaps;

/// <summary>Global heap collections (specification §III.E, <c>GCOL</c>): where variable-length strings live.</summary>
internal static class GlobalHeap
{
    private static ReadOnlySpan<byte> Signature => "GCOL"u8;
    private const int CollectionHeaderSize = 8;   // signature, version, reserved
    private const int ObjectHeaderSize = 8;       // index, reference count, reserved

    /// <summary>The bytes of object <paramref name="index"/> in the collection at <paramref name="address"/>.</summary>
    public static byte[] ReadObject(Hdf5File file, ulong address, uint index, long at, string path)
    {
        var h = file.ReaderAt(address, CollectionHeaderSize + file.LengthSize, "global heap collection", at, path);
        if (!h.ReadBytes(4).SequenceEqual(Signature)) throw Hdf5Errors.Invalid("global heap collection does not start with GCOL", h.Offset - 4, path);
        h.ReadBytes(4);
        ulong size = file.ReadLength(ref h);
        if (size > int.MaxValue) throw Hdf5Errors.Invalid($"global heap collection of {size} bytes", h.Offset, path);
        var r = file.ReaderAt(address, (long)size, "global heap collection", at, path);
        r.Position = CollectionHeaderSize + file.LengthSize;
        while (r.Remaining >= ObjectHeaderSize + file.LengthSize)
        {
            int idx = r.ReadUInt16();
            r.ReadBytes(6);
            ulong len = file.ReadLength(ref r);
            if (idx == 0) break; // free space
            if (len > (ulong)r.Remaining) throw Hdf5Errors.Invalid($"global heap object of {len} bytes runs past its collection", r.Offset, path);
            var data = r.ReadBytes((int)len);
            if (idx == index) return data.ToArray();
            r.ReadBytes(Math.Min((8 - (int)(len % 8)) % 8, r.Remaining));
        }
        throw Hdf5Errors.Invalid($"global heap object {index} not found in the collection", at, path);
    }
}
