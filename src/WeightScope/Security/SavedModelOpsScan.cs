using WeightScope.Formats.TensorFlow.Proto;
using WeightScope.Formats.TensorFlow.SavedModel;

namespace WeightScope.Security;

/// <summary>
/// TensorFlow SavedModels and TF1 meta graphs hold no pickles, but their graphs can hold ops that touch files, processes
/// or the network, or run Python, when the model is loaded and called. Every node of every meta graph and of every
/// function in the graph's library is checked (op names and inputs as in <c>tensorflow/core/ops/*.cc</c>):
/// <list type="bullet">
/// <item>always: file readers and writers (<c>ReadFile</c>, <c>WriteFile</c>, <c>MatchingFiles</c>, <c>ImmutableConst</c>,
/// <c>WholeFileReader(V2)</c> and the other readers, <c>ReaderRead(V2)</c>…, <c>LoadAndRemapMatrix</c>,
/// <c>RecordInput</c>), file datasets (<c>TextLineDataset</c>, <c>TFRecordDataset</c>, <c>FixedLengthRecordDataset</c>,
/// <c>DatasetToTFRecord</c>, <c>SaveDataset(V2)</c>, <c>LoadDataset</c>, snapshots), summary and debug writers
/// (<c>CreateSummaryFileWriter</c>, <c>WriteSummary</c>…, <c>DebugIdentity(V2)</c>), Python (<c>PyFunc</c>,
/// <c>PyFuncStateless</c>, <c>EagerPyFunc</c>);</item>
/// <item><c>PrintV2</c> whose <c>output_stream</c> is a file (<c>file://…</c>) rather than stderr, stdout or the log;</item>
/// <item>the checkpoint ops (<c>Save</c>, <c>SaveSlices</c>, <c>SaveV2</c>, <c>Restore</c>, <c>RestoreSlice</c>,
/// <c>RestoreV2</c>, <c>MergeV2Checkpoints</c>) and <c>InitializeTableFromTextFile(V2)</c> only when their path is
/// not the saver's: every SavedModel has them, with the path built from the caller's prefix (a placeholder or a
/// function argument) and constant relative pieces (<c>StringJoin</c>, <c>ShardedFilename</c>, <c>Select</c>…). A path
/// with an absolute, <c>..</c> or remote (<c>gs://</c>…) constant, or computed by any other op, is reported.</item>
/// </list>
/// </summary>
internal static class SavedModelOpsScan
{
    private static readonly Dictionary<string, string> DangerousOps = new(StringComparer.Ordinal)
    {
        ["ReadFile"] = "reads a file named at run time",
        ["WriteFile"] = "writes a file named at run time",
        ["MatchingFiles"] = "lists files matching a pattern",
        ["ImmutableConst"] = "maps a file named in the graph into memory",
        ["PyFunc"] = "runs Python code (tf.py_function/tf.numpy_function)",
        ["PyFuncStateless"] = "runs Python code (tf.numpy_function)",
        ["EagerPyFunc"] = "runs Python code (tf.py_function)",
        ["WholeFileReader"] = "reads whole files", ["WholeFileReaderV2"] = "reads whole files",
        ["TextLineReader"] = "reads text files", ["TextLineReaderV2"] = "reads text files",
        ["TFRecordReader"] = "reads TFRecord files", ["TFRecordReaderV2"] = "reads TFRecord files",
        ["FixedLengthRecordReader"] = "reads files", ["FixedLengthRecordReaderV2"] = "reads files",
        ["LMDBReader"] = "reads LMDB files",
        ["ReaderRead"] = "reads a record from a file reader", ["ReaderReadV2"] = "reads a record from a file reader",
        ["ReaderReadUpTo"] = "reads records from a file reader", ["ReaderReadUpToV2"] = "reads records from a file reader",
        ["LoadAndRemapMatrix"] = "reads a checkpoint named at run time",
        ["RecordInput"] = "reads the files its file_pattern matches",
        ["TextLineDataset"] = "reads text files", ["TFRecordDataset"] = "reads TFRecord files", ["TFRecordDatasetV2"] = "reads TFRecord files",
        ["FixedLengthRecordDataset"] = "reads files", ["FixedLengthRecordDatasetV2"] = "reads files",
        ["DatasetToTFRecord"] = "writes a TFRecord file", ["ExperimentalDatasetToTFRecord"] = "writes a TFRecord file",
        ["SaveDataset"] = "writes a dataset to files", ["SaveDatasetV2"] = "writes a dataset to files",
        ["LoadDataset"] = "reads a dataset from files", ["SnapshotDataset"] = "writes and reads files", ["SnapshotDatasetV2"] = "writes and reads files",
        ["CreateSummaryFileWriter"] = "creates event files in a log directory", ["CreateSummaryDbWriter"] = "writes a SQLite database",
        ["WriteSummary"] = "writes to a summary file", ["WriteScalarSummary"] = "writes to a summary file",
        ["WriteHistogramSummary"] = "writes to a summary file", ["WriteImageSummary"] = "writes to a summary file",
        ["WriteAudioSummary"] = "writes to a summary file", ["WriteGraphSummary"] = "writes to a summary file",
        ["WriteRawProtoSummary"] = "writes to a summary file", ["ImportEvent"] = "writes to a summary file",
        ["DebugIdentity"] = "writes tensors to its debug URLs (files or gRPC)", ["DebugIdentityV2"] = "writes tensors to a tfdbg dump directory",
        ["DebugNanCount"] = "writes to its debug URLs (files or gRPC)", ["DebugNumericSummary"] = "writes to its debug URLs (files or gRPC)",
    };

