using System.Text;
using WeightScope.Formats.Onnx.Proto;
using WeightScope.IO;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Formats.Onnx;

/// <summary>
/// Maps a parsed ModelProto into the uniform model. Tensors: the graph's initializers (by name), its sparse
/// initializers as <c>name.values</c> and <c>name.indices</c>, and the <c>value</c> of every Constant node (named by
/// the node's output); tensors of subgraphs (If/Loop/Scan bodies) are named <c>node/attribute/name</c>. The module tree
/// has one child per node, in graph order; each node's Parameters are the tensors among its inputs, keyed by their names.
/// </summary>
internal sealed class OnnxReader
{
    private const string ConstantOp = "Constant";
    private const string ConstantValueAttribute = "value";
    private const string DefaultDomain = "ai.onnx";
    private const char SubgraphSeparator = '/';

    private readonly OnnxTensorMapper _mapper;
    private readonly List<TensorEntry> _tensors = [];
    private readonly Dictionary<string, TensorEntry> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, object?> _metadata = new(StringComparer.Ordinal);
    private readonly ReaderLimits _limits;

    private OnnxReader(OnnxTensorMapper mapper, ReaderLimits limits)
    {
        _mapper = mapper;
        _limits = limits;
    }

    public static ModelFile Read(MappedFile file, string? path, ReaderLimits limits)
    {
        var model = OnnxParser.ParseModel(file);
        var index = OnnxRawDataIndex.ForModel(file.Span(0, (int)file.Length));
        var folder = path is null ? null : Path.GetDirectoryName(Path.GetFullPath(path));
        var external = folder is null ? null : new OnnxExternalData(folder);
        try
        {
            var reader = new OnnxReader(new OnnxTensorMapper(OnnxErrors.Format, file, index, external), limits);
            var root = reader.Map(model);
            var producer = (model.ProducerName + " " + model.ProducerVersion).Trim();
            var info = new ModelFormatInfo(OnnxErrors.Format, $"ir {model.IrVersion}", producer.Length == 0 ? null : producer);
            var m = new ModelFile(info, new TensorCollection(reader._tensors), root, reader._metadata, external?.Files, nameSeparator: SubgraphSeparator);
            foreach (var p in external?.Paths ?? []) m.AddSourceFile(p);
            return m;
        }
        catch
        {
            foreach (var f in external?.Files ?? []) f.Dispose();
            throw;
        }
    }

    private ModuleNode Map(ModelProto model)
    {
        if (model.HasIrVersion) _metadata["ir_version"] = model.IrVersion;
        if (model.OpsetImport.Count > 0)
        {
            var opsets = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
            foreach (var o in model.OpsetImport) opsets[o.Domain.Length == 0 ? DefaultDomain : o.Domain] = o.Version;
            _metadata["opset_import"] = opsets;
        }
        if (model.HasProducerName) _metadata["producer_name"] = model.ProducerName;
        if (model.HasProducerVersion) _metadata["producer_version"] = model.ProducerVersion;
        if (model.HasDomain) _metadata["domain"] = model.Domain;
        if (model.HasModelVersion) _metadata["model_version"] = model.ModelVersion;
        if (model.HasDocString) _metadata["doc_string"] = model.DocString;
        if (model.Graph?.HasName == true) _metadata["graph_name"] = model.Graph.Name;
        if (model.Graph?.HasDocString == true) _metadata["graph_doc_string"] = model.Graph.DocString;
        // metadata_props are the writer's own key/values; a key that clashes with a field above is kept under a prefix.
        foreach (var kv in model.MetadataProps)
            _metadata[_metadata.ContainsKey(kv.Key) ? "metadata_props/" + kv.Key : kv.Key] = kv.Value;

        var root = new ModuleNode("", "", "Graph") { QualifiedType = "onnx.GraphProto" };
        if (model.Graph is not null) MapGraph(model.Graph, root, "", "");
        return root;
    }

    // prefix: how this graph's tensors are named ("" for the main graph, "node/attr/" for a subgraph);
    // key: its place in the raw-data index.
    private void MapGraph(GraphProto graph, ModuleNode parent, string prefix, string key)
    {
        for (int i = 0; i < graph.Initializer.Count; i++)
        {
            var t = graph.Initializer[i];
            Add(_mapper.Map(t, prefix + t.Name, $"{key}i{i}"), prefix + t.Name);
        }
        for (int i = 0; i < graph.SparseInitializer.Count; i++)
        {
            var s = graph.SparseInitializer[i];
            var name = prefix + (s.Values?.Name ?? "");
            if (s.Values is not null) Add(_mapper.Map(s.Values, name + ".values", $"{key}s{i}v"), name + ".values");
            if (s.Indices is not null) Add(_mapper.Map(s.Indices, name + ".indices", $"{key}s{i}x"), name + ".indices");
            _metadata[name + ".dense_shape"] = s.Dims.Select(d => (object?)d).ToList();
        }

        var used = new HashSet<string>(StringComparer.Ordinal);
        for (int n = 0; n < graph.Node.Count; n++)
        {
            var node = graph.Node[n];
            var name = node.Name.Length > 0 ? node.Name : $"{node.OpType}_{n}";
            // Node names are optional and need not be unique; a repeated one gets its index appended.
            if (!used.Add(name)) name = $"{name}_{n}";
            used.Add(name);
            var path = parent.Path.Length == 0 ? name : parent.Path + SubgraphSeparator + name;
            var module = new ModuleNode(name, path, node.OpType)
            {
                QualifiedType = (node.Domain.Length == 0 ? DefaultDomain : node.Domain) + "." + node.OpType,
            };
            parent.Children.Add(module);
            MapNode(node, module, prefix, $"{key}n{n}");
        }
    }

