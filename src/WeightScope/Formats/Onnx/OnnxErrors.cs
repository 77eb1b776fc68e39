namespace WeightScope.Formats.Onnx;

/// <summary>Every ONNX error message, in one place: what was expected, what was found, where, and what to do.</summary>
internal static class OnnxErrors
{
    public const string Format = "onnx";
    public const string TensorFormat = "onnx-tensor";

    public static ModelFormatException NotProtobuf(string format, string message, long? offset, Exception inner) =>
        new InvalidModelContentException(format, $"the protobuf message does not parse: {message}; the file is truncated or corrupt", offset, null, inner);

    public static ModelFormatException TooLarge(string format, long length) =>
        new InvalidModelContentException(format,
            $"the file is {length} bytes but a protobuf message is at most 2 GiB; large ONNX models keep their weights as external data " +
            "(onnx.save_model(..., save_as_external_data=True))", 0);

    public static ModelFormatException NegativeDim(string format, string tensor, long dim) =>
        new InvalidModelContentException(format, $"tensor '{tensor}' has dimension {dim}; dimensions must be zero or positive", null, tensor);

    public static ModelFormatException TooManyElements(string format, string tensor) =>
        new InvalidModelContentException(format, $"tensor '{tensor}': the product of its dimensions overflows 64 bits", null, tensor);

    public static ModelFormatException UndefinedType(string format, string tensor) =>
        new InvalidModelContentException(format, $"tensor '{tensor}' has data_type 0 (UNDEFINED); a tensor needs an element type", null, tensor);

    /// <summary>Why one tensor's values are not read (kept in Metadata under <c>unsupported:&lt;name&gt;</c>; the file still opens).</summary>
    public static string UnknownType(string tensor, int dataType, Tensors.Shape shape) =>
        $"tensor '{tensor}' {shape} has {OnnxDataTypes.Name(dataType)}: this reader knows onnx.proto's data types " +
        $"1–{OnnxDataTypes.LastKnown} (through INT2), so its values are not read; the other tensors are";

    public static ModelFormatException Segmented(string format, string tensor) =>
        new UnsupportedModelFeatureException(format, $"tensor '{tensor}' is a segment of a larger tensor (TensorProto.segment)", null, tensor);

    public static ModelFormatException RawSizeMismatch(string format, string tensor, long bytes, long elements, int itemSize, long? offset) =>
        new InvalidModelContentException(format,
            $"tensor '{tensor}' has {bytes} bytes of raw_data but its dims hold {elements} elements of {itemSize} bytes ({elements * (long)itemSize} bytes)",
            offset, tensor);

    public static ModelFormatException PackedSizeMismatch(string format, string tensor, string field, long bytes, long elements, long expected, long? offset) =>
        new InvalidModelContentException(format,
            $"tensor '{tensor}' has {bytes} bytes in {field} but its dims hold {elements} elements, stored in {expected} bytes", offset, tensor);

    public static ModelFormatException PackedValueOutOfRange(string format, string tensor, int index, int value) =>
        new InvalidModelContentException(format,
            $"tensor '{tensor}': int32_data[{index}] is {value}, but each value of this type holds one stored byte (0–255)", null, tensor);

    public static ModelFormatException TypedCountMismatch(string format, string tensor, string field, long values, long expected) =>
        new InvalidModelContentException(format,
            $"tensor '{tensor}' has {values} values in {field} but its dims call for {expected}", null, tensor);

    public static ModelFormatException NoData(string format, string tensor, long elements, string field) =>
        new InvalidModelContentException(format,
            $"tensor '{tensor}' has {elements} elements but neither raw_data nor {field} holds any value", null, tensor);

    public static ModelFormatException WrongTypedField(string format, string tensor, string typeName, string field) =>
        new InvalidModelContentException(format,
            $"tensor '{tensor}' of type {typeName} keeps values in {field}, which the specification does not allow for that type", null, tensor);

