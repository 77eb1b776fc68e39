using Google.Protobuf;
using WeightScope.Formats.TensorFlow.Bundle;
using WeightScope.Formats.TensorFlow.Proto;
using WeightScope.Tensors;
using ProtoSavedModel = WeightScope.Formats.TensorFlow.Proto.SavedModel;

namespace WeightScope.Formats.TensorFlow.SavedModel;

/// <summary>
/// <c>saved_model.pb</c>: a <c>SavedModel</c> proto holding one or more <c>MetaGraphDef</c>s. The one tagged
/// <c>serve</c> is read (what <c>tf.saved_model.load</c> and TF Serving pick), or the only one. What WeightScope takes
/// from it: tags and TensorFlow version, the signatures (inputs and outputs with dtype and shape), and what each
/// variable is — from the TF2 <c>SavedObjectGraph</c> (the variable's name and <c>trainable</c> flag, found by its
/// object path, which is also its checkpoint key) or from a TF1 graph's <c>trainable_variables</c> collection.
/// </summary>
internal sealed class SavedModelGraph
{
    /// <summary>The file name inside a SavedModel folder.</summary>
    public const string FileName = "saved_model.pb";

    // SavedModel → MetaGraphDef → GraphDef → NodeDef → attr map entry → AttrValue → TensorProto → shape → dim: 9 levels.
    private const int RecursionLimit = 32;

    private SavedModelGraph(MetaGraphDef meta, int metaGraphCount, long schemaVersion)
    {
        Meta = meta;
        MetaGraphCount = metaGraphCount;
        SchemaVersion = schemaVersion;
    }

    /// <summary>The meta graph read.</summary>
    public MetaGraphDef Meta { get; }

    /// <summary>How many meta graphs the file holds.</summary>
    public int MetaGraphCount { get; }

    /// <summary><c>saved_model_schema_version</c>.</summary>
    public long SchemaVersion { get; }

    /// <summary>The TensorFlow version that wrote it, when recorded.</summary>
    public string? TensorFlowVersion => Meta.MetaInfoDef?.TensorflowVersion is { Length: > 0 } v ? v : null;

    /// <summary>True when the meta graph carries a TF2 object graph (written by <c>tf.saved_model.save</c>).</summary>
    public bool HasObjectGraph => Meta.ObjectGraphDef is { Nodes.Count: > 0 };

    /// <summary>Reads and parses <paramref name="path"/>, a <c>saved_model.pb</c>.</summary>
    /// <exception cref="ModelFormatException">Not a SavedModel proto, or over <see cref="ReaderLimits.MaxHeaderBytes"/>.</exception>
    public static SavedModelGraph Read(string path, ReaderLimits limits)
    {
        var proto = Parse(path, ProtoSavedModel.Parser, "a SavedModel", TfSavedModelFormat.FormatName, limits);
        if (proto.MetaGraphs.Count == 0)
            throw new InvalidModelContentException(TfSavedModelFormat.FormatName, $"{Path.GetFileName(path)} holds no meta graph", null, Path.GetFileName(path)) { FilePath = path };
        var meta = proto.MetaGraphs.FirstOrDefault(m => m.MetaInfoDef?.Tags.Contains("serve") == true) ?? proto.MetaGraphs[0];
        return new SavedModelGraph(meta, proto.MetaGraphs.Count, proto.SavedModelSchemaVersion);
    }

    /// <summary>Every meta graph of <paramref name="path"/>, a <c>saved_model.pb</c> (for <c>scan</c>, which checks them all).</summary>
    /// <exception cref="ModelFormatException">Not a SavedModel proto, or over <see cref="ReaderLimits.MaxHeaderBytes"/>.</exception>
    internal static IReadOnlyList<MetaGraphDef> ReadAll(string path, ReaderLimits limits) =>
        Parse(path, ProtoSavedModel.Parser, "a SavedModel", TfSavedModelFormat.FormatName, limits).MetaGraphs;

    /// <summary>Reads a <c>.meta</c> file (<c>tf.train.export_meta_graph</c>, written by every TF1 <c>Saver.save</c>): one bare <c>MetaGraphDef</c>.</summary>
    public static SavedModelGraph ReadMetaGraph(string path, string format, ReaderLimits limits) =>
        new(Parse(path, MetaGraphDef.Parser, "a MetaGraphDef", format, limits), 1, 0);

    private static T Parse<T>(string path, MessageParser<T> parser, string what, string format, ReaderLimits limits) where T : IMessage<T>
    {
        string name = Path.GetFileName(path);
        long length = new FileInfo(path).Length;
        if (length > limits.MaxHeaderBytes)
            throw new ReaderLimitException(format, nameof(ReaderLimits.MaxHeaderBytes), length, limits.MaxHeaderBytes, 0, name) { FilePath = path };
        try
        {
            using var file = File.OpenRead(path);
            return parser.ParseFrom(CodedInputStream.CreateWithLimits(file, (int)Math.Max(1, length), RecursionLimit));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidModelContentException(format, $"{name} is not {what} protobuf: {e.Message}", null, name, e) { FilePath = path };
        }
    }

