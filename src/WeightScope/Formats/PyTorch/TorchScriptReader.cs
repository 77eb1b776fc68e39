using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// Reads a TorchScript archive of PyTorch 1.3+ (torch/csrc/jit/serialization/import.cpp): <c>data.pkl</c> holds the
/// module object tree (instances of <c>__torch__.…</c> classes, kept as inert stubs) with tensors whose storages are
/// <c>data/&lt;key&gt;</c>; <c>constants.pkl</c> holds the code's tensor constants (storages in <c>constants/</c>).
/// </summary>
/// <remarks>
/// Tensors are listed as <c>state_dict()</c> lists them (per module: parameters, buffers, then submodules); a module's
/// other tensor-holding attributes follow its buffers with role Other; then each tensor constant as <c>constants.N</c>
/// (role Other), N its index in the constants tuple.
/// </remarks>
internal static class TorchScriptReader
{
    private const string Format = TorchScriptFormat.FormatName;

    public static ModelFile Read(TorchArchive archive, MappedFile file, ReaderLimits limits)
    {
        bool bigEndian = archive.IsBigEndian(Format);
        var resolver = TorchGlobals.CreateResolver();
        var schema = new TorchScriptSchema(archive, limits);
        var data = archive.Record("data.pkl")!;
        var storages = new Dictionary<string, TorchStorageRef>(StringComparer.Ordinal);

        var errors = new PickleErrors(Format, data.Name);
        var root = new Unpickler(resolver, limits, errors, archive.StorageLoader("data", errors, storages)).Load(archive.Bytes(data, limits), 0, out _);
        var mapper = new TorchObjectMapper(Format, limits, schema, bigEndian, data.Name);
        mapper.Map(root);

        if (archive.Record("constants.pkl") is { } constants)
        {
            var cerrors = new PickleErrors(Format, constants.Name);
            var values = new Unpickler(resolver, limits, cerrors, archive.StorageLoader("constants", cerrors, storages))
                .Load(archive.Bytes(constants, limits), 0, out _);
            if (values is IReadOnlyList<object?> list)
                for (int i = 0; i < list.Count; i++)
                    if (list[i] is TorchTensor t) mapper.AddTensor($"constants.{i}", t, TensorRole.Other);
        }
        return new ModelFile(new ModelFormatInfo(Format, archive.VersionText()), new TensorCollection(mapper.Tensors), mapper.Root,
            mapper.Metadata, [file]);
    }
}
