using WeightScope.IO;

namespace WeightScope.Formats;

/// <summary>
/// A weight-file format: a cheap detector over what <see cref="DetectionContext"/> offers (header bytes, zip member
/// names, a folder's files) and a reader that maps the file into the uniform <see cref="ModelFile"/>.
/// </summary>
internal interface IModelFormat
{
    /// <summary>Short name used in messages and <c>--json</c> (<c>safetensors</c>, <c>pytorch-zip</c>).</summary>
    string Name { get; }

    /// <summary>Usual file extensions, for documentation and for writers; never used for detection.</summary>
    IReadOnlyList<string> Extensions { get; }

    /// <summary>True when this format recognises the content. Must not throw and must not read beyond the context.</summary>
    bool TryDetect(DetectionContext context);

    /// <summary>Reads the headers and index of the file into a <see cref="ModelFile"/>; tensor data stays lazy.</summary>
    /// <exception cref="ModelFormatException">The content breaks the format's rules.</exception>
    ModelFile Read(DetectionContext context, ReaderOptions options);
}

/// <summary>What detectors look at: the header bytes, the zip directory if the file is a zip, or a folder.</summary>
internal sealed class DetectionContext
{
    /// <summary>How many leading bytes <see cref="Header"/> holds at most.</summary>
    public const int HeaderSize = 4096;

    internal DetectionContext(string? path, MappedFile? file, ZipIndex? zip, bool isDirectory, ReaderLimits? limits = null)
    {
        Path = path;
        Limits = (limits ?? ReaderLimits.Default).ForDetection();
        File = file;
        Zip = zip;
        IsDirectory = isDirectory;
        Header = file is null ? ReadOnlyMemory<byte>.Empty : file.Span(0, (int)Math.Min(HeaderSize, file.Length)).ToArray();
    }

    /// <summary>The limits a detector that parses (HDF5 roots, TorchSharp, tfjs JSON) stays within: the caller's, each at
    /// least its default (<see cref="ReaderLimits.ForDetection"/>). Readers use <see cref="ReaderOptions.Limits"/>.</summary>
    public ReaderLimits Limits { get; }

    /// <summary>The path opened (file or folder); null for streams.</summary>
    public string? Path { get; }

    /// <summary>The mapped file; null for a folder.</summary>
    public MappedFile? File { get; }

    /// <summary>The zip directory when the file is a zip archive.</summary>
    public ZipIndex? Zip { get; }

    /// <summary>True when <see cref="Path"/> is a folder.</summary>
    public bool IsDirectory { get; }

    /// <summary>Up to <see cref="HeaderSize"/> leading bytes.</summary>
    public ReadOnlyMemory<byte> Header { get; }
}
