using System.Text;
using WeightScope.Formats.Onnx.Proto;
using WeightScope.IO;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Formats.Onnx;

/// <summary>
/// Maps a parsed ModelProto into the uniform model. Tensors: the graph's initializers (by name), its sparse
/// initializers as <c>name.values</c> and <c>name.indices</c>, and the value of every Constant node (named by the
/// node's output); tensors of subgraphs (If/Loop/Scan bodies) are named <c>node/attribute/name</c>. A name defined
/// twice in one graph (which onnx.load accepts and real exporters write) keeps its first definition; later ones are
/// listed as <c>name~2</c>… and noted in Metadata (<see cref="OnnxNameTable"/>). The module tree has one child per
/// node, in graph order; each node's Parameters are the tensors its inputs name at that point of the graph.
/// </summary>
internal sealed class OnnxReader
{
    private const string ConstantOp = "Constant";
    private const string DefaultDomain = "ai.onnx";
    private const char SubgraphSeparator = '/';
    private const string MainGraphLabel = "the main graph";

    /// <summary>Metadata key prefix of a tensor whose values are not read (as npz notes its unread members).</summary>
    public const string UnsupportedPrefix = ModelFile.UnsupportedKeyPrefix;

    private readonly OnnxTensorMapper _mapper;
    private readonly List<TensorEntry> _tensors = [];
    private readonly Dictionary<string, object?> _metadata = new(StringComparer.Ordinal);
    private readonly OnnxNameTable _names = new();
    private readonly ReaderLimits _limits;

    private OnnxReader(OnnxTensorMapper mapper, ReaderLimits limits)
    {
        _mapper = mapper;
        _limits = limits;
    }

    public static ModelFile Read(MappedFile file, string? path, ReaderOptions options)
    {
        var limits = options.Limits;
        var model = OnnxParser.ParseModel(file);
        var index = OnnxRawDataIndex.ForModel(file.Span(0, (int)file.Length));
        var folder = path is null ? null : Path.GetDirectoryName(Path.GetFullPath(path));
        var external = folder is null ? null : new OnnxExternalData(folder, options.AllowExternalPaths);
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
        if (model.Graph is not null) MapGraph(model.Graph, root, new OnnxScope(null, "", MainGraphLabel), "");
        foreach (var (key, note) in _names.Notes()) _metadata.TryAdd(key, note);
        return root;
    }

