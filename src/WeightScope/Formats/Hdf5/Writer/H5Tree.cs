using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Formats.Hdf5.Writer;

/// <summary>An object to write: a group or a dataset, with its attributes.</summary>
internal abstract class H5Node
{
    /// <summary>Attributes in the order they are written (h5py lists them in creation order for old-style headers).</summary>
    public List<H5Attribute> Attributes { get; } = [];
}

/// <summary>A group: its members by name; written in byte order of the names, as an old-style group must be.</summary>
internal sealed class H5Group : H5Node
{
    /// <summary>Members keyed by link name, in ordinal (byte) order: the order of the symbol table nodes.</summary>
    public SortedDictionary<string, H5Node> Children { get; } = new(Utf8Order.Instance);
}

/// <summary>
/// libhdf5 orders an old-style group's names with <c>strcmp</c> on their UTF-8 bytes; UTF-16 ordinal order differs
/// for characters past U+FFFF, so names are compared as UTF-8.
/// </summary>
internal sealed class Utf8Order : IComparer<string>
{
    /// <summary>The comparer.</summary>
    public static Utf8Order Instance { get; } = new();

    /// <inheritdoc />
    public int Compare(string? x, string? y) =>
        System.Text.Encoding.UTF8.GetBytes(x ?? "").AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(y ?? ""));
}

/// <summary>A dataset: one tensor, stored contiguously.</summary>
internal sealed class H5Dataset(TensorEntry tensor) : H5Node
{
    /// <summary>The tensor whose bytes are the dataset's data.</summary>
    public TensorEntry Tensor { get; } = tensor;
}

/// <summary>
/// The objects of an HDF5 file to write, addressed by <c>/</c>-separated paths as h5py addresses them
/// (<c>f.create_dataset("layers/dense/vars/0", …)</c> creates the intermediate groups).
/// </summary>
internal sealed class H5Tree
{
    /// <summary>The root group.</summary>
    public H5Group Root { get; } = new();

    /// <summary>The datasets in the order they were added: the order of their bytes in the file.</summary>
    public List<H5Dataset> Datasets { get; } = [];

    /// <summary>The group at <paramref name="path"/>, created with its parents when missing.</summary>
    /// <exception cref="ModelWriteException">A part of the path is a dataset, or is not a valid link name.</exception>
    public H5Group Group(string path) => Group(path, path);

    /// <summary>The group at <paramref name="path"/>, made for <paramref name="forTensor"/> (named in errors).</summary>
    /// <exception cref="ModelWriteException">A part of the path is a dataset, or is not a valid link name.</exception>
    public H5Group Group(string path, TensorEntry forTensor)
    {
        try
        {
            return Group(path, path);
        }
        catch (ModelWriteException e)
        {
            throw new ModelWriteException($"{e.Message} (tensor '{forTensor.Name}')");
        }
    }

    private H5Group Group(string path, string forPath)
    {
        var g = Root;
        if (path.Length == 0) return g;
        foreach (var part in Parts(path, forPath))
        {
            if (!g.Children.TryGetValue(part, out var child)) g.Children[part] = child = new H5Group();
            g = child as H5Group ?? throw new ModelWriteException($"hdf5: '{forPath}' needs '{part}' to be a group, but it is a dataset (rename one of the tensors)");
        }
        return g;
    }

    /// <summary>Adds a dataset holding <paramref name="tensor"/> at <paramref name="path"/>.</summary>
    /// <exception cref="ModelWriteException">The path is taken (by a dataset or a group) or not a valid HDF5 path.</exception>
    public H5Dataset AddDataset(string path, TensorEntry tensor)
    {
        int slash = path.LastIndexOf('/');
        string name = slash < 0 ? path : path[(slash + 1)..];
        H5Group parent;
        try
        {
            parent = Group(slash < 0 ? "" : path[..slash], path);
            CheckLinkName(name, path);
        }
        catch (ModelWriteException e)
        {
            throw new ModelWriteException($"{e.Message} (tensor '{tensor.Name}')");
        }
        if (parent.Children.ContainsKey(name))
            throw new ModelWriteException($"hdf5: two objects would be written at '{path}' (tensor '{tensor.Name}'); rename one of the tensors");
        var d = new H5Dataset(tensor);
        parent.Children[name] = d;
        Datasets.Add(d);
        return d;
    }

    private static IEnumerable<string> Parts(string path, string forPath)
    {
        foreach (var part in path.Split('/'))
        {
            CheckLinkName(part, forPath);
            yield return part;
        }
    }

    // HDF5 link names are NUL-terminated and '/'-separated; '.' names the current group in a path (H5G traverse).
    private static void CheckLinkName(string part, string path)
    {
        if (part.Length == 0 || part == "." || part.Contains('\0'))
            throw new ModelWriteException($"hdf5: '{path}' is not a valid HDF5 path (empty part, '.', or a NUL character); rename the tensor");
    }
}
