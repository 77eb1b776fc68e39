using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Formats.NumPy;

/// <summary>
/// Writes an .npz as <c>np.savez</c> does (numpy/lib/npyio.py <c>_savez</c>): a zip with one member
/// <c>&lt;name&gt;.npy</c> per tensor, in order, each an .npy file (<see cref="NpyHeaderWriter"/>); stored, or deflated
/// as <c>np.savez_compressed</c> does when <see cref="WriteOptions.Compress"/> is set (or through the
/// <c>npz-compressed</c> writer). Zip64 fields where sizes need them. Member data is 64-byte aligned (numpy's zipfile
/// does not align, and ignores the padding), so a stored member's array data can be mapped in place.
/// numpy cannot record shared storage: tied weights are copied or refused (<see cref="WriteOptions.SharedStorage"/>).
/// </summary>
public sealed class NpzWriter : ITensorWriter
{
    private const int Alignment = 64;
    private readonly bool _compressed;

    /// <summary>The <c>npz</c> writer: stored members unless <see cref="WriteOptions.Compress"/> is set.</summary>
    public NpzWriter() : this(false) { }

    /// <summary>A writer that always compresses (<c>npz-compressed</c>) or compresses when asked (<c>npz</c>).</summary>
    public NpzWriter(bool compressed) => _compressed = compressed;

    /// <inheritdoc />
    public string Name => _compressed ? "npz-compressed" : "npz";

    /// <inheritdoc />
    /// <remarks>The compressed writer is chosen by name only: <c>.npz</c> alone does not say whether to compress.</remarks>
    public IReadOnlyList<string> Extensions => _compressed ? [] : s_extensions;

    private static readonly string[] s_extensions = [".npz"];

    /// <inheritdoc />
    public void Validate(IReadOnlyList<TensorEntry> tensors, WriteOptions options)
    {
        foreach (var t in tensors) NpyHeaderWriter.CheckDType(t, Name);
        TensorWriters.ApplySharedStoragePolicy(tensors, options with { Warning = null }, Name);
    }

    /// <inheritdoc />
    public void Write(IReadOnlyList<TensorEntry> tensors, Stream output, WriteOptions options)
    {
        TensorWriters.ApplySharedStoragePolicy(tensors, options, Name);
        bool deflate = _compressed || options.Compress;
        var zip = new ZipWriter(output, Alignment);
        long written = 0;
        foreach (var t in tensors)
        {
            var header = NpyHeaderWriter.Build(t, out var data);
            var member = zip.BeginMember(t.Name + NpzReader.MemberSuffix, checked(header.Length + t.ByteSize), deflate);
            member.Write(header);
            TensorBytes.WriteTo(data, member, options.Progress, ref written);
            zip.EndMember(member);
        }
        zip.Finish();
    }
}
