using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Formats.NumPy;

/// <summary>
/// Writes one tensor as <c>np.save</c> does (<see cref="NpyHeaderWriter"/>): the header, then the elements in C order
/// (Fortran order for a Fortran-contiguous view, as numpy), little-endian. An .npy file holds exactly one array and no name; several tensors go to an .npz.
/// </summary>
public sealed class NpyWriter : ITensorWriter
{
    /// <inheritdoc />
    public string Name => "npy";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".npy"];

    /// <inheritdoc />
    /// <remarks>An .npy file holds one array and no name; readers name it after the file.</remarks>
    public bool KeepsNames => false;

    /// <inheritdoc />
    public void Validate(IReadOnlyList<TensorEntry> tensors, WriteOptions options)
    {
        if (tensors.Count != 1)
            throw new ModelWriteException(tensors.Count == 0
                ? "npy: there is no tensor to write (an .npy file holds exactly one array)"
                : $"npy: an .npy file holds one array, and there are {tensors.Count} tensors; write an .npz (--format npz) " +
                  "or select one tensor");
        NpyHeaderWriter.CheckDType(tensors[0], Name);
    }

    /// <inheritdoc />
    public void Write(IReadOnlyList<TensorEntry> tensors, Stream output, WriteOptions options)
    {
        var t = tensors[0];
        output.Write(NpyHeaderWriter.Build(t, out var data));
        long written = 0;
        TensorBytes.WriteTo(data, output, options.Progress, ref written);
    }
}