    /// <summary>
    /// The note for a value name defined more than once in one graph: every definition and how it is listed, which
    /// definition a node reads, what onnxruntime does with such a graph (onnxruntime/core/graph/graph.cc: Constant
    /// nodes and sparse initializers become initializers after the graph's own; a repeated initializer name is a warning
    /// and the last one is used; a node output that repeats any name, or two sparse values with one name, fail the load)
    /// and that onnx.checker refuses it.
    /// </summary>
    public static string NameClash(string what, IReadOnlyList<OnnxDefinition> definitions)
    {
        var listed = string.Join("; ", definitions.Select(d => $"{d.Where} → {d.ListedText}"));
        string runtime;
        if (definitions.Any(d => d.Kind == OnnxDefinitionKind.Computed))
            runtime = "onnxruntime refuses the model ('Duplicate definition of name')";
        else if (definitions.Count(d => d.Kind is OnnxDefinitionKind.SparseInitializer or OnnxDefinitionKind.SparseConstant) > 1)
            runtime = "onnxruntime refuses the model (a duplicate sparse initializer)";
        else
        {
            // onnxruntime's order: the graph's initializers, then Constant nodes in node order, then sparse initializers.
            var last = definitions.Select((d, i) => (d, i))
                .OrderBy(x => x.d.Kind switch { OnnxDefinitionKind.Initializer => 0, OnnxDefinitionKind.SparseInitializer => 2, _ => 1 })
                .ThenBy(x => x.i).Last().d;
            runtime = $"onnxruntime loads it and gives every node the value of {last.Where}";
        }
        return $"{what} is defined {definitions.Count} times: {listed}. Each node reads the latest definition before it " +
               $"(the module tree's Parameters follow that); {runtime}; onnx.checker refuses the graph (names must be unique).";
    }

    /// <summary>The note for a subgraph name that hides a name of an enclosing graph.</summary>
    public static string Shadows(string name, OnnxDefinition inner, OnnxDefinition outer) =>
        $"'{name}' of {inner.Scope!.Label} ({inner.Where} → {inner.ListedText}) shadows '{name}' of {outer.Scope!.Label} " +
        $"({outer.Where} → {outer.ListedText}); the subgraph's nodes after it read the subgraph's own; onnx.checker refuses shadowing.";

    /// <summary>Why a Constant's value is not listed: its attribute lacks the field that holds the value.</summary>
    public static string ConstantWithoutValue(string where, string attribute) =>
        $"{where}: attribute '{attribute}' holds no value (its value field is absent); onnx.checker refuses it and " +
        "onnxruntime would read the field's default, which is not in the file, so it is not listed";

    /// <summary>The note for a tensor whose wanted name already belongs to another tensor.</summary>
    public static string NameTaken(string wanted, string where, string listed, string owner) =>
        $"'{wanted}' already names {owner}, so {where} is listed as '{listed}'.";

    public static ModelFormatException ExternalWithoutFolder(string tensor) =>
        new UnsupportedModelFeatureException(Format,
            $"tensor '{tensor}' keeps its data in an external file, which cannot be found for a model opened from a stream or for a bare TensorProto file; open the model (.onnx) by path",
            null, tensor);

    public static ModelFormatException ExternalMissingKey(string tensor, string key) =>
        new InvalidModelContentException(Format, $"tensor '{tensor}' has data_location EXTERNAL but no '{key}' in external_data", null, tensor);

    public static ModelFormatException ExternalBadNumber(string tensor, string key, string value) =>
        new InvalidModelContentException(Format, $"tensor '{tensor}': external_data '{key}' is '{value}', expected a non-negative integer", null, tensor);

    public static ModelFormatException ExternalEscapes(string tensor, string location, string why) =>
        new InvalidModelContentException(Format,
            $"tensor '{tensor}': external data location '{location}' {why}; onnx only reads external data from the model's folder " +
            "(onnx.checker refuses such paths too). Move the data file next to the model and fix the location, or pass --allow-external-paths " +
            "(ReaderOptions.AllowExternalPaths) for a trusted file", null, tensor);

    public static ModelFormatException ExternalMissing(string tensor, string path) =>
        new InvalidModelContentException(Format,
            $"tensor '{tensor}': the external data file '{path}' does not exist; copy it next to the model", null, tensor);

    public static ModelFormatException ExternalBeyondFile(string tensor, string path, long offset, long length, long fileLength) =>
        new InvalidModelContentException(Format,
            $"tensor '{tensor}': external data at offset {offset}, length {length} runs past the end of '{path}' ({fileLength} bytes): " +
            "the data file is truncated or belongs to another model", offset, tensor);

    public static ModelFormatException ExternalString(string tensor) =>
        new UnsupportedModelFeatureException(Format, $"string tensor '{tensor}' with external data (onnx never writes this)", null, tensor);

    public static ModelFormatException NotATensor(string message) =>
        new InvalidModelContentException(TensorFormat, message, 0);
}
