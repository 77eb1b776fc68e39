using WeightScope.Formats.TensorFlow.Bundle;
using WeightScope.Formats.TensorFlow.Proto;
using WeightScope.Formats.TensorFlow.V1;
using WeightScope.Tensors;

namespace WeightScope.Formats.TensorFlow.SavedModel;

/// <summary>
/// A SavedModel without a <c>variables/</c> folder: whatever weights it has are <c>Const</c> nodes of its graph (a
/// frozen graph exported as a SavedModel). Each <c>Const</c> of the top-level <c>GraphDef</c> is listed under its node
/// name with the value of its <c>value</c> attribute (string constants go to Metadata). Variables declared in the graph
/// (<c>VariableV2</c>, <c>VarHandleOp</c>…) have no saved value; they are listed in the metadata entry
/// <c>graph_variables</c> with their dtype and shape, so an empty listing is explained.
/// </summary>
internal static class GraphConstants
{
    private static readonly HashSet<string> VariableOps = new(StringComparer.Ordinal) { "VariableV2", "Variable", "VarHandleOp" };

    /// <summary>The constants of <paramref name="graph"/>, read from <paramref name="graphPath"/>, as a model of format <paramref name="format"/>.</summary>
    public static ModelFile Read(SavedModelGraph graph, string graphPath, ReaderLimits limits, string format = TfSavedModelFormat.FormatName)
    {
        var tensors = new List<TensorEntry>();
        var metadata = new Dictionary<string, object?>(StringComparer.Ordinal);
        graph.AddMetadata(metadata);
        var declared = new List<object?>();
        long total = 0;
        var nodes = graph.Meta.GraphDef?.Node ?? [];
        foreach (var node in nodes)
        {
            if (VariableOps.Contains(node.Op))
            {
                declared.Add($"{node.Name} {DescribeType(node)}");
                continue;
            }
            if (node.Op != "Const" || !node.Attr.TryGetValue("value", out var value) || value.ValueCase != AttrValue.ValueOneofCase.Tensor) continue;
            if (tensors.Count >= limits.MaxTensorCount)
                throw new ReaderLimitException(format, nameof(ReaderLimits.MaxTensorCount), tensors.Count + 1, limits.MaxTensorCount, null, node.Name);
            var proto = value.Tensor;
            if (!TfDataType.IsDefined(proto.Dtype)) throw Bad(format, node.Name, $"undefined DataType {(int)proto.Dtype}", graphPath);
            var shape = ReadShape(format, node.Name, proto.TensorShape, graphPath);
            if (proto.Dtype == DataType.DtString)
            {
                var strings = proto.StringVal.Select(b => (object?)TfKeys.TextOrBytes(b.Span)).ToList();
                metadata[node.Name] = shape.Rank == 0 && strings.Count == 1 ? strings[0] : strings;
                continue;
            }
            if (TfDataType.ToDType(proto.Dtype) is not { } dtype) continue; // resource/variant/quantized constants are graph plumbing, not weights
            long bytes;
            try { bytes = checked(shape.ElementCount * dtype.ItemSize()); }
            catch (OverflowException) { throw Bad(format, node.Name, "the product of its dimensions overflows int64", graphPath); }
            // A constant may list one value for any shape (tf.zeros): its expanded size is what the limit bounds.
            total += bytes;
            if (total > limits.MaxHeaderBytes)
                throw new ReaderLimitException(format, nameof(ReaderLimits.MaxHeaderBytes), total, limits.MaxHeaderBytes, null, node.Name);
            byte[] data;
            try { data = SliceCheckpointReader.Values(node.Name, proto.Dtype, dtype, proto, shape, 0, broadcast: true); }
            catch (ModelFormatException e) { throw Bad(format, node.Name, e.Message, graphPath); }
            tensors.Add(new TensorEntry(node.Name, dtype, shape, new ArrayStorage(data, node.Name), role: TensorRole.Other));
        }
        if (declared.Count > 0) metadata["graph_variables"] = declared;
        var info = new ModelFormatInfo(format, graph.TensorFlowVersion is { } v ? $"TF {v}" : null,
            format == TfSavedModelFormat.FormatName ? "graph only: Const nodes, no variables/" : "graph only: Const nodes");
        var model = new ModelFile(info, new TensorCollection(tensors), null, metadata, nameSeparator: '/');
        model.AddSourceFile(graphPath);
        return model;
    }

    private static string DescribeType(NodeDef node)
    {
        string dtype = node.Attr.TryGetValue("dtype", out var d) && d.ValueCase == AttrValue.ValueOneofCase.Type
            ? TfDataType.ToDType(d.Type)?.Name() ?? TfDataType.Name(d.Type) : "?";
        string shape = node.Attr.TryGetValue("shape", out var s) && s.ValueCase == AttrValue.ValueOneofCase.Shape && !s.Shape.UnknownRank
            ? $"[{string.Join(", ", s.Shape.Dim.Select(x => x.Size))}]" : "[?]";
        return $"{dtype}{shape}";
    }

    private static Shape ReadShape(string format, string name, TensorShapeProto? proto, string graphPath)
    {
        if (proto is null) return new Shape([]);
        if (proto.UnknownRank) throw Bad(format, name, "a constant with unknown rank", graphPath);
        var dims = proto.Dim.Select(d => d.Size).ToArray();
        if (dims.Any(x => x < 0)) throw Bad(format, name, "a constant with a negative dimension", graphPath);
        try { return new Shape(dims); }
        catch (OverflowException) { throw Bad(format, name, "the product of its dimensions overflows int64", graphPath); }
    }

    private static InvalidModelContentException Bad(string format, string node, string why, string graphPath) =>
        new(format, $"Const node '{node}' in {Path.GetFileName(graphPath)}: {why}", null, node) { FilePath = graphPath };
}
