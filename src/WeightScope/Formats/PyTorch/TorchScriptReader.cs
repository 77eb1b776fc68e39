using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// Reads a TorchScript archive of PyTorch 1.3+ (torch/csrc/jit/serialization/import.cpp): <c>data.pkl</c> holds the
/// module object tree (instances of <c>__torch__.…</c> classes, kept as inert stubs) with tensors whose storages are
/// <c>data/&lt;key&gt;</c>; <c>constants.pkl</c> holds the code's constants (storages in <c>constants/</c>). A
/// lite-interpreter file (<c>_save_for_lite_interpreter</c>, <c>.ptl</c>) adds <c>bytecode.pkl</c>, which
/// <c>torch.jit.load</c> does not read and neither does this reader.
/// </summary>
/// <remarks>
/// Tensors: first <c>torch.jit.load(f).state_dict()</c>, then the tensors it leaves out (see
/// <see cref="TorchScriptModules"/>), then each tensor of the constants table as <c>constants.N</c> (a torchbind
/// constant, such as the packed weights of a frozen quantized module, flattened below it), role Constant.
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
        if (root is not PyObject module || !schema.IsModule(module))
            throw errors.Invalid($"data.pkl should hold a TorchScript module but holds {PickleErrors.Describe(root)}", 0);
        var mapper = new TorchObjectMapper(Format, limits, EagerModuleSchema.Instance, bigEndian, data.Name);
        var tree = new TorchScriptModules(schema, mapper, data.Name).Map(module);

        if (archive.Record("constants.pkl") is { } constants)
        {
            var cerrors = new PickleErrors(Format, constants.Name);
            var values = new Unpickler(resolver, limits, cerrors, archive.StorageLoader("constants", cerrors, storages))
                .Load(archive.Bytes(constants, limits), 0, out _);
            var table = values as IReadOnlyList<object?>
                ?? throw cerrors.Invalid($"constants.pkl should hold a tuple of constants but holds {PickleErrors.Describe(values)}", 0);
            var walk = new TorchScriptModules(schema, mapper, constants.Name);
            for (int i = 0; i < table.Count; i++)
                walk.Flatten($"constants.{i}", table[i], TensorRole.Constant);
        }
        return new ModelFile(new ModelFormatInfo(Format, archive.VersionText()), new TensorCollection(mapper.Tensors), tree,
            mapper.Metadata, [file]);
    }
}
