using WeightScope.Formats;
using WeightScope.IO;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope;

/// <summary>What a file is: format name and, where the file records them, version and producer.</summary>
/// <param name="Name">Format name (<c>pytorch-zip</c>, <c>safetensors</c>, <c>npy</c>…).</param>
/// <param name="Version">Format version as recorded (<c>zip format_version 1</c>, <c>npy 1.0</c>).</param>
/// <param name="Producer">The writing framework and its version where recorded.</param>
public sealed record ModelFormatInfo(string Name, string? Version = null, string? Producer = null)
{
    /// <inheritdoc />
    public override string ToString() => Name + (Version is null ? "" : $" {Version}") + (Producer is null ? "" : $" ({Producer})");
}

/// <summary>
/// An opened weight file in the uniform model: its format, tensors (lazy), module tree and metadata.
/// <code>using var m = ModelFile.Open("model.pt");
/// foreach (var t in m.Tensors) Console.WriteLine($"{t.Name} {t.Shape}");</code>
/// Dispose it to release the memory map; tensors read after that throw <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed class ModelFile : IDisposable
{
    private readonly List<IDisposable> _owned;
    private ModuleNode? _modules;
    private readonly char _nameSeparator;

    /// <summary>Creates a model file; readers call this. <paramref name="owned"/> are disposed with it.</summary>
    /// <param name="format">What the file is.</param>
    /// <param name="tensors">The tensors, in file order.</param>
    /// <param name="modules">The module tree when the file records one; otherwise it is built from the names on demand.</param>
    /// <param name="metadata">Non-tensor values.</param>
    /// <param name="owned">Resources released with the model (memory maps).</param>
    /// <param name="nameSeparator">What separates levels in tensor names, for the tree built from names ('.' for PyTorch, '/' for HDF5 paths).</param>
    public ModelFile(ModelFormatInfo format, TensorCollection tensors, ModuleNode? modules = null,
        IReadOnlyDictionary<string, object?>? metadata = null, IEnumerable<IDisposable>? owned = null, char nameSeparator = '.')
    {
        _nameSeparator = nameSeparator;
        Format = format;
        Tensors = tensors;
        _modules = modules;
        HasModuleTypes = modules is not null;
        Metadata = metadata ?? new Dictionary<string, object?>();
        _owned = [.. owned ?? []];
    }

    /// <summary>The file or folder this was opened from (null for streams).</summary>
    public string? Path { get; internal set; }

    private readonly List<string> _companionFiles = [];

    /// <summary>
    /// Every file the model was read from: <see cref="Path"/> (when it is a file) and the files it led to — shards of a
    /// sharded checkpoint, a config beside a weights file. What <c>info</c> sums for the model's size on disk.
    /// </summary>
    public IReadOnlyList<string> SourceFiles =>
        Path is not null && System.IO.File.Exists(Path)
            ? [System.IO.Path.GetFullPath(Path), .. _companionFiles.Where(f => f != System.IO.Path.GetFullPath(Path))]
            : [.. _companionFiles];

    /// <summary>Records a file a reader read besides <see cref="Path"/> (full path; duplicates ignored).</summary>
    internal void AddSourceFile(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!_companionFiles.Contains(full, StringComparer.Ordinal)) _companionFiles.Add(full);
    }

    /// <summary>Format name, version and producer.</summary>
    public ModelFormatInfo Format { get; }

    /// <summary>Tensors in file order, by name.</summary>
    public TensorCollection Tensors { get; }

    /// <summary>
    /// The module tree: from the file where it records one (a pickled <c>nn.Module</c>, TorchScript, a Keras config);
    /// otherwise built from dotted names, with unknown types.
    /// </summary>
    public ModuleNode Modules => _modules ??= ModuleTreeBuilder.FromNames(Tensors, _nameSeparator);

    /// <summary>True when <see cref="Modules"/> comes from the file (types known), not from names.</summary>
    public bool HasModuleTypes { get; }

    /// <summary>
    /// Non-tensor values (epoch, loss, hyper-parameters, <c>__metadata__</c>), in file order. Values are
    /// string, long, BigInteger, double, bool, null, byte[], tuples (<c>object?[]</c>), lists (<c>List&lt;object?&gt;</c>),
    /// string-keyed dictionaries (<c>OrderedDictionary&lt;string, object?&gt;</c>) and inert <see cref="Modules.OpaqueObject"/>s.
    /// </summary>
    public IReadOnlyDictionary<string, object?> Metadata { get; }

    /// <summary>
    /// Prefix of the <see cref="Metadata"/> keys that say why an entry of the file is not among the tensors (an npz
    /// member that is no array, an ONNX tensor of a data type this reader does not know): <c>unsupported:&lt;name&gt;</c>.
    /// </summary>
    public const string UnsupportedKeyPrefix = "unsupported:";

    /// <summary>
    /// The tensor named <paramref name="name"/>, as <see cref="Tensors"/>' indexer gives it; for an entry the file holds
    /// but the reader noted instead of reading (<see cref="Unsupported"/>), an error that says why.
    /// </summary>
    /// <exception cref="UnsupportedModelFeatureException">The file holds the entry, but its values cannot be read.</exception>
    /// <exception cref="KeyNotFoundException">No such tensor; the message suggests similar names.</exception>
    public TensorEntry Tensor(string name)
    {
        if (Tensors.TryGet(name, out var t)) return t;
        if (Metadata.TryGetValue(UnsupportedKeyPrefix + name, out var why))
            throw new UnsupportedModelFeatureException(Format.Name, $"'{name}' is in the file but not read as a tensor: {why}", null, name) { FilePath = Path };
        return Tensors[name];
    }

    /// <summary>The entries the file holds that are not tensors here, with the reason each is not (see <see cref="UnsupportedKeyPrefix"/>).</summary>
    public IEnumerable<(string Name, string Reason)> Unsupported =>
        Metadata.Where(kv => kv.Key.StartsWith(UnsupportedKeyPrefix, StringComparison.Ordinal))
            .Select(kv => (kv.Key[UnsupportedKeyPrefix.Length..], kv.Value?.ToString() ?? ""));

    /// <summary>Opens a weight file or folder, detecting the format from its content.</summary>
    /// <exception cref="ModelFormatException">The content is not a known format, or is corrupt; the message names file, format and offset.</exception>
    /// <exception cref="FileNotFoundException">The path does not exist.</exception>
    /// <remarks>Limits raised past their defaults (nesting, dimensions) are read on a <see cref="Threading.LargeStack"/> thread.</remarks>
    public static ModelFile Open(string path, ReaderOptions? options = null)
    {
        options ??= ReaderOptions.Default;
        return Threading.LargeStack.RunFor(options.Limits, () => ModelFormats.Open(path, options));
    }

    /// <summary>
    /// True when <paramref name="path"/> is a folder that <see cref="Open(string, ReaderOptions?)"/> reads as one model
    /// (a TensorFlow SavedModel or checkpoint folder, a TF.js model, a sharded safetensors checkpoint), by the readers' own
    /// detection; false for a file or any other folder (a folder of checkpoints).
    /// </summary>
    public static bool IsModelFolder(string path, ReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!Directory.Exists(path)) return false;
        var ctx = new Formats.DetectionContext(path, null, null, isDirectory: true, (options ?? ReaderOptions.Default).Limits);
        return ModelFormats.Detect(ctx) is not null;
    }

    /// <summary>Opens a weight file from a stream (read fully into memory).</summary>
    public static ModelFile Open(Stream stream, ReaderOptions? options = null)
    {
        byte[] bytes;
        if (stream.CanSeek && stream.Length - stream.Position <= Array.MaxLength)
        {
            bytes = new byte[stream.Length - stream.Position];
            stream.ReadExactly(bytes);
        }
        else
        {
            var ms = new MemoryStream();
            stream.CopyTo(ms);
            bytes = ms.ToArray();
        }
        options ??= ReaderOptions.Default;
        return Threading.LargeStack.RunFor(options.Limits, () => ModelFormats.Open(MappedFile.FromArray(bytes), null, options));
    }

    /// <summary>
    /// Writes tensors (this model's, or any selection, renamed or converted views) to <paramref name="path"/> in
    /// <paramref name="format"/> (a name from <see cref="Writing.TensorWriters.All"/>) or the format the path's ending names:
    /// <code>ModelFile.Save(m.Tensors, "weights.safetensors");
    /// ModelFile.Save(m.Tensors.Match("encoder.*"), "encoder.npz");</code>
    /// The write is atomic: a temporary file beside the target is renamed into place only when complete.
    /// </summary>
    /// <exception cref="Writing.ModelWriteException">The format cannot hold a tensor, or the path names no known format.</exception>
    public static void Save(IEnumerable<TensorEntry> tensors, string path, string? format = null, Writing.WriteOptions? options = null) =>
        Writing.TensorWriters.Save(tensors, path, format, options);

    /// <summary>Ties a resource's life to this model (the registry hands every model its mapped file, once).</summary>
    internal void Own(IDisposable resource)
    {
        if (!_owned.Contains(resource)) _owned.Add(resource);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
        _owned.Clear();
    }
}
