using System.Buffers.Binary;
using System.Text;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.TfJs;

/// <summary>
/// Maps a parsed model.json and its shard files into the uniform model: each group's shards concatenated, its weights laid
/// out one after another in manifest order (tfjs <c>decodeWeights</c>), numeric weights as tensors, string weights as
/// metadata, quantized weights as their dequantized view.
/// </summary>
internal static class TfJsReader
{
    /// <summary>tfjs <c>NUM_BYTES_STRING_LENGTH</c>: each string element is a uint32 little-endian byte count, then the bytes.</summary>
    private const int StringLengthBytes = 4;

    public static ModelFile Read(string modelJsonPath, ReaderOptions options)
    {
        var info = new FileInfo(modelJsonPath);
        if (info.Length > options.Limits.MaxHeaderBytes)
            throw new ReaderLimitException(TfJsErrors.Format, nameof(ReaderLimits.MaxHeaderBytes), info.Length, options.Limits.MaxHeaderBytes, 0);
        var json = TfJsModelJson.Parse(File.ReadAllBytes(modelJsonPath), options.Limits);
        var dir = Path.GetDirectoryName(Path.GetFullPath(modelJsonPath))!;

        var owned = new List<IDisposable>();
        try
        {
            var tensors = new List<TensorEntry>();
            var strings = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
            var quantization = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            var shardPaths = new List<string>();
            for (int g = 0; g < json.WeightsManifest.Count; g++)
            {
                var group = new TfJsShardGroup();
                foreach (var p in json.WeightsManifest[g].Paths)
                {
                    var full = ResolveShard(dir, p, options.AllowExternalPaths);
                    var file = MappedFile.Open(full);
                    owned.Add(file);
                    group.Add(p, file);
                    shardPaths.Add(full);
                }
                ReadGroup(json.WeightsManifest[g], g, group, names, tensors, strings, quantization);
            }

            bool layers = json.Format == "layers-model" || (json.Format is null && json.ModelTopologyJson?.Contains("\"class_name\"", StringComparison.Ordinal) == true);
            var modules = layers ? TfJsModules.FromTopology(json.ModelTopologyJson, tensors, options.Limits) : null;
            if (modules is not null) tensors = modules.Value.Tensors;

            var metadata = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (json.Format is not null) metadata["format"] = json.Format;
            if (json.GeneratedBy is not null) metadata["generatedBy"] = json.GeneratedBy;
            if (json.ConvertedBy is not null) metadata["convertedBy"] = json.ConvertedBy;
            if (json.ModelTopologyJson is not null) metadata["modelTopology"] = json.ModelTopologyJson;
            foreach (var (k, v) in json.OtherEntries) metadata[k] = v;
            if (quantization.Count > 0) metadata["quantization"] = quantization;
            foreach (var (k, v) in strings) metadata[metadata.ContainsKey(k) ? "weight:" + k : k] = v; // a weight named 'format' keeps both

            string? producer = (json.GeneratedBy, json.ConvertedBy) switch
            {
                (null, null) => null,
                (var gen, null) => gen,
                (null, var conv) => conv,
                (var gen, var conv) => $"{gen}; {conv}",
            };
            var model = new ModelFile(new ModelFormatInfo(TfJsErrors.Format, json.Format, producer), new TensorCollection(tensors),
                modules?.Root, metadata, owned, nameSeparator: '/');
            model.AddSourceFile(modelJsonPath);
            foreach (var s in shardPaths) model.AddSourceFile(s);
            return model;
        }
        catch
        {
            foreach (var o in owned) o.Dispose();
            throw;
        }
    }

