using WeightScope.Formats;
using WeightScope.Formats.Gguf;
using WeightScope.Formats.Onnx;
using WeightScope.Formats.SafeTensors;
using WeightScope.Formats.TensorFlow;
using WeightScope.Formats.TfJs;
using WeightScope.Formats.TorchSharp;
using WeightScope.IO;

namespace WeightScope.Security;

/// <summary>
/// The scans of formats that hold no pickle. Each file is first read with its normal reader (a file the reader refuses
/// gets the reader's message, exit 3); then what can run in that format is checked: Keras configs in HDF5 and TF.js
/// files, graphs beside TF checkpoints, Jinja chat templates in GGUF. Formats with nothing executable (safetensors, GGUF,
/// TorchSharp, TF checkpoints, ONNX tensors) get a note saying what was checked: "no code-bearing content".
/// </summary>
internal static class FormatScans
{
    private const string NoCodeNote = "no code-bearing content";

    /// <summary>A format with nothing executable: read with its reader, then said so.</summary>
    public static ScanReport NoCode(string path, string target, DetectionContext ctx, ReaderLimits limits)
    {
        var format = ModelFormats.Detect(ctx)!;
        using var model = ModelFile.Open(target, Options(limits));
        var report = new ScanReport { Path = path, Container = format.Name };
        if (format is GgufFormat) ChatTemplateScan.Check(report, model.Metadata, "GGUF metadata");
        if (format is TfJsFormat) return TfJs(report, model, limits);
        report.Notes.Add($"{NoCodeNote}: {What(format, model.Tensors.Count)}");
        return report;
    }

    private static string What(IModelFormat format, int tensors) => format switch
    {
        SafeTensorsFormat => $"the JSON header ({tensors} tensors: names, dtypes, shapes, offsets; __metadata__ holds strings only) was read; safetensors serialises no objects or code",
        SafeTensorsShardedFormat => $"the index and every shard's JSON header ({tensors} tensors) were read, shards resolved inside the folder; safetensors serialises no objects or code",
        GgufFormat => $"the GGUF key/value metadata and {tensors} tensor infos were read; GGUF holds values and tensors, nothing Python or llama.cpp executes (chat templates checked above)",
        TorchSharpFormat => $"the TorchSharp records ({tensors} tensors: names, types, shapes, raw bytes) were read; the format has no pickle and no code",
        OnnxTensorFormat => "one ONNX TensorProto (data only) was read",
        TfCheckpointFormat => $"the checkpoint's tensor bundle ({tensors} tensors: index table and data shards) was read; a checkpoint holds tensors, not a graph",
        _ => $"{tensors} tensors read",
    };

    /// <summary>HDF5 (user block included): no pickle; a Keras model's <c>model_config</c> and <c>training_config</c> attributes are configs.</summary>
    public static ScanReport Hdf5(string path, string target, MappedFile file, ReaderLimits limits)
    {
        using var model = ModelFile.Open(target, Options(limits));
        var report = new ScanReport { Path = path, Container = "hdf5" }; // plain, Keras 1/2 or Keras 3 weights: the note says which
        var configs = new List<string>();
        foreach (var key in (string[])["model_config", "training_config"])
        {
            if (!model.Metadata.TryGetValue(key, out var value)) continue;
            var json = value switch
            {
                string s => System.Text.Encoding.UTF8.GetBytes(s),
                byte[] b => b,
                _ => null,
            };
            if (json is null) continue;
            KerasLambdaScan.Scan(report, json, key);
            configs.Add(key);
        }
        long userBlock = Formats.Hdf5.Superblock.Superblock.FindSignature(file.Span(0, (int)Math.Min(file.Length, DetectionContext.HeaderSize)));
        if (userBlock > 0) UserBlock(report, file, path, userBlock, limits);
        report.Notes.Add($"{NoCodeNote} in the HDF5 structure (read as {model.Format.Name}: {model.Tensors.Count} datasets; HDF5 stores values only)"
                         + (configs.Count > 0 ? $"; Keras {string.Join(" and ", configs)} checked for code references" : "; no Keras config attributes"));
        return report;
    }

    // The user block is free bytes before the superblock. torch.load and pickle.load read a file from byte 0, so a user
    // block that is a pickle runs when the file is handed to them: walked, and its globals reported.
    private static void UserBlock(ScanReport report, MappedFile file, string path, long size, ReaderLimits limits)
    {
        var asPickle = PickleScanner.Scan(file, path, limits);
        if (asPickle.Globals.Count == 0 && asPickle.Pickles.Count == 0)
        {
            report.Notes.Add($"the {size}-byte user block before the HDF5 superblock is not a pickle");
            return;
        }
        report.Notes.Add($"the {size}-byte user block before the HDF5 superblock walks as a pickle: torch.load or pickle.load of this file would run it");
        report.Globals.AddRange(asPickle.Globals);
        report.Pickles.AddRange(asPickle.Pickles);
    }

    /// <summary>A TensorFlow checkpoint, with the TF1 meta graph a Saver writes beside it (<c>import_meta_graph</c> loads its ops).</summary>
    public static ScanReport TfCheckpoint(string path, string target, ReaderLimits limits)
    {
        using var model = ModelFile.Open(target, Options(limits));
        var report = new ScanReport { Path = path, Container = model.Format.Name };
        var metas = Directory.Exists(target)
            ? Directory.GetFiles(target, "*" + TfCompanionFiles.MetaSuffix).Order(StringComparer.Ordinal).ToList()
            : TfCompanionFiles.MetaGraphBeside(target) is { } m ? [m] : [];
        foreach (var meta in metas) SavedModelOpsScan.CheckMetaGraphFile(report, meta, limits);
        report.Notes.Add($"{NoCodeNote} in the checkpoint itself: {What(new TfCheckpointFormat(), model.Tensors.Count)}"
                         + (metas.Count > 0 ? $"; the meta graph beside it ({string.Join(", ", metas.Select(Path.GetFileName))}) checked for file and Python ops" : ""));
        return report;
    }

    /// <summary>A TF.js model.json: read with its reader (shards resolved inside the folder), then its topology checked as a Keras config.</summary>
    public static ScanReport TfJs(string path, string target, MappedFile file, ReaderLimits limits)
    {
        using var model = ModelFile.Open(target, Options(limits));
        return TfJs(new ScanReport { Path = path, Container = model.Format.Name }, model, limits);
    }

    private static ScanReport TfJs(ScanReport report, ModelFile model, ReaderLimits limits)
    {
        var json = Directory.Exists(model.Path) ? null : model.Path;
        json ??= Path.Combine(model.Path!, "model.json");
        if (File.Exists(json) && new FileInfo(json).Length <= limits.MaxHeaderBytes)
            KerasLambdaScan.Scan(report, File.ReadAllBytes(json), Path.GetFileName(json));
        report.Notes.Add($"{NoCodeNote} in the weights: model.json and its {model.Tensors.Count} weights (shards resolved inside the folder) were read; "
                         + "TF.js runs graphs with its own JavaScript ops (no file, process or Python access); the topology was checked as a Keras config");
        return report;
    }

    private static ReaderOptions Options(ReaderLimits limits) => new() { Limits = limits };
}
