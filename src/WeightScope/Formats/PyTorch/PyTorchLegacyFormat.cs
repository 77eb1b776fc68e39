using System.Numerics;
using System.Text;
using WeightScope.Formats.PyTorch.Pickle;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// <c>torch.save</c>'s legacy format (PyTorch 0.1.10–1.5, and later with <c>_use_new_zipfile_serialization=False</c>):
/// pickles of the magic number, the protocol version 1001, a sys_info dict, the object, and the list of storage keys,
/// then every storage as an int64 element count and its raw little-endian bytes. Also recognises, and reports as not
/// supported, the pre-0.1.10 tar format.
/// </summary>
internal sealed class PyTorchLegacyFormat : IModelFormat
{
    /// <summary>The format name.</summary>
    public const string FormatName = "pytorch-legacy";

    /// <summary>torch/serialization.py MAGIC_NUMBER.</summary>
    internal static readonly BigInteger MagicNumber = BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);

    // The magic pickle is small (protocol 2: 16 bytes); detection runs it over at most this many header bytes.
    private const int MagicPickleMaxBytes = 64;

    // tar (POSIX ustar) header: member name at 0, magic "ustar" at 257.
    private const int TarNameLength = 100, TarMagicOffset = 257;

    private static readonly string[] TarMembers = ["sys_info", "pickle", "tensors", "storages"];

    /// <inheritdoc />
    public string Name => FormatName;

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".pt", ".pth", ".pkl", ".t7"];

    /// <inheritdoc />
    public bool TryDetect(DetectionContext context) => context.Zip is null && (StartsWithMagic(context.Header.Span) || IsTorchTar(context.Header.Span));

    /// <inheritdoc />
    public ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        if (IsTorchTar(context.Header.Span)) throw PyTorchErrors.TarFormat();
        return PyTorchLegacyReader.Read(context.File!, options.Limits);
    }

    // A pickle (any protocol) whose value is the magic number: protocol 2 writes PROTO 2, LONG1 of 10 bytes, STOP.
    internal static bool StartsWithMagic(ReadOnlySpan<byte> header)
    {
        if (header.Length == 0 || (header[0] != (byte)PickleOpcode.Proto && header[0] != (byte)PickleOpcode.Long)) return false;
        try
        {
            var u = new Unpickler(new PickleResolver(), ReaderLimits.Default with { MaxPickleOps = 16 }, new PickleErrors(FormatName, null));
            var value = u.Load(header[..Math.Min(header.Length, MagicPickleMaxBytes)], 0, out _);
            return value is BigInteger b && b == MagicNumber;
        }
        catch (ModelFormatException)
        {
            return false;
        }
    }

    private static bool IsTorchTar(ReadOnlySpan<byte> header)
    {
        if (header.Length < TarMagicOffset + 5 || !header.Slice(TarMagicOffset, 5).SequenceEqual("ustar"u8)) return false;
        var name = header[..TarNameLength];
        int nul = name.IndexOf((byte)0);
        string member = Encoding.ASCII.GetString(nul < 0 ? name : name[..nul]);
        return TarMembers.Contains(member, StringComparer.Ordinal);
    }
}
