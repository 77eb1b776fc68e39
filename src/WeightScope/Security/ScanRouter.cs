using WeightScope.Formats;
using WeightScope.Formats.Gguf;
using WeightScope.Formats.Hdf5;
using WeightScope.Formats.Keras;
using WeightScope.Formats.Onnx;
using WeightScope.Formats.SafeTensors;
using WeightScope.Formats.TensorFlow;
using WeightScope.Formats.TensorFlow.SavedModel;
using WeightScope.Formats.TfJs;
using WeightScope.Formats.TorchSharp;
using WeightScope.IO;

namespace WeightScope.Security;

/// <summary>
/// Decides what <c>scan</c> reads a path as, by content, with the readers' own detection (<see cref="ModelFormats"/>):
/// the same file or folder <see cref="ModelFile.Open(string, ReaderOptions?)"/> would read, and the same format. Pickle-bearing
/// formats (zip archives — torch, TorchScript, npz, .keras and any other zip —, npy, legacy torch files, and content no
/// reader recognises that walks as a pickle) go to <see cref="PickleScanner"/>; every other format gets the scan of what
/// can run or escape in that format (<see cref="FormatScans"/>), never a pickle walk.
/// </summary>
internal static class ScanRouter
{
    /// <summary>
    /// The report for <paramref name="path"/> when it is not a pickle-bearing file; null when <see cref="PickleScanner"/>
    /// should walk it as it stands.
    /// </summary>
    /// <exception cref="ModelFormatException">The file is in a known format but unreadable, or in none (the reader's message).</exception>
    public static ScanReport? Route(string path, ReaderLimits limits)
    {
        string target = ModelFormats.Target(path);
        ScanReport? report = Directory.Exists(target) ? Folder(path, target, limits) : File(path, target, limits);
        if (report is not null && !SamePath(path, target))
            report.Notes.Insert(0, $"{path} belongs to {target}, which TensorFlow loads as a whole: that was scanned");
        return report;
    }

    private static ScanReport Folder(string path, string dir, ReaderLimits limits)
    {
        var ctx = new DetectionContext(dir, null, null, isDirectory: true, limits);
        return ModelFormats.Detect(ctx) switch
        {
            TfSavedModelFormat => SavedModelOpsScan.Scan(path, Path.Combine(dir, SavedModelGraph.FileName), limits),
            TfCheckpointFormat => FormatScans.TfCheckpoint(path, dir, limits),
            SafeTensorsShardedFormat or TfJsFormat => FormatScans.NoCode(path, dir, ctx, limits),
            { } format => throw new UnsupportedModelFeatureException(format.Name, "scan has no check for this format") { FilePath = path },
            null => throw new UnknownModelFormatException(ModelFormats.Describe(ctx)) { FilePath = path },
        };
    }

    private static ScanReport? File(string path, string target, ReaderLimits limits)
    {
        using var file = MappedFile.Open(target);
        var head = file.Span(0, (int)Math.Min(file.Length, 8));
        // Zip archives (whatever their members) and npy files hold pickles or may: walked by their members' content.
        if (ZipIndex.LooksLikeZip(head)) return Pickles(path, target, file, limits);
        var ctx = new DetectionContext(target, file, null, isDirectory: false, limits);
        return ModelFormats.Detect(ctx) switch
        {
            Formats.NumPy.NpyFormat or Formats.PyTorch.PyTorchLegacyFormat => Pickles(path, target, file, limits),
            KerasH5Format or Keras3WeightsFormat or Hdf5Format => FormatScans.Hdf5(path, target, file, limits),
            OnnxFormat => OnnxScan.Scan(path, target, file, limits),
            TfMetaGraphFormat => SavedModelOpsScan.ScanMetaGraph(path, target, limits),
            TfCheckpointFormat => FormatScans.TfCheckpoint(path, target, limits),
            TfJsFormat => FormatScans.TfJs(path, target, file, limits),
            SafeTensorsFormat or SafeTensorsShardedFormat or GgufFormat or TorchSharpFormat or OnnxTensorFormat
                => FormatScans.NoCode(path, target, ctx, limits),
            { } format => throw new UnsupportedModelFeatureException(format.Name, "scan has no check for this format") { FilePath = path },
            null => Unrecognised(path, target, file, ctx, limits),
        };
    }

    // The pickle scanner reads the path itself unless the path was redirected to another file.
    private static ScanReport? Pickles(string path, string target, MappedFile file, ReaderLimits limits) =>
        SamePath(path, target) ? null : PickleScanner.Scan(file, target, limits);

    /// <summary>
    /// Content no reader recognises: a zip with bytes before it (zipfile opens it; torch.load and numpy read the same
    /// bytes as a pickle, so both are scanned), a file another model file names as its raw bytes, a JSON config, a pickle
    /// of any protocol (joblib, pickle.dump), a TensorFlow Lite flatbuffer (no reader, but its operator table is checked)
    /// — or none of these: the reader's own message, exit 3.
    /// </summary>
    private static ScanReport Unrecognised(string path, string target, MappedFile file, DetectionContext ctx, ReaderLimits limits)
    {
        if (ZipIndex.PrependedBytes(file) is long prefix and > 0)
            return PrefixedZip(path, file, prefix, limits);
        if (Companions.Owner(target, limits) is { } owner) return owner;
        if (JsonConfigScan.LooksLikeJson(ctx.Header.Span) && JsonConfigScan.Scan(path, file, limits) is { } json) return json;
        if (TfLiteScan.LooksLikeTfLite(ctx.Header.Span)) return TfLiteScan.Scan(path, file, limits);
        var asPickle = PickleScanner.Scan(file, path, limits);
        if (asPickle.Pickles.Count > 0 || asPickle.Globals.Count > 0) return asPickle;
        throw new UnknownModelFormatException(ModelFormats.Describe(ctx) + "; it is not a pickle either ("
                                              + string.Join("; ", asPickle.Errors.Select(e => e.Message)) + ")") { FilePath = path };
    }

    private static ScanReport PrefixedZip(string path, MappedFile file, long prefix, ReaderLimits limits)
    {
        var archive = file.Slice(prefix, file.Length - prefix); // a view: file owns the memory
        var report = PickleScanner.Scan(archive, path, limits);
        report.Notes.Insert(0, $"a zip archive after {prefix} bytes of something else: Python's zipfile (Keras, joblib's zip readers) opens it there, "
                               + "so its members were scanned (their offsets count from the archive's start); torch.load and numpy.load read the file from byte 0 as a pickle, scanned too");
        var asPickle = PickleScanner.Scan(file, path, limits);
        report.Globals.AddRange(asPickle.Globals);
        report.Pickles.AddRange(asPickle.Pickles);
        if (asPickle.Pickles.Count == 0 && asPickle.Globals.Count == 0)
            report.Notes.Add($"the first {prefix} bytes are not a pickle: torch.load and numpy.load refuse the file without running anything");
        else report.Errors.AddRange(asPickle.Errors);
        return report;
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);
}