    private void MapNode(NodeProto node, ModuleNode module, string prefix, string key)
    {
        for (int a = 0; a < node.Attribute.Count; a++)
        {
            var attr = node.Attribute[a];
            string akey = $"{key}a{a}";
            string tensorPrefix = module.Path + SubgraphSeparator + attr.Name + SubgraphSeparator;
            if (attr.T is not null)
            {
                // A Constant's value is named by the node's output, as the runtime will call it.
                bool constant = node.OpType == ConstantOp && attr.Name == ConstantValueAttribute && node.Output.Count > 0;
                var name = constant ? prefix + node.Output[0] : tensorPrefix.TrimEnd(SubgraphSeparator);
                var entry = Add(_mapper.Map(attr.T, name, akey), name);
                module.Parameters[attr.Name] = entry;
            }
            for (int k = 0; k < attr.Tensors.Count; k++)
                module.Parameters[$"{attr.Name}.{k}"] = Add(_mapper.Map(attr.Tensors[k], $"{tensorPrefix}{k}", $"{akey}t{k}"), $"{tensorPrefix}{k}");
            if (attr.G is not null)
            {
                var sub = Subgraph(module, attr.Name, attr.G);
                MapGraph(attr.G, sub, tensorPrefix, akey + "g/");
            }
            for (int k = 0; k < attr.Graphs.Count; k++)
            {
                var sub = Subgraph(module, $"{attr.Name}.{k}", attr.Graphs[k]);
                MapGraph(attr.Graphs[k], sub, $"{tensorPrefix}{k}{SubgraphSeparator}", $"{akey}g{k}/");
            }
            if (attr.SparseTensor is not null || attr.SparseTensors.Count > 0)
                module.Attributes[attr.Name] = new OpaqueObject("onnx.SparseTensorProto", [], null);
            else if (Value(attr) is var (present, value) && present)
                module.Attributes[attr.Name] = value;
        }
        // The tensors among the inputs: initializers (and earlier Constants) this node reads, under their own names.
        foreach (var input in node.Input)
            if (_byName.TryGetValue(prefix + input, out var t) || _byName.TryGetValue(input, out t))
                module.Parameters.TryAdd(input, t);
    }

    private static ModuleNode Subgraph(ModuleNode owner, string name, GraphProto g)
    {
        var sub = new ModuleNode(name, owner.Path + SubgraphSeparator + name, "Graph") { QualifiedType = "onnx.GraphProto" };
        owner.Children.Add(sub);
        return sub;
    }

    // Scalar and list attributes, by the attribute's declared type (or, for old writers that leave type unset, by the field filled).
    private static (bool Present, object? Value) Value(AttributeProto a)
    {
        var type = a.HasType ? a.Type : Infer(a);
        return type switch
        {
            AttributeProto.Types.AttributeType.Float => (true, (double)a.F),
            AttributeProto.Types.AttributeType.Int => (true, a.I),
            AttributeProto.Types.AttributeType.String => (true, Text(a.S)),
            AttributeProto.Types.AttributeType.Floats => (true, a.Floats.Select(f => (object?)(double)f).ToList()),
            AttributeProto.Types.AttributeType.Ints => (true, a.Ints.Select(i => (object?)i).ToList()),
            AttributeProto.Types.AttributeType.Strings => (true, a.Strings.Select(Text).ToList()),
            _ => (false, null),
        };
    }

    private static AttributeProto.Types.AttributeType Infer(AttributeProto a) =>
        a.HasF ? AttributeProto.Types.AttributeType.Float
        : a.HasI ? AttributeProto.Types.AttributeType.Int
        : a.HasS ? AttributeProto.Types.AttributeType.String
        : a.Floats.Count > 0 ? AttributeProto.Types.AttributeType.Floats
        : a.Ints.Count > 0 ? AttributeProto.Types.AttributeType.Ints
        : a.Strings.Count > 0 ? AttributeProto.Types.AttributeType.Strings
        : AttributeProto.Types.AttributeType.Undefined;

    private static object? Text(Google.Protobuf.ByteString s)
    {
        try { return new UTF8Encoding(false, true).GetString(s.Span); }
        catch (DecoderFallbackException) { return s.ToByteArray(); }
    }

    private TensorEntry? Add(OnnxTensorMapper.Result r, string name)
    {
        if (_byName.ContainsKey(name) || _metadata.ContainsKey(name)) throw OnnxErrors.DuplicateName(name);
        if (r.Strings is not null)
        {
            _metadata[name] = r.Strings;
            return null;
        }
        if (_tensors.Count >= _limits.MaxTensorCount)
            throw new ReaderLimitException(OnnxErrors.Format, nameof(ReaderLimits.MaxTensorCount), _tensors.Count + 1, _limits.MaxTensorCount);
        var t = r.Tensor!;
        _tensors.Add(t);
        _byName.Add(name, t);
        return t;
    }
}
