using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Dataspace;

/// <summary>A dataspace message (specification §IV.A.2.b): scalar (rank 0), simple (dimensions) or null (no elements).</summary>
internal sealed record Dataspace(long[] Dims, bool IsNull)
{
    /// <summary>Maximum dimensions (−1 = unlimited); equal to <see cref="Dims"/> when the message stores none.</summary>
    public long[] MaxDims { get; private init; } = Dims;

    /// <summary>The first unlimited dimension, or −1.</summary>
    public int UnlimitedDim => Array.IndexOf(MaxDims, -1L);

    private const int Version1 = 1;
    private const int MaxDimsPresent = 0x01;
    private const int V2TypeNull = 2;
    private const int MaxRank = 32;

    /// <summary>Number of elements: 0 for a null dataspace, 1 for a scalar.</summary>
    public long ElementCount
    {
        get
        {
            if (IsNull) return 0;
            long n = 1;
            foreach (var d in Dims) n = checked(n * d);
            return n;
        }
    }

    /// <summary>Parses a dataspace message body.</summary>
    public static Dataspace Read(ref SpanReader r, Hdf5File file, string path)
    {
        long at = r.Offset;
        int version = r.ReadByte();
        int rank = r.ReadByte();
        int flags = r.ReadByte();
        bool isNull = false;
        if (version == Version1) r.ReadBytes(5);
        else if (version == 2) isNull = r.ReadByte() == V2TypeNull;
        else throw Hdf5Errors.Unsupported($"dataspace message version {version}", at, path);
        if (rank > MaxRank) throw Hdf5Errors.Invalid($"dataspace rank {rank} is over HDF5's maximum of {MaxRank}", at, path);
        var dims = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            ulong d = file.ReadLength(ref r);
            if (d > long.MaxValue) throw Hdf5Errors.Invalid($"dimension {i} is {d}", at, path);
            dims[i] = (long)d;
        }
        var max = dims;
        if ((flags & MaxDimsPresent) != 0)
        {
            max = new long[rank];
            for (int i = 0; i < rank; i++)
            {
                ulong m = file.ReadLength(ref r);
                max[i] = m > long.MaxValue ? -1 : (long)m; // all bits set: H5S_UNLIMITED
            }
        }
        return new Dataspace(dims, isNull) { MaxDims = max };
    }
}
