using System.Text;

namespace WeightScope.Formats.Hdf5.Writer;

/// <summary>
/// An attribute as h5py stores a numpy value: a bytes array (<c>np.array([b"a", b"bc"])</c>, dtype <c>|S2</c>) as a
/// fixed-length, NUL-padded ASCII string type of the longest element's length over a 1-D dataspace; a bytes scalar
/// (<c>b"tensorflow"</c>) over a scalar dataspace; an empty Python list (<c>np.asarray([])</c>, float64) as an empty
/// float64 array — what Keras's <c>save_attributes_to_hdf5_group</c> writes for a layer with no weights.
/// </summary>
internal sealed class H5Attribute
{
    private H5Attribute(string name, byte[] datatype, long[]? dims, byte[] data)
    {
        Name = name;
        Datatype = datatype;
        Dims = dims;
        Data = data;
    }

    /// <summary>The attribute's name.</summary>
    public string Name { get; }

    /// <summary>The encoded datatype message body.</summary>
    public byte[] Datatype { get; }

    /// <summary>Dimensions; null for a scalar dataspace.</summary>
    public long[]? Dims { get; }

    /// <summary>The raw element bytes.</summary>
    public byte[] Data { get; }

    /// <summary>The byte length of the data of a string array of these values (numpy's <c>nbytes</c>).</summary>
    public static long StringArrayBytes(IReadOnlyList<string> values) =>
        values.Count == 0 ? 0 : (long)values.Count * Math.Max(1, values.Max(v => Encoding.UTF8.GetByteCount(v)));

    /// <summary>A 1-D fixed-length string array (numpy <c>|S&lt;n&gt;</c>), or an empty float64 array when there are no values.</summary>
    /// <param name="name">Attribute name.</param>
    /// <param name="values">The strings, stored as UTF-8 bytes.</param>
    /// <param name="itemSize">The element size; by default the longest value's (numpy's <c>np.asarray</c>). A chunk of
    /// a larger array keeps the whole array's size, as <c>np.array_split</c> does.</param>
    public static H5Attribute StringArray(string name, IReadOnlyList<string> values, int? itemSize = null)
    {
        if (values.Count == 0) return new H5Attribute(name, H5Datatypes.Float64(), [0], []);
        var encoded = values.Select(Encoding.UTF8.GetBytes).ToList();
        int size = itemSize ?? Math.Max(1, encoded.Max(e => e.Length));
        var data = new byte[checked(size * encoded.Count)];
        for (int i = 0; i < encoded.Count; i++) encoded[i].CopyTo(data, i * size);
        return new H5Attribute(name, H5Datatypes.FixedString(size), [encoded.Count], data);
    }

    /// <summary>A scalar fixed-length string (numpy <c>bytes_</c>).</summary>
    public static H5Attribute ScalarString(string name, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var data = bytes.Length == 0 ? new byte[1] : bytes;
        return new H5Attribute(name, H5Datatypes.FixedString(data.Length), null, data);
    }
}
