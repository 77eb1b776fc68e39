using WeightScope.Formats.Onnx;
using WeightScope.Formats.Onnx.Proto;
using WeightScope.IO;

namespace WeightScope.Security;

/// <summary>
/// ONNX holds no pickle and no code of its own; what can act outside the model when it is loaded and run:
/// <list type="bullet">
/// <item>external data: <c>onnx.load</c> reads each tensor's <c>location</c> relative to the model's folder; a location
/// that leaves it (absolute, <c>..</c>, a symbolic link out — <see cref="ContainedPath"/>, the rule WeightScope's own
/// reader applies) makes a loader that follows it read any file the user can into the model (onnx.load before 1.13 followed
/// <c>..</c>, CVE-2022-25882 — the test proves it with onnx 1.12 —, and until 1.16 by a bypass, CVE-2024-27318): dangerous;</item>
/// <item>custom-op domains: a node outside the standard domains (<c>""</c>, <c>ai.onnx</c>, <c>ai.onnx.ml</c>,
/// <c>ai.onnx.training</c>, <c>ai.onnx.preview.training</c>), onnxruntime's built-in contrib domains (<c>com.microsoft*</c>)
/// and the model's own functions only runs once the user registers a native custom-op library
/// (<c>SessionOptions.register_custom_ops_library</c>): the file brings no code, but running it means loading native
/// code from elsewhere, so it is suspicious (never exit 0 under the allow-list verdict), not dangerous.</item>
/// </list>
/// Every graph is checked: the main graph, subgraphs in node attributes (If/Loop/Scan bodies), at any depth, and the
/// model's local functions.
/// </summary>
internal static class OnnxScan
{
    private static readonly HashSet<string> StandardDomains = new(StringComparer.Ordinal)
    {
        "", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training",
    };

    // onnxruntime's contrib and internal op domains, compiled into every onnxruntime build (onnxruntime/core/graph/constants.h).
    private static bool IsOnnxRuntimeBuiltin(string domain) =>
        domain is "com.microsoft" or "com.microsoft.nchwc" or "com.microsoft.experimental" or "com.microsoft.mlfeaturizers"
            or "com.ms.internal.nhwc" or "com.microsoft.dml";

    /// <summary>Scans the ONNX model in <paramref name="file"/> (at <paramref name="target"/>).</summary>
    /// <exception cref="ModelFormatException">Not a ModelProto.</exception>
    public static ScanReport Scan(string path, string target, MappedFile file, ReaderLimits limits)
    {
        var model = OnnxParser.ParseModel(file);
        var report = new ScanReport { Path = path, Container = OnnxErrors.Format };
        string folder = Path.GetDirectoryName(Path.GetFullPath(target))!;
        var local = model.Functions.Select(f => (f.Domain ?? "", f.Name ?? "")).ToHashSet();
        var custom = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var contrib = new SortedSet<string>(StringComparer.Ordinal);
        int nodes = 0;
        foreach (var node in Nodes(model))
        {
            nodes++;
            string domain = node.Domain ?? "";
            if (StandardDomains.Contains(domain) || local.Contains((domain, node.OpType ?? ""))) continue;
            if (IsOnnxRuntimeBuiltin(domain)) { contrib.Add($"{domain}.{node.OpType}"); continue; }
            if (!custom.TryGetValue(domain, out var ops)) custom[domain] = ops = new SortedSet<string>(StringComparer.Ordinal);
            ops.Add(node.OpType ?? "");
        }
        foreach (var (domain, ops) in custom)
            report.Code.Add(new CodeFinding("onnx-custom-op", $"domain {domain}",
                $"ops {string.Join(", ", ops)}: not standard ONNX; running the model needs a custom-op library (native code) registered by the user",
                ScanVerdict.Suspicious));
        var locations = ExternalLocations(model).ToList();
        foreach (var (tensor, location) in locations)
            if (ContainedPath.Resolve(folder, location, allowOutside: false, out var refusal) is null)
                report.Code.Add(new CodeFinding("onnx-external-data", $"tensor {tensor}",
                    $"external data location '{location}' {refusal}: a loader that follows it reads that file into the model (onnx.load < 1.13 followed '..', CVE-2022-25882; < 1.16 through a bypass, CVE-2024-27318)",
                    ScanVerdict.Dangerous));
        if (contrib.Count > 0)
            report.Notes.Add($"onnxruntime contrib ops (built into onnxruntime, no library to load): {string.Join(", ", contrib)}");
        report.Notes.Add($"no code-bearing content in ONNX itself: {nodes} nodes in every graph, subgraph and local function checked for custom-op domains; "
                         + $"{locations.Count} external-data locations checked to stay inside {folder}");
        return report;
    }

    /// <summary>Every tensor stored outside the model, with its <c>location</c> (the last one, as onnx's ExternalDataInfo keeps).</summary>
    public static IEnumerable<(string Tensor, string Location)> ExternalLocations(ModelProto model)
    {
        foreach (var t in Tensors(model))
        {
            if (t.DataLocation != TensorProto.Types.DataLocation.External) continue;
            string? location = null;
            foreach (var kv in t.ExternalData) if (kv.Key == "location") location = kv.Value;
            if (location is not null) yield return (t.Name ?? "?", location);
        }
    }

    // Nodes of the main graph, of subgraphs at any depth (explicit stack) and of local functions.
    private static IEnumerable<NodeProto> Nodes(ModelProto model) =>
        model.Functions.SelectMany(f => f.Node).Concat(Graphs(model).SelectMany(g => g.Node));

    private static IEnumerable<GraphProto> Graphs(ModelProto model)
    {
        var pending = new Stack<GraphProto>();
        if (model.Graph is { } main) pending.Push(main);
        foreach (var f in model.Functions) PushSubgraphs(pending, f.Node);
        while (pending.Count > 0)
        {
            var g = pending.Pop();
            yield return g;
            PushSubgraphs(pending, g.Node);
        }
    }

    private static void PushSubgraphs(Stack<GraphProto> pending, IEnumerable<NodeProto> nodes)
    {
        foreach (var n in nodes)
            foreach (var a in n.Attribute)
            {
                if (a.G is { } g) pending.Push(g);
                foreach (var sub in a.Graphs) pending.Push(sub);
            }
    }

    private static IEnumerable<TensorProto> Tensors(ModelProto model)
    {
        foreach (var g in Graphs(model))
        {
            foreach (var t in g.Initializer) yield return t;
            foreach (var s in g.SparseInitializer) foreach (var t in Sparse(s)) yield return t;
            foreach (var n in g.Node) foreach (var t in AttributeTensors(n)) yield return t;
        }
        foreach (var f in model.Functions) foreach (var n in f.Node) foreach (var t in AttributeTensors(n)) yield return t;
    }

    private static IEnumerable<TensorProto> AttributeTensors(NodeProto n)
    {
        foreach (var a in n.Attribute)
        {
            if (a.T is { } t) yield return t;
            foreach (var x in a.Tensors) yield return x;
            if (a.SparseTensor is { } s) foreach (var x in Sparse(s)) yield return x;
            foreach (var sp in a.SparseTensors) foreach (var x in Sparse(sp)) yield return x;
        }
    }

    private static IEnumerable<TensorProto> Sparse(SparseTensorProto s)
    {
        if (s.Values is { } v) yield return v;
        if (s.Indices is { } i) yield return i;
    }
}
