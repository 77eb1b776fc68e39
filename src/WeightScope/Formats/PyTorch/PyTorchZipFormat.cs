using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.Tensors;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// <c>torch.save</c>'s zip format (PyTorch 1.6 and later, <c>_use_new_zipfile_serialization=True</c>): a zip whose
/// records sit under one folder, with the pickled object in <c>&lt;folder&gt;/data.pkl</c> and each storage in
/// <c>&lt;folder&gt;/data/&lt;key&gt;</c>. TorchScript archives (which add <c>constants.pkl</c> and <c>code/</c>) are
/// <see cref="TorchScriptFormat"/>'s.
/// </summary>
internal sealed class PyTorchZipFormat : IModelFormat
{
    /// <summary>The format name.</summary>
    public const string FormatName = "pytorch-zip";

    /// <inheritdoc />
    public string Name => FormatName;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".pt", ".pth", ".bin", ".ckpt", ".tar"];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context) =>
        context.Zip is { } zip && TorchArchive.Find(zip, "data.pkl") is { IsTorchScript: false };

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        var archive = TorchArchive.Find(context.Zip!, "data.pkl")!;
        var limits = options.Limits;
        bool bigEndian = archive.IsBigEndian(FormatName);
        var data = archive.Record("data.pkl")!;
        var errors = new PickleErrors(FormatName, data.Name);
        var unpickler = new Unpickler(TorchGlobals.CreateResolver(), limits, errors,
            archive.StorageLoader("data", errors, new Dictionary<string, TorchStorageRef>(StringComparer.Ordinal)));
        var root = unpickler.Load(archive.Bytes(data, limits), 0, out _);
        var mapper = new TorchObjectMapper(FormatName, limits, EagerModuleSchema.Instance, bigEndian, data.Name);
        mapper.Map(root);
        return new ModelFile(new ModelFormatInfo(FormatName, archive.VersionText()), new TensorCollection(mapper.Tensors),
            mapper.Root, mapper.Metadata, [context.File!]);
    }
}
