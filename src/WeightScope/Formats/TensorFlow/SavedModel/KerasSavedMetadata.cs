using System.Text.Json;
using Google.Protobuf;
using WeightScope.Formats.Keras;
using WeightScope.Formats.TensorFlow.Proto;

namespace WeightScope.Formats.TensorFlow.SavedModel;

/// <summary>
/// The Keras side of a tf.keras SavedModel (<c>model.save(path)</c> in TF 2.x before Keras 3): <c>keras_metadata.pb</c>
/// (keras <c>protobuf/saved_metadata.proto</c>), one <c>SavedObject</c> per Keras object with a JSON <c>metadata</c>
/// string. The root's (<c>node_path</c> "root") JSON has the model's <c>class_name</c> and <c>config</c>, the same
/// config <c>model.to_json()</c> gives, plus <c>keras_version</c> and <c>backend</c>. TF 2.0–2.4 kept the same JSON in
/// the root's <c>SavedUserObject.metadata</c> instead (<see cref="SavedModelGraph.RootKerasMetadata"/>).
/// </summary>
internal static class KerasSavedMetadata
{
    /// <summary>The file name inside a SavedModel folder.</summary>
    public const string FileName = "keras_metadata.pb";

    /// <summary>The root object's metadata JSON from <paramref name="path"/>; null when it has no root entry.</summary>
    public static string? ReadRoot(string path, ReaderLimits limits)
    {
        long length = new FileInfo(path).Length;
        if (length > limits.MaxHeaderBytes)
            throw new ReaderLimitException(TfSavedModelFormat.FormatName, nameof(ReaderLimits.MaxHeaderBytes), length, limits.MaxHeaderBytes, 0, FileName);
        try
        {
            using var file = File.OpenRead(path);
            var proto = KerasSavedMetadataProto.Parser.ParseFrom(CodedInputStream.CreateWithLimits(file, (int)Math.Max(1, length), 8));
            var root = proto.Nodes.FirstOrDefault(n => n.NodePath == "root") ?? proto.Nodes.FirstOrDefault(n => n.NodeId == 0);
            return root?.Metadata is { Length: > 0 } json ? json : null;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidModelContentException(TfSavedModelFormat.FormatName, $"{FileName} is not a Keras SavedMetadata protobuf: {e.Message}", null, FileName, e)
                { FilePath = path };
        }
    }

    /// <summary>The model config in a root metadata JSON, with its <c>keras_version</c> and <c>backend</c> as metadata; null when it is not a model.</summary>
    public static KerasLayer? ModelConfig(string json, string source, ReaderLimits limits, Dictionary<string, object?> metadata)
    {
        IO.JsonDepth.Check(json, limits, TfSavedModelFormat.FormatName, source);
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = Math.Min(limits.MaxNestingDepth, 256) });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("class_name", out _) || !root.TryGetProperty("config", out _)) return null;
            foreach (var key in new[] { "keras_version", "backend" })
                if (root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String) metadata[key] = v.GetString();
            return KerasConfig.Parse(root.GetRawText(), limits);
        }
        catch (JsonException e)
        {
            throw new InvalidModelContentException(TfSavedModelFormat.FormatName, $"the Keras metadata in {source} is not JSON: {e.Message}", null, source, e);
        }
        catch (ModelFormatException e) when (e is not InvalidModelContentException { Format: TfSavedModelFormat.FormatName })
        {
            throw new InvalidModelContentException(TfSavedModelFormat.FormatName, $"the Keras metadata in {source} is not a Keras model config: {e.Message}", null, source, e);
        }
    }
}