    // The input that names the path: SaveV2(prefix, …), Save(filename, …), Restore*(file_pattern|prefix, …),
    // MergeV2Checkpoints(checkpoint_prefixes, destination_prefix), InitializeTableFromTextFile(table_handle, filename, …).
    private static readonly Dictionary<string, int[]> PathInputs = new(StringComparer.Ordinal)
    {
        ["Save"] = [0], ["SaveSlices"] = [0], ["SaveV2"] = [0], ["Restore"] = [0], ["RestoreSlice"] = [0], ["RestoreV2"] = [0],
        ["MergeV2Checkpoints"] = [0, 1], ["InitializeTableFromTextFile"] = [1], ["InitializeTableFromTextFileV2"] = [1],
    };

    // What the savers (tf.train.Saver, TF2's functional saver) and asset initialisers build a path with.
    private static readonly HashSet<string> PathBuilders = new(StringComparer.Ordinal)
    {
        "Const", "Placeholder", "PlaceholderWithDefault", "Identity", "IdentityN", "StringJoin", "ShardedFilename",
        "ShardedFilespec", "Select", "SelectV2", "StaticRegexFullMatch", "StaticRegexReplace", "Pack", "_Arg",
    };

    // Nodes looked at while tracing one path back; a saver's chain is a dozen.
    private const int MaxTrace = 10_000;

    /// <summary>Scans <paramref name="savedModelPb"/> (a <c>saved_model.pb</c>).</summary>
    public static ScanReport Scan(string path, string savedModelPb, ReaderLimits limits)
    {
        var report = new ScanReport { Path = path, Container = "tf-savedmodel" };
        var graphs = SavedModelGraph.ReadAll(savedModelPb, limits);
        var (nodes, functions) = Check(report, graphs);
        report.Notes.Add($"a SavedModel holds no pickles; {nodes} graph nodes in {graphs.Count} meta graph(s) and {functions} function(s) checked for file and Python ops");
        return report;
    }

    /// <summary>Scans a TF1 <c>.meta</c> file (one <c>MetaGraphDef</c>, what <c>tf.train.import_meta_graph</c> loads).</summary>
    public static ScanReport ScanMetaGraph(string path, string metaFile, ReaderLimits limits)
    {
        var report = new ScanReport { Path = path, Container = TfMetaGraphFormat.FormatName };
        CheckMetaGraphFile(report, metaFile, limits);
        return report;
    }

    /// <summary>Checks the graph of a <c>.meta</c> file into <paramref name="report"/>.</summary>
    public static void CheckMetaGraphFile(ScanReport report, string metaFile, ReaderLimits limits)
    {
        var meta = SavedModelGraph.ReadMetaGraph(metaFile, TfMetaGraphFormat.FormatName, limits).Meta;
        var (nodes, functions) = Check(report, [meta]);
        report.Notes.Add($"{Path.GetFileName(metaFile)}: a meta graph holds no pickles; {nodes} graph nodes and {functions} function(s) checked for file and Python ops");
    }

