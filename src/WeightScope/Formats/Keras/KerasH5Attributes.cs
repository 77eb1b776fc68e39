using System.Text;
using WeightScope.Formats.Hdf5.Writer;
using WeightScope.Writing;

namespace WeightScope.Formats.Keras;

/// <summary>
/// Keras's <c>save_attributes_to_hdf5_group</c> (legacy <c>hdf5_format.py</c>): a list of names is stored as one
/// fixed-length string array attribute, unless its bytes pass <c>HDF5_OBJECT_HEADER_LIMIT</c> (64512, what fits an
/// object header); then it is cut with <c>np.array_split</c> into the fewest chunks that fit, stored as
/// <c>&lt;name&gt;0</c>, <c>&lt;name&gt;1</c>…, each keeping the whole array's element size.
/// </summary>
internal static class KerasH5Attributes
{
    /// <summary>Keras's <c>HDF5_OBJECT_HEADER_LIMIT</c>.</summary>
    public const int ObjectHeaderLimit = 64512;

    /// <summary>Adds <paramref name="values"/> to <paramref name="node"/> as Keras saves them.</summary>
    /// <exception cref="ModelWriteException">One value alone passes the limit (Keras refuses it too).</exception>
    public static void Save(H5Node node, string name, IReadOnlyList<string> values, string format)
    {
        int itemSize = values.Count == 0 ? 1 : Math.Max(1, values.Max(Encoding.UTF8.GetByteCount));
        if (itemSize > ObjectHeaderLimit)
            throw new ModelWriteException($"{format}: a name of {itemSize} bytes in '{name}' is longer than Keras's HDF5 object header limit " +
                                          $"({ObjectHeaderLimit}); shorten it");
        int n = values.Count, chunks = 1;
        while ((long)((n + chunks - 1) / chunks) * itemSize > ObjectHeaderLimit) chunks++;
        if (chunks == 1)
        {
            node.Attributes.Add(H5Attribute.StringArray(name, values));
            return;
        }
        // np.array_split: the first n % chunks pieces get one more element.
        int start = 0;
        for (int c = 0; c < chunks; c++)
        {
            int count = n / chunks + (c < n % chunks ? 1 : 0);
            node.Attributes.Add(H5Attribute.StringArray($"{name}{c}", [.. values.Skip(start).Take(count)], itemSize));
            start += count;
        }
    }
}
