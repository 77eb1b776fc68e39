namespace WeightScope.Formats.Onnx;

/// <summary>
/// Where each TensorProto's <c>raw_data</c> lies in the file, found by walking the wire format along the same fields
/// the generated parser follows. Keys name a tensor by its place: <c>i3</c> (graph initializer 3), <c>s1v</c>/<c>s1x</c>
/// (sparse initializer 1's values/indices), <c>n4a0</c> (node 4, attribute 0, field <c>t</c>), <c>n4a0t2</c>
/// (its <c>tensors[2]</c>), <c>n4a0sv</c>/<c>n4a0sx</c> (its <c>sparse_tensor</c>'s values/indices: a Constant's
/// <c>sparse_value</c>), and <c>n4a0g/</c>, <c>n4a0g1/</c> before the keys of a subgraph. The reader uses an extent
/// only after checking its bytes equal the parsed <c>raw_data</c>, so a walk that disagrees with the parser (a message
/// field repeated and merged) costs a copy, never a wrong value.
/// </summary>
internal sealed class OnnxRawDataIndex
{
    // Field numbers from onnx.proto, in the messages walked.
    private const int ModelGraph = 7;
    private const int GraphNode = 1, GraphInitializer = 5, GraphSparseInitializer = 15;
    private const int NodeAttribute = 5;
    private const int AttributeT = 5, AttributeG = 6, AttributeTensors = 10, AttributeGraphs = 11, AttributeSparseTensor = 22;
    private const int SparseValues = 1, SparseIndices = 2;
    private const int TensorRawData = 9;

    private readonly Dictionary<string, (long Offset, int Length)> _extents = new(StringComparer.Ordinal);

    /// <summary>The extent of the <c>raw_data</c> of the tensor at <paramref name="key"/>, if the walk found one.</summary>
    public bool TryGet(string key, out long offset, out int length)
    {
        var found = _extents.TryGetValue(key, out var e);
        (offset, length) = e;
        return found;
    }

    /// <summary>Walks a ModelProto that has already parsed (so every length lies inside it and nesting is bounded).</summary>
    public static OnnxRawDataIndex ForModel(ReadOnlySpan<byte> model)
    {
        var index = new OnnxRawDataIndex();
        int pos = 0;
        while (pos < model.Length && OnnxWire.TryReadField(model, ref pos, out var f))
            if (f.Number == ModelGraph && f.WireType == OnnxWire.LengthDelimited) index.Graph(model, f, "");
        return index;
    }

    /// <summary>Walks a bare TensorProto (<c>input_0.pb</c>); its key is the empty string.</summary>
    public static OnnxRawDataIndex ForTensor(ReadOnlySpan<byte> tensor)
    {
        var index = new OnnxRawDataIndex();
        index.Tensor(tensor, 0, tensor.Length, "");
        return index;
    }

    private static bool Inside(ReadOnlySpan<byte> data, OnnxWire.Field f) =>
        f.WireType == OnnxWire.LengthDelimited && (long)f.PayloadStart + f.PayloadLength <= data.Length;

    // Counters continue across repeated occurrences of the graph field, as the parser merges them.
    private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);

    private int Next(string key)
    {
        _counters.TryGetValue(key, out int n);
        _counters[key] = n + 1;
        return n;
    }

    private void Graph(ReadOnlySpan<byte> data, OnnxWire.Field graph, string prefix)
    {
        if (!Inside(data, graph)) return;
        int pos = graph.PayloadStart, end = graph.PayloadStart + graph.PayloadLength;
        while (pos < end && OnnxWire.TryReadField(data[..end], ref pos, out var f))
        {
            if (!Inside(data, f)) continue;
            switch (f.Number)
            {
                case GraphNode: Node(data, f, $"{prefix}n{Next(prefix + "n")}"); break;
                case GraphInitializer: Tensor(data, f.PayloadStart, f.PayloadLength, $"{prefix}i{Next(prefix + "i")}"); break;
                case GraphSparseInitializer: Sparse(data, f, $"{prefix}s{Next(prefix + "s")}"); break;
            }
        }
    }

    private void Node(ReadOnlySpan<byte> data, OnnxWire.Field node, string key)
    {
        int pos = node.PayloadStart, end = node.PayloadStart + node.PayloadLength;
        while (pos < end && OnnxWire.TryReadField(data[..end], ref pos, out var f))
            if (f.Number == NodeAttribute && Inside(data, f)) Attribute(data, f, $"{key}a{Next(key + "a")}");
    }

    private void Attribute(ReadOnlySpan<byte> data, OnnxWire.Field attribute, string key)
    {
        int pos = attribute.PayloadStart, end = attribute.PayloadStart + attribute.PayloadLength;
        while (pos < end && OnnxWire.TryReadField(data[..end], ref pos, out var f))
        {
            if (!Inside(data, f)) continue;
            switch (f.Number)
            {
                case AttributeT: Tensor(data, f.PayloadStart, f.PayloadLength, key); break;
                case AttributeTensors: Tensor(data, f.PayloadStart, f.PayloadLength, $"{key}t{Next(key + "t")}"); break;
                case AttributeG: Graph(data, f, $"{key}g/"); break;
                case AttributeGraphs: Graph(data, f, $"{key}g{Next(key + "g")}/"); break;
                case AttributeSparseTensor: Sparse(data, f, key + "s"); break;
            }
        }
    }

    private void Sparse(ReadOnlySpan<byte> data, OnnxWire.Field sparse, string key)
    {
        int pos = sparse.PayloadStart, end = sparse.PayloadStart + sparse.PayloadLength;
        while (pos < end && OnnxWire.TryReadField(data[..end], ref pos, out var f))
        {
            if (!Inside(data, f)) continue;
            if (f.Number == SparseValues) Tensor(data, f.PayloadStart, f.PayloadLength, key + "v");
            else if (f.Number == SparseIndices) Tensor(data, f.PayloadStart, f.PayloadLength, key + "x");
        }
    }

    private void Tensor(ReadOnlySpan<byte> data, int start, int length, string key)
    {
        int pos = start, end = start + length;
        while (pos < end && OnnxWire.TryReadField(data[..end], ref pos, out var f))
            if (f.Number == TensorRawData && Inside(data[..end], f)) _extents[key] = (f.PayloadStart, f.PayloadLength); // the last one wins, as in the parser
    }
}