    // key: the graph's place in the raw-data index.
    private void MapGraph(GraphProto graph, ModuleNode parent, OnnxScope scope, string key)
    {
        Reserve(graph, scope.Prefix);
        for (int i = 0; i < graph.Initializer.Count; i++)
        {
            var t = graph.Initializer[i];
            string entryKey = $"{key}i{i}";
            DefineTensor(scope, t.Name, new OnnxDefinition(OnnxDefinitionKind.Initializer, i), listed => _mapper.Map(t, listed, entryKey));
        }
        for (int i = 0; i < graph.SparseInitializer.Count; i++)
            DefineSparse(scope, graph.SparseInitializer[i], graph.SparseInitializer[i].Values?.Name ?? "",
                new OnnxDefinition(OnnxDefinitionKind.SparseInitializer, i), $"{key}s{i}");

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
            MapNode(node, n, module, scope, $"{key}n{n}");
        }
    }

    // Every value name the graph uses, as its tensors would be listed, so no "name~k" takes one of them.
    private void Reserve(GraphProto graph, string prefix)
    {
        foreach (var t in graph.Initializer) _names.Reserve(prefix + t.Name);
        foreach (var s in graph.SparseInitializer) _names.Reserve(prefix + (s.Values?.Name ?? ""));
        foreach (var node in graph.Node)
        {
            foreach (var i in node.Input) _names.Reserve(prefix + i);
            foreach (var o in node.Output) _names.Reserve(prefix + o);
        }
    }

    private void MapNode(NodeProto node, int index, ModuleNode module, OnnxScope scope, string key)
    {
        bool isConstant = node.OpType == ConstantOp && node.Domain is "" or DefaultDomain;
        bool multiOutput = node.Output.Count > 1;
        bool defined = false;
        for (int a = 0; a < node.Attribute.Count; a++)
        {
            var attr = node.Attribute[a];
            string akey = $"{key}a{a}";
            string tensorPrefix = module.Path + SubgraphSeparator + attr.Name + SubgraphSeparator;
            // A Constant's value is named by the node's output, as the graph calls it, whichever attribute holds it.
            if (isConstant && !defined && node.Output.Count > 0 && node.Output[0].Length > 0 && OnnxConstants.Value(attr) is { } value)
            {
                defined = true;
                if (value.Sparse is { } sparse)
                {
                    var definition = new OnnxDefinition(OnnxDefinitionKind.SparseConstant, index, module, 0, multiOutput);
                    foreach (var (suffix, t) in DefineSparse(scope, sparse, node.Output[0], definition, akey + "s"))
                        module.Parameters[attr.Name + suffix] = t;
                }
                else if (DefineTensor(scope, node.Output[0], new OnnxDefinition(OnnxDefinitionKind.Constant, index, module, 0, multiOutput),
                             listed => _mapper.Map(value.Dense!, listed, akey)) is { } t)
                    module.Parameters[attr.Name] = t;
            }
            else if (isConstant && !defined && OnnxConstants.ValueAttributes.Contains(attr.Name) && attr.T is null && node.Output.Count > 0)
            {
                // onnxruntime would read the field's default (0, ""); that is no value of the file, so it is not listed.
                var where = new OnnxDefinition(OnnxDefinitionKind.Constant, index, module, 0, multiOutput).Where;
                _metadata.TryAdd(UnsupportedPrefix + scope.Prefix + node.Output[0], OnnxErrors.ConstantWithoutValue(where, attr.Name));
            }
            else if (attr.T is not null)
            {
                if (AttributeTensor(attr.T, tensorPrefix.TrimEnd(SubgraphSeparator), new OnnxDefinition(OnnxDefinitionKind.Attribute, index, module, attribute: attr.Name), akey) is { } t)
                    module.Parameters[attr.Name] = t;
            }
            for (int k = 0; k < attr.Tensors.Count; k++)
                if (AttributeTensor(attr.Tensors[k], $"{tensorPrefix}{k}", new OnnxDefinition(OnnxDefinitionKind.Attribute, index, module, attribute: $"{attr.Name}[{k}]"), $"{akey}t{k}") is { } t)
                    module.Parameters[$"{attr.Name}.{k}"] = t;
            if (attr.G is not null)
            {
                var sub = Subgraph(module, attr.Name, attr.G);
                MapGraph(attr.G, sub, new OnnxScope(scope, tensorPrefix, $"subgraph '{sub.Path}'"), akey + "g/");
            }
            for (int k = 0; k < attr.Graphs.Count; k++)
            {
                var sub = Subgraph(module, $"{attr.Name}.{k}", attr.Graphs[k]);
                MapGraph(attr.Graphs[k], sub, new OnnxScope(scope, $"{tensorPrefix}{k}{SubgraphSeparator}", $"subgraph '{sub.Path}'"), $"{akey}g{k}/");
            }
            if (attr.SparseTensor is not null || attr.SparseTensors.Count > 0)
                module.Attributes[attr.Name] = new OpaqueObject("onnx.SparseTensorProto", [], null);
            else if (Value(attr) is var (present, v) && present)
                module.Attributes[attr.Name] = v;
        }
        // The tensors among the inputs: what each input names at this point of the graph (an initializer, an earlier
        // Constant's value, or an enclosing graph's), under the input's own name.
        foreach (var input in node.Input)
            if (scope.Resolve(input)?.Tensor is { } t)
                module.Parameters.TryAdd(input, t);
        // The node's other outputs are computed: they hide any tensor of the same name for the nodes after it.
        for (int k = defined ? 1 : 0; k < node.Output.Count; k++)
            if (node.Output[k].Length > 0)
                Bind(scope, node.Output[k], new OnnxDefinition(OnnxDefinitionKind.Computed, index, module, k, multiOutput));
    }

    // A tensor that defines a value name of the graph: listed under that name, or name~k when it is taken.
    private TensorEntry? DefineTensor(OnnxScope scope, string name, OnnxDefinition definition, Func<string, OnnxTensorMapper.Result> map)
    {
        definition.Listed = Allocate(scope, name, definition, []);
        Add(map(definition.Listed), definition);
        Bind(scope, name, definition);
        return definition.Tensor;
    }

    // A sparse value: listed as <name>.values and <name>.indices (the stored pair) with <name>.dense_shape in Metadata.
    private List<(string Suffix, TensorEntry Tensor)> DefineSparse(OnnxScope scope, SparseTensorProto s, string name, OnnxDefinition definition, string key)
    {
        var listed = definition.Listed = Allocate(scope, name, definition, [SparseValues, SparseIndices]);
        definition.Listing = OnnxListing.Sparse;
        var result = new List<(string, TensorEntry)>();
        if (s.Values is not null && Add(_mapper.Map(s.Values, listed + SparseValues, key + "v"), definition, listed + SparseValues) is { } v)
            result.Add((SparseValues, v));
        if (s.Indices is not null && Add(_mapper.Map(s.Indices, listed + SparseIndices, key + "x"), definition, listed + SparseIndices) is { } x)
            result.Add((SparseIndices, x));
        _metadata[listed + SparseDenseShape] = s.Dims.Select(d => (object?)d).ToList();
        Bind(scope, name, definition);
        return result;
    }

    private const string SparseValues = ".values", SparseIndices = ".indices", SparseDenseShape = ".dense_shape";

    // A tensor attribute other than a Constant's value (ConstantOfShape's value): listed as <node path>/<attribute>.
    private TensorEntry? AttributeTensor(TensorProto t, string wanted, OnnxDefinition owner, string key)
    {
        owner.Listed = _names.Allocate(wanted, [], owner);
        if (owner.Listed != wanted) _names.Note(wanted, OnnxErrors.NameTaken(wanted, owner.Where, owner.Listed, _names.OwnerOf(wanted)!.Where));
        Add(_mapper.Map(t, owner.Listed, key), owner);
        return owner.Tensor;
    }

    private string Allocate(OnnxScope scope, string name, OnnxDefinition definition, string[] suffixes)
    {
        string wanted = scope.Prefix + name;
        var listed = _names.Allocate(wanted, suffixes, definition);
        // A repeat of a graph name is explained by its clash note; anything else that took the name is noted here.
        if (listed != wanted && scope.Local(name) is null)
        {
            var owner = suffixes.Prepend("").Select(s => _names.OwnerOf(wanted + s)).First(o => o is not null)!;
            _names.Note(wanted, OnnxErrors.NameTaken(wanted, definition.Where, listed, owner.Where));
        }
        return listed;
    }

    // Records a definition of a value name and makes it what later nodes of this graph (and its subgraphs) read.
    private void Bind(OnnxScope scope, string name, OnnxDefinition definition)
    {
        definition.Scope = scope;
        string scoped = scope.Prefix + name;
        if (scope.Local(name) is { } previous) _names.Redefine(scoped, name, scope, previous, definition);
        else if (scope.Outer?.Resolve(name) is { } hidden) _names.Note(scoped, OnnxErrors.Shadows(name, definition, hidden));
        scope.Bind(name, definition);
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

    // Adds what the mapper made for a definition: a tensor (which a node reading the name gets), a string tensor's
    // values (Metadata), or the note that its values are not read. <paramref name="name"/>: the listed name, when it
    // is not the definition's own (a sparse value's .values/.indices).
    private TensorEntry? Add(OnnxTensorMapper.Result r, OnnxDefinition definition, string? name = null)
    {
        name ??= definition.Listed;
        if (r.Unsupported is { } why)
        {
            _metadata[UnsupportedPrefix + name] = why;
            if (definition.Listing != OnnxListing.Sparse) definition.Listing = OnnxListing.NotRead;
            return null;
        }
        if (r.Strings is not null)
        {
            // String values live in Metadata, beside the model's own fields; one of those keeps its key.
            if (_metadata.ContainsKey(name))
            {
                var key = _names.Allocate(name, [], definition);
                _names.Note(name, OnnxErrors.NameTaken(name, definition.Where, key, "a model field in Metadata"));
                name = definition.Listed = key;
            }
            _metadata[name] = r.Strings;
            if (definition.Listing != OnnxListing.Sparse) definition.Listing = OnnxListing.Strings;
            return null;
        }
        if (_tensors.Count >= _limits.MaxTensorCount)
            throw new ReaderLimitException(OnnxErrors.Format, nameof(ReaderLimits.MaxTensorCount), _tensors.Count + 1, _limits.MaxTensorCount);
        var t = r.Tensor!;
        _tensors.Add(t);
        if (definition.Listing == OnnxListing.Sparse) return t;
        definition.Listing = OnnxListing.Tensor;
        return definition.Tensor = t;
    }
}
