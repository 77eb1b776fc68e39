using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.Onnx;

/// <summary>
/// ONNX models (<c>.onnx</c>): a protobuf ModelProto. ONNX has no magic bytes; the detector reads the header field by
/// field and accepts it when every field is a ModelProto field with the right wire type and the first is a sane
/// <c>ir_version</c> (or, for a <c>.onnx</c> file, a graph/opset_import field appears). It runs after every
/// magic-byte format.
/// </summary>
internal sealed class OnnxFormat : IModelFormat
{
    /// <inheritdoc />
    public string Name => OnnxErrors.Format;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".onnx"];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context) =>
        context.File is not null && context.Zip is null && OnnxParser.LooksLikeModel(context.Header.Span, context.Path);

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options) =>
        OnnxReader.Read(context.File!, context.Path, options);
}

/// <summary>
/// A bare serialized TensorProto, as ONNX's backend tests store inputs and outputs (<c>test_data_set_0/input_0.pb</c>):
/// one tensor, named by its <c>name</c> field or else by the file's name. Detected only for <c>.pb</c> files whose
/// every field is a TensorProto field with a data_type, so a TensorFlow <c>saved_model.pb</c> is not taken.
/// </summary>
internal sealed class OnnxTensorFormat : IModelFormat
{
    private const string Extension = ".pb";

    /// <inheritdoc />
    public string Name => OnnxErrors.TensorFormat;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [Extension];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context) =>
        context.File is { } f && context.Zip is null && f.Length <= int.MaxValue
        && context.Path?.EndsWith(Extension, StringComparison.OrdinalIgnoreCase) == true
        && OnnxParser.LooksLikeTensor(f.Span(0, (int)f.Length));

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        var file = context.File!;
        var proto = OnnxParser.ParseTensor(file);
        var name = proto.Name.Length > 0 ? proto.Name : Path.GetFileNameWithoutExtension(context.Path ?? "tensor");
        var mapper = new OnnxTensorMapper(OnnxErrors.TensorFormat, file, OnnxRawDataIndex.ForTensor(file.Span(0, (int)file.Length)), null);
        var result = mapper.Map(proto, name, "");
        var metadata = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (result.Strings is not null) metadata[name] = result.Strings;
        // A data type this reader does not know: the file opens, empty, and says why (as a model notes such a tensor).
        if (result.Unsupported is { } why) metadata[OnnxReader.UnsupportedPrefix + name] = why;
        var tensors = new TensorCollection(result.Tensor is null ? [] : [result.Tensor]);
        return new ModelFile(new ModelFormatInfo(OnnxErrors.TensorFormat), tensors, null, metadata);
    }
}
