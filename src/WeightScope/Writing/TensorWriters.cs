using WeightScope.Formats.Keras;
using WeightScope.Formats.NumPy;
using WeightScope.Formats.PyTorch;
using WeightScope.Formats.SafeTensors;
using WeightScope.Formats.TorchSharp;
using WeightScope.Tensors;

namespace WeightScope.Writing;

/// <summary>The writable formats, chosen by name or by the output file's ending.</summary>
public static class TensorWriters
{
    private static readonly List<ITensorWriter> s_writers =
    [
        new SafeTensorsWriter(),
        new PyTorchZipWriter(),
        new NpzWriter(),
        new NpzWriter(compressed: true),
        new NpyWriter(),
        new KerasH5Writer(),
        new Keras3WeightsWriter(),
        new TorchSharpWriter(),
    ];

    /// <summary>Every writer, in the order <c>convert --help</c> lists them.</summary>
    public static IReadOnlyList<ITensorWriter> All => s_writers;

    /// <summary>The writer named <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ModelWriteException">No writer has that name; the message lists the names there are.</exception>
    public static ITensorWriter ByName(string name) =>
        s_writers.FirstOrDefault(w => string.Equals(w.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ModelWriteException($"unknown output format '{name}' (known: {string.Join(", ", s_writers.Select(w => w.Name))})");

    /// <summary>The writer for <paramref name="path"/>'s ending (longest ending wins: <c>.weights.h5</c> before <c>.h5</c>).</summary>
    /// <exception cref="ModelWriteException">No writer claims the ending; the message lists the endings there are.</exception>
    public static ITensorWriter ForPath(string path)
    {
        var name = Path.GetFileName(path);
        ITensorWriter? best = null;
        int bestLength = 0;
        foreach (var w in s_writers)
            foreach (var ext in w.Extensions)
                if (ext.Length > bestLength && name.EndsWith(ext, StringComparison.OrdinalIgnoreCase))
                    (best, bestLength) = (w, ext.Length);
        return best ?? throw new ModelWriteException(
            $"{path}: cannot tell the output format from the file name (known endings: " +
            $"{string.Join(", ", s_writers.SelectMany(w => w.Extensions))}); name one with --format");
    }

    /// <summary>
    /// Writes <paramref name="tensors"/> to <paramref name="path"/> in <paramref name="format"/> (or the format its ending
    /// names), atomically: the tensors are validated first, written to a temporary file beside the target and renamed
    /// into place, so a failed or interrupted write leaves any existing file intact.
    /// </summary>
    public static void Save(IEnumerable<TensorEntry> tensors, string path, string? format = null, WriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        options ??= WriteOptions.Default;
        var writer = format is null ? ForPath(path) : ByName(format);
        var list = tensors as IReadOnlyList<TensorEntry> ?? [.. tensors];
        CheckUniqueNames(list, writer);
        writer.Validate(list, options);
        AtomicFile.Write(path, fs => writer.Write(list, fs, options));
    }

    private static void CheckUniqueNames(IReadOnlyList<TensorEntry> tensors, ITensorWriter writer)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
            if (!seen.Add(t.Name))
                throw new ModelWriteException($"{writer.Name}: two tensors are named '{t.Name}' (rename one first)");
    }

    /// <summary>
    /// Groups of tensors that view one storage (tied weights), each group in file order; writers that store every tensor
    /// separately use it to apply <see cref="WriteOptions.SharedStorage"/>.
    /// </summary>
    public static void ApplySharedStoragePolicy(IReadOnlyList<TensorEntry> tensors, WriteOptions options, string formatName)
    {
        var groups = tensors.GroupBy(t => t.Storage).Where(g => g.Count() > 1 && Overlap(g.ToList())).ToList();
        foreach (var g in groups)
        {
            var names = string.Join(", ", g.Select(t => t.Name));
            if (options.SharedStorage == SharedStoragePolicy.Refuse)
                throw new ModelWriteException($"{formatName}: tensors {names} share storage '{g.Key.Key}' and {formatName} cannot record sharing " +
                                              "(write each as its own copy — the default, without --refuse-shared — or drop all but one)");
            options.Warning?.Invoke($"{names} share storage '{g.Key.Key}'; {formatName} cannot record sharing, so each is written as its own copy");
        }
    }

    // Views of one storage that do not touch each other's bytes (the slices of a legacy checkpoint's flat buffer, tfjs
    // shards) are not tied weights; only overlapping byte ranges are.
    private static bool Overlap(List<TensorEntry> views)
    {
        var ranges = views.Where(v => v.ElementCount > 0).Select(v =>
        {
            int item = v.DType.ItemSize();
            long start = v.StorageOffset * item;
            return (start, end: TensorEntry.RequiredStorageBytes(v.Shape, [.. v.Strides], v.StorageOffset, item));
        }).OrderBy(r => r.start).ToList();
        for (int i = 1; i < ranges.Count; i++)
            if (ranges[i].start < ranges[i - 1].end) return true;
        return false;
    }
}
