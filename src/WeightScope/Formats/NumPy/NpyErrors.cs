namespace WeightScope.Formats.NumPy;

/// <summary>
/// Where an npy byte stream comes from: a bare <c>.npy</c> file (format "npy", offsets within the file) or a member of
/// an <c>.npz</c> archive (format "npz", offsets within the uncompressed member named by <see cref="Entry"/>).
/// </summary>
internal readonly record struct NpySource(string Format, string? Entry)
{
    public static NpySource File { get; } = new(NpyFormat.FormatName, null);

    public static NpySource Member(string name) => new(NpzFormat.FormatName, name);
}

/// <summary>Every message the NumPy readers produce, in one place: what was expected, what was found, where.</summary>
internal static class NpyErrors
{
    public static InvalidModelContentException Invalid(NpySource s, string message, long offset, Exception? inner = null) =>
        new(s.Format, message, offset, s.Entry, inner);

    public static UnsupportedModelFeatureException Unsupported(NpySource s, string feature, long offset) =>
        new(s.Format, feature, offset, s.Entry);

    public static InvalidModelContentException BadMagic(NpySource s, ReadOnlySpan<byte> found) =>
        Invalid(s, $"expected the npy magic string 93 4E 55 4D 50 59 (\"\\x93NUMPY\"), found {Convert.ToHexString(found)}; "
                   + "this is not an array written by numpy.save", 0);

    public static InvalidModelContentException Truncated(NpySource s, string what, long needed, long available, long offset) =>
        Invalid(s, $"{what} needs {needed} bytes at offset {offset}, but the {Container(s)} has only {available} bytes: it is truncated", offset);

    public static UnsupportedModelFeatureException Version(NpySource s, byte major, byte minor, long offset) =>
        Unsupported(s, $"npy format version {major}.{minor} (numpy reads versions 1.0, 2.0 and 3.0)", offset);

    public static InvalidModelContentException HeaderBeyondEnd(NpySource s, long headerLength, long headerOffset, long available) =>
        Invalid(s, $"the header length field says {headerLength} bytes of header follow at offset {headerOffset}, "
                   + $"but the {Container(s)} ends at {available}: it is truncated or the length field is corrupt", headerOffset);

    public static InvalidModelContentException Syntax(NpySource s, string expected, string found, long offset) =>
        Invalid(s, $"cannot parse the header dict: expected {expected}, found {found}", offset);

    public static InvalidModelContentException Header(NpySource s, string message, long offset) =>
        Invalid(s, $"invalid header: {message}", offset);

    public static InvalidModelContentException DataTooShort(NpySource s, string array, long needed, long dataOffset, long available) =>
        Invalid(s, $"array data of {array} needs {needed} bytes from offset {dataOffset}, but only {Math.Max(0, available - dataOffset)} "
                   + $"bytes remain in the {Container(s)} of {available} bytes: it is truncated", dataOffset);

    public static InvalidModelContentException CorruptDeflate(NpySource s, string what, long offset, Exception inner) =>
        Invalid(s, $"the deflated member is corrupt or ends early while inflating {what} ({inner.Message}); "
                   + "the archive was damaged after np.savez_compressed wrote it", offset, inner);

    private static string Container(NpySource s) => s.Entry is null ? "file" : "member";
}