    private static (int Nodes, int Functions) Check(ScanReport report, IReadOnlyList<MetaGraphDef> graphs)
    {
        int nodes = 0, functions = 0;
        foreach (var meta in graphs)
        {
            var tags = meta.MetaInfoDef is { } info ? string.Join(",", info.Tags) : "";
            var where = $"meta graph [{tags}]";
            if (meta.GraphDef is not { } g) continue;
            var byName = Index(g.Node);
            foreach (var node in g.Node) Check(report, node, byName, $"{where} node {node.Name}");
            nodes += g.Node.Count;
            if (g.Library is null) continue;
            foreach (var f in g.Library.Function)
            {
                var inFunction = Index(f.NodeDef);
                foreach (var node in f.NodeDef)
                    Check(report, node, inFunction, $"{where} function {f.Signature?.Name} node {node.Name}");
                nodes += f.NodeDef.Count;
                functions++;
            }
        }
        return (nodes, functions);
    }

    // Node names are unique within a graph and within a function body (TensorFlow refuses duplicates); the first is kept.
    private static Dictionary<string, NodeDef> Index(IEnumerable<NodeDef> nodes)
    {
        var byName = new Dictionary<string, NodeDef>(StringComparer.Ordinal);
        foreach (var n in nodes) byName.TryAdd(n.Name, n);
        return byName;
    }

    /// <summary>
    /// Why an op named without its graph (a TFLite Flex op) touches files, processes or the network, or null. Without the
    /// graph a path cannot be traced to the saver's constant, so every path-taking op counts.
    /// </summary>
    public static string? DangerousOp(string op) =>
        DangerousOps.TryGetValue(op, out var what) ? what
        : PathInputs.ContainsKey(op) ? "reads or writes files at a path given when it runs"
        : op == "PrintV2" ? "may print to a file" : null;

    private static void Check(ScanReport report, NodeDef node, IReadOnlyDictionary<string, NodeDef> graph, string where)
    {
        string op = node.Op;
        if (DangerousOps.TryGetValue(op, out var what))
            report.Code.Add(new CodeFinding("tf-op", where, $"{op}: {what}", ScanVerdict.Dangerous));
        else if (op == "PrintV2" && node.Attr.TryGetValue("output_stream", out var stream)
                 && stream.S.ToStringUtf8() is var target && target is not ("" or "stderr" or "stdout" or "log(info)" or "log(warning)" or "log(error)"))
            report.Code.Add(new CodeFinding("tf-op", where, $"PrintV2: prints to {target}", ScanVerdict.Dangerous));
        else if (PathInputs.TryGetValue(op, out var inputs))
            foreach (int i in inputs)
                if (i < node.Input.Count && UnsafePath(node.Input[i], graph) is { } why)
                    report.Code.Add(new CodeFinding("tf-op", where, $"{op}: its path {why}", ScanVerdict.Dangerous));
    }

    // Why the path fed by `input` is not the saver's (null when it is): traced back through the path-building ops.
    private static string? UnsafePath(string input, IReadOnlyDictionary<string, NodeDef> graph)
    {
        var pending = new Stack<string>([input]);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (pending.Count > 0 && seen.Count < MaxTrace)
        {
            string name = NodeName(pending.Pop());
            if (name.Length == 0 || !seen.Add(name)) continue;
            if (!graph.TryGetValue(name, out var n)) continue; // a function argument: the caller's path
            if (!PathBuilders.Contains(n.Op)) return $"is computed at run time by {n.Op} ({n.Name})";
            if (n.Op == "Const" && n.Attr.TryGetValue("value", out var v) && v.Tensor is { } t)
                foreach (var bytes in t.StringVal)
                    if (UnsafeConstant(bytes.ToStringUtf8()) is { } why) return $"has the constant '{bytes.ToStringUtf8()}' ({n.Name}), {why}";
            foreach (var i in n.Input) if (!i.StartsWith('^')) pending.Push(i);
        }
        return null;
    }

    private static string? UnsafeConstant(string s)
    {
        if (s.StartsWith('/') || s.StartsWith('\\') || s.StartsWith('~') || s.Length >= 2 && s[1] == ':' && char.IsAsciiLetter(s[0]))
            return "an absolute path";
        if (s.Contains("://", StringComparison.Ordinal)) return "a remote file system";
        if (s.Split('/', '\\').Contains("..")) return "a path leading out with ..";
        return null;
    }

    // "node", "node:1", "^node" (control), or in a function body "node:output_arg:0".
    private static string NodeName(string input)
    {
        int colon = input.IndexOf(':');
        return colon < 0 ? input : input[..colon];
    }
}
