using System.Globalization;
using WeightScope.Formats.Onnx.Proto;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.Onnx;

/// <summary>
/// External tensor data (<c>data_location = EXTERNAL</c>): <c>external_data</c> names a file relative to the model's
/// folder and a byte range in it (onnx/external_data_helper.py: <c>location</c>, <c>offset</c>, <c>length</c>,
/// <c>checksum</c>). Each data file is mapped once and owned by the model. A location that leaves the model's folder
/// (absolute, <c>..</c>, or through a symbolic link) is refused, as onnx's own loader refuses it, unless
/// <see cref="ReaderOptions.AllowExternalPaths"/> is set (the rule is <see cref="ContainedPath"/>'s, shared by every format).
/// </summary>
internal sealed class OnnxExternalData(string modelFolder, bool allowOutside)
{
    private const string LocationKey = "location";
    private const string OffsetKey = "offset";
    private const string LengthKey = "length";

    private readonly string _folder = Path.GetFullPath(modelFolder);
    private readonly Dictionary<string, MappedFile> _files = new(StringComparer.Ordinal);

    /// <summary>Every data file mapped, in the order first used.</summary>
    public IEnumerable<MappedFile> Files => _files.Values;

    /// <summary>Full paths of the data files, for <see cref="ModelFile.AddSourceFile"/>.</summary>
    public IEnumerable<string> Paths => _files.Keys;

    /// <summary>The storage for <paramref name="t"/>'s external bytes, checked to hold exactly its elements.</summary>
    public TensorStorage Open(TensorProto t, string name, long elements, int itemSize)
    {
        long bytes = checked(elements * itemSize);
        string? location = null, offsetText = null, lengthText = null;
        foreach (var kv in t.ExternalData)
        {
            // external_data_helper.ExternalDataInfo: later entries overwrite earlier ones.
            if (kv.Key == LocationKey) location = kv.Value;
            else if (kv.Key == OffsetKey) offsetText = kv.Value;
            else if (kv.Key == LengthKey) lengthText = kv.Value;
        }
        if (string.IsNullOrEmpty(location)) throw OnnxErrors.ExternalMissingKey(name, LocationKey);
        long offset = offsetText is null ? 0 : Number(name, OffsetKey, offsetText);
        long? length = lengthText is null ? null : Number(name, LengthKey, lengthText);

        var path = Resolve(name, location);
        if (!_files.TryGetValue(path, out var file))
        {
            if (!File.Exists(path)) throw OnnxErrors.ExternalMissing(name, location);
            file = MappedFile.Open(path);
            _files.Add(path, file);
        }
        // Without a length onnx reads to the end of the file.
        long available = offset > file.Length ? -1 : file.Length - offset;
        long take = length ?? Math.Max(available, 0);
        if (available < 0 || take > available) throw OnnxErrors.ExternalBeyondFile(name, location, offset, take, file.Length);
        if (take != bytes) throw OnnxErrors.RawSizeMismatch(OnnxErrors.Format, name, take, elements, itemSize, offset);
        return bytes == 0 ? new ArrayStorage([], name) : new MappedStorage(file, offset, bytes, name);
    }

    private static long Number(string name, string key, string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : throw OnnxErrors.ExternalBadNumber(name, key, text);

    // The location must stay inside the model's folder, textually and after following symbolic links.
    private string Resolve(string name, string location) =>
        ContainedPath.Resolve(_folder, location, allowOutside, out var refusal) ?? throw OnnxErrors.ExternalEscapes(name, location, refusal!);
}
