using WeightScope.Tensors;

namespace WeightScope.Formats.NumPy;

/// <summary>Maps a bare <c>.npy</c> file to the uniform model: one tensor over the mapped data (zero-copy).</summary>
internal static class NpyReader
{
    /// <summary>Name of the array when the file has no usable name (numpy itself never names a bare array).</summary>
    public const string DefaultName = "array";

    public static ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        var file = context.File ?? throw new ArgumentException("npy needs a file", nameof(context));
        var header = NpyHeader.Read(count => file.Span(0, count), file.Length, NpySource.File, options.Limits);
        string name = NameFor(context.Path);
        var storage = new MappedStorage(file, header.DataOffset, header.DataLength, name);
        var tensors = new TensorCollection([ToTensor(header, name, storage)]);
        return new ModelFile(new ModelFormatInfo(NpyFormat.FormatName, header.Version), tensors, owned: [file]);
    }

    /// <summary>The file's stem (<c>weights/fc1.npy</c> → <c>fc1</c>), or <see cref="DefaultName"/> for streams.</summary>
    public static string NameFor(string? path)
    {
        string stem = path is null ? "" : Path.GetFileNameWithoutExtension(path);
        return stem.Length > 0 ? stem : DefaultName;
    }

    /// <summary>
    /// The tensor over an array's data. Fortran order stores the same elements column-major: the shape is unchanged and
    /// the strides run the other way (numpy reads it as <c>data.reshape(shape[::-1]).T</c>).
    /// </summary>
    public static TensorEntry ToTensor(NpyHeader header, string name, TensorStorage storage)
    {
        long[] strides = header.FortranOrder ? FortranStrides(header.Shape) : header.Shape.ContiguousStrides();
        return new TensorEntry(name, header.Element.DType, header.Shape, storage, 0, strides, TensorRole.Other, header.Element.IsBigEndian);
    }

    private static long[] FortranStrides(Shape shape)
    {
        var strides = new long[shape.Rank];
        long acc = 1;
        for (int i = 0; i < shape.Rank; i++)
        {
            strides[i] = acc;
            acc = checked(acc * Math.Max(shape[i], 1));
        }
        return strides;
    }
}
