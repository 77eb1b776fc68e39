using System.Text;
using System.Text.Json;
using WeightScope.Formats.Hdf5;
using WeightScope.IO;

namespace WeightScope.Formats.Keras;

/// <summary>
/// Opens the two Keras 3 files: the <c>.keras</c> zip (its <c>model.weights.h5</c> member read by the HDF5 reader in
/// place when stored, inflated once when deflated; <c>config.json</c> and <c>metadata.json</c> as metadata) and the
/// <c>.weights.h5</c> (with the sibling <c>&lt;stem&gt;.json</c> that <c>model.to_json()</c> writes, when there is one).
/// </summary>
internal static class Keras3Files
{
    /// <summary>Metadata key: where the config came from (<c>config.json</c>, a sibling file, or none and why).</summary>
    public const string ConfigSourceKey = "config_source";

    private const string WeightsSuffix = ".weights.h5";

    public static ModelFile ReadArchive(DetectionContext context, ReaderOptions options)
    {
        var file = context.File ?? throw new ArgumentException("keras needs a file", nameof(context));
        var zip = context.Zip ?? throw new ArgumentException("keras needs a zip archive", nameof(context));
        var limits = options.Limits;
        var names = zip.Entries.Select(e => e.Name).ToList();
        var configEntry = zip.Find(Keras3ArchiveFormat.ConfigMember) ?? throw Keras3Errors.MissingMember(Keras3ArchiveFormat.ConfigMember, names);
        var metadata = new Dictionary<string, object?>(StringComparer.Ordinal);

        string? version = null;
        if (zip.Find(Keras3ArchiveFormat.MetadataMember) is { } metaEntry)
        {
            // Validated as UTF-8 first: JsonDocument accepts invalid UTF-8 inside strings and fails only when one is read.
            string metaJson = Utf8(zip.ReadAll(metaEntry, limits.MaxHeaderBytes), Keras3ArchiveFormat.MetadataMember);
            using var meta = Parse(Encoding.UTF8.GetBytes(metaJson), Keras3ArchiveFormat.MetadataMember);
            if (meta.RootElement.ValueKind != JsonValueKind.Object) throw Keras3Errors.BadJson(Keras3ArchiveFormat.FormatName, Keras3ArchiveFormat.MetadataMember, "not a JSON object");
            foreach (var p in meta.RootElement.EnumerateObject())
                metadata[p.Name] = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString(),
                    JsonValueKind.Number => p.Value.TryGetInt64(out long l) ? l : p.Value.GetDouble(),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Null => null,
                    _ => p.Value.GetRawText(),
                };
            version = metadata.GetValueOrDefault("keras_version") as string;
        }

        string configJson = Utf8(zip.ReadAll(configEntry, limits.MaxHeaderBytes), Keras3ArchiveFormat.ConfigMember);
        var (config, compile) = ParseConfig(configJson, Keras3ArchiveFormat.FormatName, Keras3ArchiveFormat.ConfigMember, limits);
        metadata["model_config"] = configJson;
        if (compile.ValueKind == JsonValueKind.Object) metadata["compile_config"] = compile.GetRawText();
        metadata[ConfigSourceKey] = Keras3ArchiveFormat.ConfigMember;
        foreach (var e in zip.Entries.Where(e => e.Name.StartsWith("assets/", StringComparison.Ordinal) && !e.Name.EndsWith('/')))
            metadata["assets/" + e.Name["assets/".Length..]] = e.UncompressedSize;

