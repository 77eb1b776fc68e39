using WeightScope.Formats.TensorFlow.SavedModel;

namespace WeightScope.Security;

/// <summary>
/// TensorFlow SavedModels hold no pickles, but their graphs can hold ops that touch the file system or run Python when
/// the model is loaded and called: <c>ReadFile</c>, <c>WriteFile</c>, <c>MatchingFiles</c> (a program that reads or
/// writes arbitrary paths), and <c>PyFunc</c>/<c>EagerPyFunc</c> (Python code, which needs the Python process that saved
/// it). Every node of every meta graph and of every function in the graph's library is checked. The checkpoint ops of
/// the SavedModel's own saver (<c>SaveV2</c>, <c>RestoreV2</c>, <c>MergeV2Checkpoints</c>) are in every SavedModel and
/// write only under the path the caller gives; they are not reported.
/// </summary>
internal static class SavedModelOpsScan
{
    private static readonly Dictionary<string, string> DangerousOps = new(StringComparer.Ordinal)
    {
        ["ReadFile"] = "reads a file named at run time",
        ["WriteFile"] = "writes a file named at run time",
        ["MatchingFiles"] = "lists files matching a pattern",
        ["PyFunc"] = "runs Python code (tf.py_function/tf.numpy_function)",
        ["PyFuncStateless"] = "runs Python code (tf.numpy_function)",
        ["EagerPyFunc"] = "runs Python code (tf.py_function)",
        ["ImmutableConst"] = "maps a file named in the graph into memory",
    };

    /// <summary>Scans <paramref name="savedModelPb"/> (a <c>saved_model.pb</c>) for those ops.</summary>
    public static ScanReport Scan(string path, string savedModelPb, ReaderLimits limits)
    {
        var report = new ScanReport { Path = path, Container = "tf-savedmodel" };
        var graph = SavedModelGraph.ReadAll(savedModelPb, limits);
        int nodes = 0, functions = 0;
        foreach (var meta in graph)
        {
            var tags = meta.MetaInfoDef is { } info ? string.Join(",", info.Tags) : "";
            var where = $"meta graph [{tags}]";
            if (meta.GraphDef is not { } g) continue;
            foreach (var node in g.Node) Check(report, node.Op, $"{where} node {node.Name}");
            nodes += g.Node.Count;
            if (g.Library is null) continue;
            foreach (var f in g.Library.Function)
            {
                foreach (var node in f.NodeDef)
                    Check(report, node.Op, $"{where} function {f.Signature?.Name} node {node.Name}");
                nodes += f.NodeDef.Count;
                functions++;
            }
        }
        report.Notes.Add($"a SavedModel holds no pickles; {nodes} graph nodes in {graph.Count} meta graph(s) and {functions} function(s) checked for file and Python ops");
        return report;
    }

    private static void Check(ScanReport report, string op, string where)
    {
        if (DangerousOps.TryGetValue(op, out var what))
            report.Code.Add(new CodeFinding("tf-op", where, $"{op}: {what}", ScanVerdict.Dangerous));
    }
}