    /// <summary>Tags, versions and signatures, as metadata entries.</summary>
    public void AddMetadata(Dictionary<string, object?> metadata)
    {
        var info = Meta.MetaInfoDef;
        if (info is not null)
        {
            metadata["tags"] = info.Tags.Cast<object?>().ToList();
            if (info.TensorflowVersion.Length > 0) metadata["tensorflow_version"] = info.TensorflowVersion;
            if (info.TensorflowGitVersion.Length > 0) metadata["tensorflow_git_version"] = info.TensorflowGitVersion;
            if (info.MetaGraphVersion.Length > 0) metadata["meta_graph_version"] = info.MetaGraphVersion;
        }
        if (MetaGraphCount > 1) metadata["meta_graph_count"] = (long)MetaGraphCount;
        if (Meta.SignatureDef.Count > 0)
        {
            var signatures = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (key, sig) in Meta.SignatureDef.OrderBy(s => s.Key, StringComparer.Ordinal))
                signatures[key] = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["method_name"] = sig.MethodName,
                    ["inputs"] = Describe(sig.Inputs),
                    ["outputs"] = Describe(sig.Outputs),
                };
            metadata["signatures"] = signatures;
        }
    }

    // "x:0 float32 [-1, 1]", like saved_model_cli show prints each input (dtype, shape, name).
    private static OrderedDictionary<string, object?> Describe(IDictionary<string, TensorInfo> tensors)
    {
        var result = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, t) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            string dtype = TfDataType.ToDType(t.Dtype)?.Name() ?? TfDataType.Name(t.Dtype);
            string shape = t.TensorShape is null || t.TensorShape.UnknownRank ? "unknown rank" : $"[{string.Join(", ", t.TensorShape.Dim.Select(d => d.Size))}]";
            result[key] = $"{(t.Name.Length > 0 ? t.Name : "(composite)")} {dtype} {shape}";
        }
        return result;
    }

    /// <summary>What the graph says about one variable of the checkpoint.</summary>
    /// <param name="Name">The variable's own name (<c>dense/kernel</c>), when recorded.</param>
    /// <param name="Trainable">Its <c>trainable</c> flag.</param>
    /// <param name="Order">Its position in the graph (object-graph node id or collection index), for ordering.</param>
    public sealed record VariableInfo(string? Name, bool Trainable, int Order);

    /// <summary>
    /// Variables by checkpoint key. TF2: every <c>SavedVariable</c> of the object graph, keyed by its breadth-first
    /// object path as <c>trackable_utils.checkpoint_key</c> spells it. TF1: the graph's <c>variables</c> collection
    /// (<c>VariableDef.variable_name</c> without <c>:0</c>, which is the <c>Saver</c>'s key), trainable when also in
    /// <c>trainable_variables</c>.
    /// </summary>
    public Dictionary<string, VariableInfo> Variables()
    {
        var result = new Dictionary<string, VariableInfo>(StringComparer.Ordinal);
        if (HasObjectGraph)
        {
            var nodes = Meta.ObjectGraphDef.Nodes;
            var paths = ObjectGraph.ObjectKeys.BreadthFirstPaths(nodes.Count, id => nodes[id].Children.Select(c => (c.NodeId, c.LocalName)));
            for (int id = 0; id < nodes.Count; id++)
                if (nodes[id].KindCase == SavedObject.KindOneofCase.Variable && paths[id] is { Length: > 0 } path)
                {
                    var v = nodes[id].Variable;
                    result.TryAdd(ObjectGraph.ObjectKeys.VariableKey(path), new VariableInfo(v.Name.Length > 0 ? v.Name : null, v.Trainable, id));
                }
            return result;
        }
        var trainable = CollectionVariables("trainable_variables").ToHashSet(StringComparer.Ordinal);
        int order = 0;
        foreach (var name in CollectionVariables("variables").Concat(trainable))
            result.TryAdd(name, new VariableInfo(name, trainable.Contains(name), order++));
        return result;
    }

    private IEnumerable<string> CollectionVariables(string collection)
    {
        if (!Meta.CollectionDef.TryGetValue(collection, out var c) || c.BytesList is null) yield break;
        foreach (var bytes in c.BytesList.Value)
        {
            VariableDef def;
            try { def = VariableDef.Parser.ParseFrom(bytes); }
            catch (InvalidProtocolBufferException) { continue; } // a collection entry that is not a VariableDef says nothing about roles
            string name = def.VariableName;
            int colon = name.LastIndexOf(':');
            yield return colon > 0 ? name[..colon] : name;
        }
    }

    /// <summary>
    /// The Keras metadata that tf.keras 2.0–2.4 kept in the object graph itself (<c>SavedUserObject.metadata</c> of the
    /// root), before it moved to <c>keras_metadata.pb</c>.
    /// </summary>
    public string? RootKerasMetadata()
    {
        if (!HasObjectGraph) return null;
        var root = Meta.ObjectGraphDef.Nodes[0];
        return root.KindCase == SavedObject.KindOneofCase.UserObject && root.UserObject.Identifier.StartsWith("_tf_keras_", StringComparison.Ordinal)
               && root.UserObject.Metadata.Length > 0 ? root.UserObject.Metadata : null;
    }
}
