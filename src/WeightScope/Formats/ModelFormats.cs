using System.Text.Json;
using WeightScope.Formats.Gguf;
using WeightScope.Formats.Hdf5;
using WeightScope.Formats.Keras;
using WeightScope.Formats.NumPy;
using WeightScope.Formats.Onnx;
using WeightScope.Formats.PyTorch;
using WeightScope.Formats.SafeTensors;
using WeightScope.Formats.TfJs;
using WeightScope.Formats.TorchSharp;
using WeightScope.Formats.TensorFlow;
using WeightScope.Formats.TensorFlow.SavedModel;
using WeightScope.IO;

namespace WeightScope.Formats;

/// <summary>
/// The registry: every format, listed by hand in detection order. Zip-based formats come first and are told apart by
/// their member names (TorchScript before the PyTorch zip, since a TorchScript archive also has data.pkl).
/// </summary>
internal static class ModelFormats
{
    /// <summary>All formats in detection order.</summary>
    public static IReadOnlyList<IModelFormat> All { get; } =
    [
        // zip archives, by member names
        new TorchScriptFormat(),
        new PyTorchZipFormat(),
        new Keras3ArchiveFormat(),
        new NpzFormat(),
        // single files, by magic bytes
        new SafeTensorsFormat(),
        new NpyFormat(),
        new PyTorchLegacyFormat(),
        new GgufFormat(), // before HDF5, whose signature search also looks at offsets 512, 1024, … where GGUF metadata may lie
        new KerasH5Format(),
        new Keras3WeightsFormat(),
        new Hdf5Format(),
        new OnnxFormat(), // no magic: a header that reads as ModelProto fields, so after every magic-byte format
        new OnnxTensorFormat(), // .pb files that read as one TensorProto (ONNX test data)
        // JSON index files and folders
        new SafeTensorsShardedFormat(),
        // by a magic number at the end of the file, and folders holding a checkpoint
        new TfSavedModelFormat(), // folders with saved_model.pb: their variables/ checkpoint (before the checkpoint folder test)
        new TfCheckpointFormat(), // leveldb-table magic in the last 8 bytes; folders with a 'checkpoint' state file or a *.index
        new TfMetaGraphFormat(), // X.meta without a checkpoint beside it: the graph's constants
        new TfJsFormat(), // model.json with a weightsManifest, or its folder
        // no magic at all: last, and only on a fully consistent parse (see TorchSharpFormat)
        new TorchSharpFormat(),
    ];

