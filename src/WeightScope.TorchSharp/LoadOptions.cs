using TorchSharp;
using WeightScope.Analysis;

namespace WeightScope.TorchSharp;

/// <summary>How <see cref="ModuleWeights.LoadWeights(torch.nn.Module, string, LoadOptions?)"/> pairs a file's tensors with a module's.</summary>
public sealed class LoadOptions
{
    /// <summary>
    /// Like <c>load_state_dict(strict=True)</c> (the default): any missing key, unexpected key or shape mismatch throws
    /// <see cref="WeightLoadException"/> listing all of them, and then nothing is copied (unlike torch, which copies what
    /// matched before it raises). With false, what matches is copied and the rest is reported in the result.
    /// </summary>
    public bool Strict { get; init; } = true;

    /// <summary>
    /// Rename rules applied to the file's names first, in order, as <c>diff --map</c> takes them
    /// (<c>s/^encoder\.//</c>, <c>s/dense_(\d+)/fc\1/</c>; see <see cref="RenameRule"/>).
    /// </summary>
    public IReadOnlyList<string> Rename { get; init; } = [];

    /// <summary>
    /// The last word on names: called with each file name after <see cref="Rename"/>; returns the module's name for it,
    /// or null to leave it out. The automatic steps (a <c>module.</c> or checkpoint prefix, Keras layer pairing) run on
    /// what it returns.
    /// </summary>
    public Func<string, string?>? MapName { get; init; }

    /// <summary>
    /// Convert Keras/TensorFlow and ONNX layouts to torch's (the default): Dense kernels transposed, convolution kernels
    /// permuted, recurrent gates reordered. False copies the file's arrays as they are (their shapes must then match).
    /// </summary>
    public bool ConvertLayouts { get; init; } = true;

    /// <summary>How the file is opened when a path is given (reader limits, external data outside the folder: see <see cref="ReaderOptions"/>).</summary>
    public ReaderOptions? Reader { get; init; }
}
