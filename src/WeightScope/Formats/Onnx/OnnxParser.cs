using System.Text.Unicode;
using Google.Protobuf;
using WeightScope.Formats.Onnx.Proto;
using WeightScope.IO;

namespace WeightScope.Formats.Onnx;

/// <summary>
/// Parses a mapped file as a ModelProto or a bare TensorProto with the generated protobuf code: nesting held to
/// protobuf's default recursion limit (100; deeper subgraphs are refused), lengths checked against the bytes present,
/// fields this reader does not map skipped unread. Also the cheap header checks the detectors use.
/// </summary>
internal static class OnnxParser
{
    // ModelProto field numbers and the wire type each must have (onnx.proto); anything else means "not a model".
    private static readonly Dictionary<int, int> ModelFields = new()
    {
        [1] = OnnxWire.Varint,           // ir_version
        [2] = OnnxWire.LengthDelimited,  // producer_name
        [3] = OnnxWire.LengthDelimited,  // producer_version
        [4] = OnnxWire.LengthDelimited,  // domain
        [5] = OnnxWire.Varint,           // model_version
        [6] = OnnxWire.LengthDelimited,  // doc_string
        [7] = OnnxWire.LengthDelimited,  // graph
        [8] = OnnxWire.LengthDelimited,  // opset_import
        [14] = OnnxWire.LengthDelimited, // metadata_props
        [20] = OnnxWire.LengthDelimited, // training_info
        [25] = OnnxWire.LengthDelimited, // functions
    };

    // TensorProto field numbers; repeated numeric fields may be packed (length-delimited) or not.
    private static readonly Dictionary<int, int[]> TensorFields = new()
    {
        [1] = [OnnxWire.Varint, OnnxWire.LengthDelimited],  // dims
        [2] = [OnnxWire.Varint],                            // data_type
        [3] = [OnnxWire.LengthDelimited],                   // segment
        [4] = [OnnxWire.Fixed32, OnnxWire.LengthDelimited], // float_data
        [5] = [OnnxWire.Varint, OnnxWire.LengthDelimited],  // int32_data
        [6] = [OnnxWire.LengthDelimited],                   // string_data
        [7] = [OnnxWire.Varint, OnnxWire.LengthDelimited],  // int64_data
        [8] = [OnnxWire.LengthDelimited],                   // name
        [9] = [OnnxWire.LengthDelimited],                   // raw_data
        [10] = [OnnxWire.Fixed64, OnnxWire.LengthDelimited],// double_data
        [11] = [OnnxWire.Varint, OnnxWire.LengthDelimited], // uint64_data
        [12] = [OnnxWire.LengthDelimited],                  // doc_string
        [13] = [OnnxWire.LengthDelimited],                  // external_data
        [14] = [OnnxWire.Varint],                           // data_location
        [16] = [OnnxWire.LengthDelimited],                  // metadata_props (onnx 1.16)
    };

    private const int IrVersionField = 1, ProducerNameField = 2, ProducerVersionField = 3, DomainField = 4, DocStringField = 6;
    private const int GraphField = 7, OpsetImportField = 8;
    private const int DataTypeField = 2;
    /// <summary>Highest IR version accepted by the detector; onnx 1.18 writes 11, so this leaves room.</summary>
    private const ulong MaxIrVersion = 100;

    /// <summary>
    /// True when the header reads as the start of a ModelProto: every field a ModelProto field with its wire type, every
    /// string field that ends inside the header valid UTF-8, and either the first field a sane <c>ir_version</c> (every
    /// writer puts it first) followed within the header by the graph or opset_import, or the file named <c>.onnx</c>.
    /// The graph requirement keeps out other protobufs that happen to start with a small field 1 and a field 2 (a
    /// TensorFlow SavedModel: schema version 1, then meta_graphs). Length-delimited fields are skipped, so one field
    /// may run past the header; a length past the end of the file is left for the parser to report as truncation.
    /// </summary>
    public static bool LooksLikeModel(ReadOnlySpan<byte> header, string? path)
    {
        int pos = 0, fields = 0;
        bool irFirst = false, graphOrOpset = false;
        while (pos < header.Length)
        {
            if (!OnnxWire.TryReadField(header, ref pos, out var f)) return false;
            if (!ModelFields.TryGetValue(f.Number, out int wire) || wire != f.WireType) return false;
            if (fields++ == 0) irFirst = f.Number == IrVersionField && f.Value is >= 1 and <= MaxIrVersion;
            graphOrOpset |= f.Number is GraphField or OpsetImportField;
            if (f.Number is ProducerNameField or ProducerVersionField or DomainField or DocStringField
                && pos <= header.Length && !Utf8.IsValid(header.Slice(f.PayloadStart, f.PayloadLength)))
                return false;
        }
        if (fields == 0) return false;
        return (irFirst && graphOrOpset) || (path is not null && path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// True when the whole file reads as a TensorProto field by field, ending exactly at its end, with a data_type
    /// (any positive int32: a type this reader does not know still names the file's one tensor, whose values are then
    /// refused). Only tried for files named <c>.pb</c> (ONNX test data); the walk touches tags, never payloads.
    /// </summary>
    public static bool LooksLikeTensor(ReadOnlySpan<byte> file)
    {
        int pos = 0;
        bool hasType = false;
        while (pos < file.Length)
        {
            if (!OnnxWire.TryReadField(file, ref pos, out var f)) return false;
            if (!TensorFields.TryGetValue(f.Number, out var wires) || Array.IndexOf(wires, f.WireType) < 0) return false;
            if (pos > file.Length) return false;
            if (f.Number == DataTypeField)
            {
                if (f.Value is 0 or > int.MaxValue) return false; // UNDEFINED, or a negative int32
                hasType = true;
            }
        }
        return hasType;
    }

    public static ModelProto ParseModel(MappedFile file) => Parse(file, ModelProto.Parser, OnnxErrors.Format);

    public static TensorProto ParseTensor(MappedFile file) => Parse(file, TensorProto.Parser, OnnxErrors.TensorFormat);

    // The span parser does not say where it stopped; on the error path only, parse again from a stream over the same
    // mapping, whose position at the failure is the offset to report.
    private static long? FailureOffset<T>(MappedFile file, MessageParser<T> parser) where T : IMessage<T>
    {
        using var stream = file.OpenRange(0, file.Length);
        var input = new CodedInputStream(stream);
        try
        {
            parser.WithDiscardUnknownFields(true).ParseFrom(input);
            return null;
        }
        catch (InvalidProtocolBufferException)
        {
            return input.Position;
        }
    }

    private static T Parse<T>(MappedFile file, MessageParser<T> parser, string format) where T : IMessage<T>
    {
        if (file.Length > int.MaxValue) throw OnnxErrors.TooLarge(format, file.Length);
        try
        {
            return parser.WithDiscardUnknownFields(true).ParseFrom(file.Span(0, (int)file.Length));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw OnnxErrors.NotProtobuf(format, e.Message, FailureOffset(file, parser), e);
        }
    }
}