    /// <summary>Opens a path with the first format that recognises it.</summary>
    public static ModelFile Open(string path, ReaderOptions options)
    {
        path = Target(path);
        if (Directory.Exists(path))
        {
            var ctx = new DetectionContext(path, null, null, isDirectory: true, options.Limits);
            var model = Dispatch(ctx, options, path);
            model.Path = path;
            return model;
        }
        var file = MappedFile.Open(path);
        try
        {
            return Open(file, path, options);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The file or folder <see cref="Open(string, ReaderOptions)"/> reads for <paramref name="path"/>: a TensorFlow
    /// checkpoint prefix ("model.ckpt-100", no file) names its index, and any file of a SavedModel or checkpoint
    /// (saved_model.pb, a data shard, X.meta) names the model it belongs to.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing at <paramref name="path"/>.</exception>
    internal static string Target(string path)
    {
        if (Directory.Exists(path)) return path;
        if (!System.IO.File.Exists(path) && System.IO.File.Exists(path + ".index")) path += ".index";
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"no such file: {path}", path);
        return TfCompanionFiles.Redirect(path) is { } owner ? Target(owner) : path;
    }

    /// <summary>The first format, in detection order, that recognises the context (what <see cref="Open(string, ReaderOptions)"/> reads it as); null for none.</summary>
    internal static IModelFormat? Detect(DetectionContext ctx) => All.FirstOrDefault(f => f.TryDetect(ctx));

    /// <summary>Opens mapped bytes; the model takes ownership of <paramref name="file"/> on success.</summary>
    internal static ModelFile Open(MappedFile file, string? path, ReaderOptions options)
    {
        ZipIndex? zip = null;
        var head = file.Span(0, (int)Math.Min(8, file.Length));
        if (ZipIndex.LooksLikeZip(head))
        {
            try { zip = ZipIndex.Read(file, options.Limits); }
            catch (ModelFormatException e) { e.FilePath ??= path; throw; }
            catch (EndOfDataException e) { throw new InvalidModelContentException("zip", e.Message, e.Offset, null, e) { FilePath = path }; }
        }
        var ctx = new DetectionContext(path, file, zip, isDirectory: false, options.Limits);
        var model = Dispatch(ctx, options, path);
        model.Path = path;
        model.Own(file); // also when the reader went on to other files (a sharded index) and kept none of this one
        return model;
    }

    private static ModelFile Dispatch(DetectionContext ctx, ReaderOptions options, string? path)
    {
        if (Detect(ctx) is { } format)
        {
            try
            {
                var model = format.Read(ctx, options);
                CheckDimensions(model, format, options.Limits);
                // Values are decoded later; a failure then names the file too (companion files, shards and external
                // data already named their own).
                if (path is not null)
                    foreach (var t in model.Tensors) t.Storage.SourcePath ??= path;
                return model;
            }
            catch (ModelFormatException e)
            {
                e.FilePath ??= path;
                throw;
            }
            // The format boundary: low-level failures become the one exception family, once, here.
            catch (Exception e) when (e is EndOfDataException or ArgumentException or OverflowException or JsonException
                                           or InvalidDataException or IndexOutOfRangeException or FormatException or KeyNotFoundException or InvalidCastException)
            {
                long? offset = e is EndOfDataException eod ? eod.Offset : null;
                throw new InvalidModelContentException(format.Name, e.Message, offset, null, e) { FilePath = path };
            }
        }
        throw new UnknownModelFormatException(Describe(ctx)) { FilePath = path };
    }

    // One place for every reader: a rank of 100,000 parses in linear time, but printing, indexing and strides then cost
    // as much per element; numpy refuses such arrays on creation.
    private static void CheckDimensions(ModelFile model, IModelFormat format, ReaderLimits limits)
    {
        foreach (var t in model.Tensors)
        {
            if (t.Shape.Rank <= limits.MaxDimensions) continue;
            model.Dispose();
            throw new ReaderLimitException(format.Name, nameof(ReaderLimits.MaxDimensions), t.Shape.Rank, limits.MaxDimensions, null, t.Name);
        }
    }

    /// <summary>Why no format recognises the context: what it looks like, and which formats were tried.</summary>
    internal static string Describe(DetectionContext ctx)
    {
        if (ctx.IsDirectory) return "no known model format in this folder (looked for *.safetensors.index.json, *.safetensors, saved_model.pb, a TensorFlow 'checkpoint' state file, *.index)";
        if (ctx.Zip is { } z)
            return $"zip archive with no member that marks a known format (expected '<prefix>/data.pkl', '*.npy' members…); first members: "
                   + string.Join(", ", z.Entries.Take(5).Select(e => e.Name));
        var h = ctx.Header.Span;
        if (h.Length == 0) return "the file is empty";
        var hex = Convert.ToHexString(h[..Math.Min(8, h.Length)]);
        // A pickle that is not torch's (joblib, plain pickle.dump): no tensor layout to read, and never unpickled.
        if (h.Length >= 2 && h[0] == 0x80 && h[1] is >= 2 and <= 5)
            return $"a pickle (protocol {h[1]}) that is not a torch.save file (a joblib or pickle.dump of Python objects); WeightScope " +
                   "never unpickles arbitrary objects, so it has no tensors to show: `weightscope scan FILE` lists the globals loading it would import";
        return $"unrecognised content (first bytes {hex}); known formats: {string.Join(", ", All.Select(f => f.Name))}";
    }
}