        var weights = zip.Find(Keras3ArchiveFormat.WeightsMember);
        if (weights is null)
        {
            if (zip.Find(Keras3ArchiveFormat.NpzMember) is { } npz) throw Keras3Errors.NpzWeights(npz.LocalHeaderOffset);
            throw Keras3Errors.MissingMember(Keras3ArchiveFormat.WeightsMember, names);
        }
        var (member, memberOffset) = OpenMember(zip, file, weights, limits);
        ModelFile plain;
        try
        {
            plain = Hdf5Reader.Read(new DetectionContext(context.Path, member, null, isDirectory: false, options.Limits), options);
        }
        catch (InvalidModelContentException e)
        {
            member.Dispose();
            throw Keras3Errors.InMember(e, memberOffset);
        }
        catch
        {
            member.Dispose();
            throw;
        }
        var info = new ModelFormatInfo(Keras3ArchiveFormat.FormatName, version);
        return Keras3Reader.Map(plain, info, config, compile, metadata, [member]);
    }

    public static ModelFile ReadWeights(DetectionContext context, ReaderOptions options)
    {
        var plain = Hdf5Reader.Read(context, options);
        var metadata = new Dictionary<string, object?>(plain.Metadata, StringComparer.Ordinal);
        var info = new ModelFormatInfo(Keras3WeightsFormat.FormatName);
        string? sibling = SiblingConfig(context.Path);
        if (sibling is null || !File.Exists(sibling))
        {
            metadata[ConfigSourceKey] = null;
            return Keras3Reader.Map(plain, info, null, default, metadata, []);
        }
        // The sibling is a convention, not part of the file: one that is not a Keras config, or describes another model,
        // is set aside (and said so) rather than making the weights unreadable.
        string json;
        KerasLayer config;
        JsonElement compile;
        try
        {
            long length = new FileInfo(sibling).Length; // checked before reading: the sibling is not bounded by the weights file
            if (length > options.Limits.MaxHeaderBytes) throw new ReaderLimitException(Keras3WeightsFormat.FormatName, nameof(ReaderLimits.MaxHeaderBytes), length, options.Limits.MaxHeaderBytes, null, sibling);
            json = Utf8(File.ReadAllBytes(sibling), Path.GetFileName(sibling));
            (config, compile) = ParseConfig(json, Keras3WeightsFormat.FormatName, Path.GetFileName(sibling), options.Limits);
            if (!config.IsModel) throw Keras3Errors.BadJson(Keras3WeightsFormat.FormatName, Path.GetFileName(sibling), "not a model config with a layer list");
        }
        catch (Exception e) when (e is InvalidModelContentException or ReaderLimitException or IOException or UnauthorizedAccessException)
        {
            metadata[ConfigSourceKey] = $"none ({Path.GetFileName(sibling)} set aside: {(e is ModelFormatException m ? m.Detail : e.Message)})";
            return Keras3Reader.Map(plain, info, null, default, metadata, []);
        }
        var withConfig = new Dictionary<string, object?>(metadata, StringComparer.Ordinal)
        {
            ["model_config"] = json,
            [ConfigSourceKey] = Path.GetFileName(sibling),
        };
        if (compile.ValueKind == JsonValueKind.Object) withConfig["compile_config"] = compile.GetRawText();
        try
        {
            var model = Keras3Reader.Map(plain, info, config, compile, withConfig, []);
            model.AddSourceFile(sibling); // info's size on disk counts the config it was read with
            return model;
        }
        catch (InvalidModelContentException e)
        {
            metadata[ConfigSourceKey] = $"none ({Path.GetFileName(sibling)} set aside: it does not describe these weights: {e.Detail})";
            return Keras3Reader.Map(plain, info, null, default, metadata, []);
        }
    }

    /// <summary><c>X.weights.h5</c> → <c>X.json</c> (what <c>model.to_json()</c> is usually saved as beside it).</summary>
    internal static string? SiblingConfig(string? path)
    {
        if (path is null || !path.EndsWith(WeightsSuffix, StringComparison.OrdinalIgnoreCase)) return null;
        return path[..^WeightsSuffix.Length] + ".json";
    }

    // Stored: the member's bytes are the HDF5 file, mapped in place. Deflated: inflated once, bounded by the limits.
    private static (MappedFile File, long Offset) OpenMember(ZipIndex zip, MappedFile file, ZipEntry e, ReaderLimits limits)
    {
        if (e.IsStored)
        {
            long offset = zip.DataOffset(e);
            if (e.CompressedSize != e.UncompressedSize)
                throw new InvalidModelContentException("zip", $"stored member has compressed size {e.CompressedSize} but uncompressed size {e.UncompressedSize}", e.LocalHeaderOffset, e.Name);
            return (file.Slice(offset, e.UncompressedSize), offset);
        }
        // Inflated whole to open the archive (the HDF5 reader needs the weights file's structure before any value is
        // asked for), so this is where a deflate bomb would cost memory at open: held to the ratio limit.
        ZipIndex.CheckRatio(e, limits, "keras", e.LocalHeaderOffset);
        long max = Math.Min(limits.MaxDecompressedBytes, Array.MaxLength);
        return (MappedFile.FromArray(zip.ReadAll(e, max, nameof(ReaderLimits.MaxDecompressedBytes)), file.Path), 0);
    }

    private static (KerasLayer Config, JsonElement Compile) ParseConfig(string json, string format, string source, ReaderLimits limits)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        IO.JsonDepth.Check(bytes, limits, format, source);
        using var doc = Parse(bytes, source, format, limits);
        var rootEl = doc.RootElement;
        if (rootEl.ValueKind != JsonValueKind.Object || !rootEl.TryGetProperty("class_name", out var c) || c.ValueKind != JsonValueKind.String)
            throw Keras3Errors.BadJson(format, source, "expected an object with class_name and config, as serialize_keras_object writes");
        var compile = rootEl.TryGetProperty("compile_config", out var cc) && cc.ValueKind == JsonValueKind.Object ? cc.Clone() : default;
        try
        {
            return (KerasConfig.Parse(json, limits), compile);
        }
        catch (InvalidModelContentException e)
        {
            throw Keras3Errors.BadJson(format, source, e.Detail);
        }
    }

    private static JsonDocument Parse(byte[] bytes, string source, string format = Keras3ArchiveFormat.FormatName, ReaderLimits? limits = null)
    {
        try { return JsonDocument.Parse(bytes, IO.JsonDepth.Options(limits ?? ReaderLimits.Default)); }
        catch (JsonException e) { throw Keras3Errors.BadJson(format, source, e.Message); }
    }

    private static string Utf8(byte[] bytes, string source)
    {
        try { return new UTF8Encoding(false, true).GetString(bytes); }
        catch (DecoderFallbackException e) { throw Keras3Errors.BadJson(Keras3ArchiveFormat.FormatName, source, "not UTF-8: " + e.Message); }
    }
}
