using WeightScope.Tensors;

namespace WeightScope.Writing;

/// <summary>
/// Writes tensors in one file format. A writer checks everything it can before the first byte (dtypes it can hold,
/// names, sizes) and throws <see cref="ModelWriteException"/>, so a refused write leaves nothing behind;
/// <see cref="TensorWriters.Save"/> puts the bytes in a temporary file and renames it into place.
/// </summary>
public interface ITensorWriter
{
    /// <summary>Format name as <c>convert --format</c> takes it (<c>safetensors</c>, <c>npz</c>, <c>pt</c>…).</summary>
    string Name { get; }

    /// <summary>File name endings that select this writer, longest first (<c>.weights.h5</c> before <c>.h5</c>).</summary>
    IReadOnlyList<string> Extensions { get; }

    /// <summary>
    /// True when reading the file back gives every tensor its name; false for formats that record positions rather
    /// than names (Keras 3 <c>.weights.h5</c> stores <c>layers/&lt;layer&gt;/vars/&lt;i&gt;</c>), whose writers say so in a warning.
    /// </summary>
    bool KeepsNames => true;

    /// <summary>
    /// Checks that the tensors can be written; throws <see cref="ModelWriteException"/> naming the first that cannot
    /// (a dtype the format has no code for, a name it cannot hold, two tensors with one name).
    /// </summary>
    void Validate(IReadOnlyList<TensorEntry> tensors, WriteOptions options);

    /// <summary>Writes the tensors, in order, to <paramref name="output"/> (seekable, positioned at 0, empty).</summary>
    void Write(IReadOnlyList<TensorEntry> tensors, Stream output, WriteOptions options);
}

/// <summary>What to do with tensors that are views of one storage (tied weights) in a format that cannot share.</summary>
public enum SharedStoragePolicy
{
    /// <summary>Write each tensor as its own copy and report it through <see cref="WriteOptions.Warning"/>.</summary>
    Copy,
    /// <summary>Refuse the write, naming the tensors that share storage.</summary>
    Refuse,
}

/// <summary>Options common to every writer; a writer ignores what its format cannot record.</summary>
public sealed record WriteOptions
{
    /// <summary>Defaults: copy shared storages with a warning, no metadata.</summary>
    public static WriteOptions Default { get; } = new();

    /// <summary>String metadata (safetensors <c>__metadata__</c>; ignored by formats without a place for it).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Tied weights in a format that stores each tensor separately: copy (default) or refuse.</summary>
    public SharedStoragePolicy SharedStorage { get; init; } = SharedStoragePolicy.Copy;

    /// <summary>Receives notes about the write (shared storages copied, metadata dropped); null to ignore them.</summary>
    public Action<string>? Warning { get; init; }

    /// <summary>Receives the number of tensor bytes written so far; null for none.</summary>
    public IProgress<long>? Progress { get; init; }

    /// <summary>Compress where the format can (<c>np.savez_compressed</c>).</summary>
    public bool Compress { get; init; }
}

/// <summary>A write that cannot be done as asked: the format cannot hold a tensor, or the destination cannot be written.</summary>
public sealed class ModelWriteException(string message, Exception? inner = null) : Exception(message, inner);
