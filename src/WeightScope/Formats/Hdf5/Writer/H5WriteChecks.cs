using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Formats.Hdf5.Writer;

/// <summary>Checks shared by the writers built on <see cref="H5FileWriter"/>.</summary>
internal static class H5WriteChecks
{
    /// <summary>
    /// Refuses a tensor whose dtype h5py would not write as a plain HDF5 type: bfloat16 and float8 (h5py has no such
    /// types; ml_dtypes arrays are refused by h5py too), complex (h5py writes a compound Keras cannot load as a
    /// weight) and quantized tensors (their scale and zero point have no place).
    /// </summary>
    /// <exception cref="ModelWriteException">The first tensor that cannot be written, with what to do.</exception>
    public static void DTypes(string format, IReadOnlyList<TensorEntry> tensors)
    {
        foreach (var t in tensors)
            if (!H5Datatypes.CanWrite(t.DType))
                throw new ModelWriteException($"{format} cannot store '{t.Name}' ({t.DType.Name()}): HDF5 as h5py writes it has no " +
                                              $"{t.DType.Name()} type; convert it first (--dtype float32)" +
                                              (t.DType.IsQuantized() ? ", which dequantizes it" : ""));
    }

    /// <summary>Refuses an empty tensor name: it cannot be an HDF5 link name, and the Keras layouts derive groups from it.</summary>
    /// <exception cref="ModelWriteException">A tensor has an empty name.</exception>
    public static void Names(string format, IReadOnlyList<TensorEntry> tensors)
    {
        for (int i = 0; i < tensors.Count; i++)
            if (tensors[i].Name.Length == 0)
                throw new ModelWriteException($"{format}: tensor #{i} has an empty name, which HDF5 cannot store as a link name; rename it");
    }
}
