using WeightScope.Formats.Onnx;
using WeightScope.Formats.TensorFlow.SavedModel;
using WeightScope.Formats.TfJs;
using WeightScope.IO;

namespace WeightScope.Security;

/// <summary>
/// Files that are raw bytes another model file names: a TF.js weight shard (named in a sibling <c>model.json</c>'s
/// <c>weightsManifest</c>), an ONNX external-data file (named by a sibling <c>.onnx</c>'s <c>external_data</c>
/// <c>location</c>), a SavedModel asset (read by its graph, e.g. a vocabulary). Their loaders read them as tensor bytes
/// or text, never as code, so scanning one means scanning the model that names it — which is what is reported.
/// </summary>
internal static class Companions
{
    // Sibling files looked at; a folder of thousands of manifests is not a model folder.
    private const int MaxSiblings = 64;

    /// <summary>The scan of the model that names <paramref name="path"/> as its raw bytes, or null when none does.</summary>
    public static ScanReport? Owner(string path, ReaderLimits limits)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        if (Path.GetFileName(dir) is "assets" or "assets.extra" && Path.GetDirectoryName(dir) is { } savedModel
            && File.Exists(Path.Combine(savedModel, SavedModelGraph.FileName)))
            return Named(SavedModelOpsScan.Scan(savedModel, Path.Combine(savedModel, SavedModelGraph.FileName), limits), path,
                         $"an asset of the SavedModel {savedModel} (read as data by its graph, e.g. a vocabulary)");
        foreach (var sibling in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal).Take(MaxSiblings))
        {
            if (sibling == full || new FileInfo(sibling).Length > limits.MaxHeaderBytes) continue;
            if (sibling.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && TfJsNames(sibling, full, limits))
            {
                using var file = MappedFile.Open(sibling);
                return Named(FormatScans.TfJs(sibling, sibling, file, limits), path, $"a weight shard named by {sibling}'s weightsManifest (read as raw tensor bytes)");
            }
            if (sibling.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) && OnnxNames(sibling, full))
            {
                using var file = MappedFile.Open(sibling);
                return Named(OnnxScan.Scan(sibling, sibling, file, limits), path, $"external tensor data named by {sibling} (read as raw tensor bytes)");
            }
        }
        return null;
    }

    private static ScanReport Named(ScanReport ownerReport, string path, string what)
    {
        ownerReport.Notes.Insert(0, $"{path} is {what}: no code-bearing content in it; the model that names it was scanned");
        return ownerReport;
    }

    private static bool TfJsNames(string json, string full, ReaderLimits limits)
    {
        try
        {
            var bytes = File.ReadAllBytes(json);
            if (!TfJsFormat.LooksLikeModelJson(bytes.AsSpan(0, Math.Min(bytes.Length, Formats.DetectionContext.HeaderSize)), bytes)) return false;
            string dir = Path.GetDirectoryName(json)!;
            return TfJsModelJson.Parse(bytes, limits).WeightsManifest.SelectMany(g => g.Paths)
                .Any(p => Path.GetFullPath(Path.Combine(dir, p)) == full);
        }
        catch (ModelFormatException) { return false; }
    }

    private static bool OnnxNames(string onnx, string full)
    {
        try
        {
            using var file = MappedFile.Open(onnx);
            string dir = Path.GetDirectoryName(onnx)!;
            return OnnxScan.ExternalLocations(OnnxParser.ParseModel(file))
                .Any(l => Path.GetFullPath(Path.Combine(dir, l.Location)) == full);
        }
        catch (ModelFormatException) { return false; }
    }
}
