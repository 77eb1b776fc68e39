namespace WeightScope.Formats.PyTorch;

/// <summary>Messages of the PyTorch readers that are about the file as a whole (the unpickler has its own, <see cref="Pickle.PickleErrors"/>).</summary>
internal static class PyTorchErrors
{
    /// <summary>The legacy file's first pickle is not torch's magic number.</summary>
    public static InvalidModelContentException BadMagic(object? found, long offset) =>
        new(PyTorchLegacyFormat.FormatName, $"the first pickle should be torch's magic number 0x1950a86a20f9469cfc6c but is {Pickle.PickleErrors.Describe(found)}", offset);

    /// <summary>The legacy protocol version is not 1001.</summary>
    public static UnsupportedModelFeatureException BadProtocol(object? found, long offset) =>
        new(PyTorchLegacyFormat.FormatName, $"legacy serialization protocol {Pickle.PickleErrors.Describe(found)} (only 1001, used by PyTorch 0.1.10–1.5, is read)", offset);

    /// <summary>The pre-0.1.10 tar format.</summary>
    public static UnsupportedModelFeatureException TarFormat() =>
        new(PyTorchLegacyFormat.FormatName,
            "the pre-0.1.10 tar checkpoint format (members 'sys_info', 'pickle', 'tensors', 'storages'); load it with an old " +
            "PyTorch (torch.load still reads it) and save it again with torch.save", 0);

    /// <summary>A PyTorch Mobile flatbuffer file: no zip, no pickles.</summary>
    public static UnsupportedModelFeatureException MobileFlatbuffer() =>
        new(TorchScriptFormat.FormatName,
            "the PyTorch Mobile flatbuffer format (file identifier 'PTMF', written by _save_for_lite_interpreter(..., " +
            "_use_flatbuffer=True)); save the module with the default zip format (torch.jit.save, or " +
            "_save_for_lite_interpreter without _use_flatbuffer)", 4);

    /// <summary>A TorchScript archive with neither data.pkl nor model.json.</summary>
    public static InvalidModelContentException NoTorchScriptData(string prefix) =>
        new(TorchScriptFormat.FormatName, $"TorchScript archive '{prefix}/' has neither data.pkl nor model.json", null, prefix);
}