    private static void ReadGroup(TfJsWeightGroup spec, int index, TfJsShardGroup group, HashSet<string> names,
        List<TensorEntry> tensors, OrderedDictionary<string, object?> strings, OrderedDictionary<string, object?> quantization)
    {
        long offset = 0;
        foreach (var w in spec.Weights)
        {
            if (!names.Add(w.Name)) throw TfJsErrors.DuplicateName(w.Name);
            long count = ElementCount(w);
            if (w.Quantization is null && w.DType == "string")
            {
                strings[w.Name] = ReadStrings(w, count, group, ref offset);
                continue;
            }
            var (dtype, stored) = Types(w);
            long bytes;
            try { bytes = checked(count * stored); }
            catch (OverflowException) { throw TfJsErrors.SizeOverflow(w.Name, "[" + string.Join(", ", w.Shape) + "]"); }
            if (bytes > group.Length - offset) throw TfJsErrors.ShardsTooShort(index, checked(offset + bytes), group.Length);
            var raw = group.Storage(offset, bytes, w.Name);
            var shape = new Shape(w.Shape);
            if (w.Quantization is { } q)
            {
                quantization[w.Name] = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["dtype"] = q.DType, ["scale"] = q.Scale, ["min"] = q.Min,
                };
                var decoded = new DecodedStorage(checked(count * dtype.ItemSize()), () =>
                {
                    var stored = new byte[raw.ByteLength];
                    raw.Read(0, stored);
                    return TfJsDecode.Dequantize(stored, q, dtype == DType.Int32);
                }, $"{w.Name} (dequantized from {q.DType})");
                // The float32 view is what tfjs computes; the block type records what the shard holds. An int32 weight
                // carries no QuantizationInfo: the converters would take its values for stored integers to dequantize.
                var info = dtype == DType.Float32 ? new QuantizationInfo { Scheme = QuantizationScheme.Block, Scales = [], ZeroPoints = [], BlockType = "tfjs-" + q.DType } : null;
                tensors.Add(new TensorEntry(w.Name, dtype, shape, decoded, quantization: info));
            }
            else tensors.Add(new TensorEntry(w.Name, dtype, shape, raw));
            offset += bytes;
        }
        // tfjs's model loaders concatenate the shards of ALL groups and decode all specs over them (HTTPRequest.loadWeights,
        // then decodeWeights), while io.loadWeights cuts per group: the two agree only when each group's weights fill its
        // shards exactly, which is what the converter writes. Anything else is refused rather than read one way of two.
        if (offset != group.Length) throw TfJsErrors.ShardsTooLong(index, offset, group.Length);
    }

    private static long ElementCount(TfJsWeightSpec w)
    {
        long n = 1;
        try { foreach (var d in w.Shape) n = checked(n * d); }
        catch (OverflowException) { throw TfJsErrors.SizeOverflow(w.Name, "[" + string.Join(", ", w.Shape) + "]"); }
        return n;
    }

    /// <summary>The tensor dtype tfjs produces and the bytes per stored element, checked as <c>decodeWeight</c> checks them.</summary>
    private static (DType DType, int Stored) Types(TfJsWeightSpec w)
    {
        if (w.Quantization is { } q)
        {
            if (q.DType is "uint8" or "uint16")
            {
                if (q.Scale is null || q.Min is null) throw TfJsErrors.BadQuantization(w.Name, $"quantization {q.DType} needs numeric 'scale' and 'min'");
                if (w.DType is not ("float32" or "int32"))
                    throw TfJsErrors.BadQuantization(w.Name, $"quantization {q.DType} applies to float32 or int32 weights, not {w.DType}");
            }
            else if (q.DType == "float16")
            {
                if (w.DType != "float32") throw TfJsErrors.BadQuantization(w.Name, $"quantization float16 applies to float32 weights only, not {w.DType}");
            }
            else throw TfJsErrors.UnknownQuantization(w.Name, q.DType);
            return (w.DType == "int32" ? DType.Int32 : DType.Float32, TfJsDecode.StoredSize(q.DType));
        }
        return w.DType switch
        {
            "float32" => (DType.Float32, 4),
            "int32" => (DType.Int32, 4),
            "bool" => (DType.Bool, 1),
            "complex64" => (DType.Complex64, 8),
            _ => throw TfJsErrors.UnknownDType(w.Name, w.DType),
        };
    }

    /// <summary>String elements: uint32 little-endian length, then that many bytes; UTF-8 text becomes a string, anything else stays bytes.</summary>
    private static object? ReadStrings(TfJsWeightSpec w, long count, TfJsShardGroup group, ref long offset)
    {
        // Every element takes at least its length prefix: a count beyond that cannot be real and is refused before looping.
        if (count > (group.Length - offset) / StringLengthBytes)
            throw TfJsErrors.StringTooLong(w.Name, offset, checked(count * StringLengthBytes), group.Length - offset);
        var values = new List<object?>((int)count);
        Span<byte> prefix = stackalloc byte[StringLengthBytes];
        for (long i = 0; i < count; i++)
        {
            group.Read(offset, prefix);
            long length = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
            offset += StringLengthBytes;
            if (length > group.Length - offset) throw TfJsErrors.StringTooLong(w.Name, offset - StringLengthBytes, length, group.Length - offset);
            var bytes = new byte[length];
            group.Read(offset, bytes);
            offset += length;
            values.Add(Utf8Strict.TryDecode(bytes, out var s) ? s : bytes);
        }
        return w.Shape.Length == 0 ? values[0] : values;
    }

    // Paths come from the file: URLs and backslashes are never file names here; the rest is ContainedPath's rule
    // (inside model.json's folder, symbolic links followed) unless ReaderOptions.AllowExternalPaths lifts it.
    private static string ResolveShard(string dir, string path, bool allowOutside)
    {
        if (path.Length == 0) throw TfJsErrors.PathRefused(path, "is empty");
        if (path.Contains("://", StringComparison.Ordinal) || path.Contains('\\') || path.Contains('\0'))
            throw TfJsErrors.PathRefused(path, "is a URL or not a plain relative path");
        var full = ContainedPath.Resolve(dir, path, allowOutside, out var refusal) ?? throw TfJsErrors.PathRefused(path, refusal!);
        if (!File.Exists(full)) throw TfJsErrors.ShardMissing(path);
        return full;
    }

    private static class Utf8Strict
    {
        private static readonly UTF8Encoding Encoding = new(false, throwOnInvalidBytes: true);

        public static bool TryDecode(byte[] bytes, out string value)
        {
            value = "";
            if (!System.Text.Unicode.Utf8.IsValid(bytes)) return false;
            value = Encoding.GetString(bytes);
            return true;
        }
    }
}
