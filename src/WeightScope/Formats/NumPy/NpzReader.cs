using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.NumPy;

/// <summary>
/// Maps an <c>.npz</c> archive (<c>np.savez</c>, <c>np.savez_compressed</c>) to the uniform model: one tensor per array
/// member, named as <c>np.load(path).files</c> names it (the member name without <c>.npy</c>), in central-directory order.
/// </summary>
/// <remarks>
/// A member that numpy reads but WeightScope does not (an object, structured or string array; a compression method other
/// than stored or deflate) does not make the archive unreadable: it is left out of the tensors and described in
/// <see cref="ModelFile.Metadata"/> under <c>unsupported:&lt;name&gt;</c>. So is a member that is not an array at all
/// (no npy magic and no <c>.npy</c> suffix), for which <c>np.load</c> returns raw bytes. Corrupt members fail the whole archive.
/// </remarks>
internal static class NpzReader
{
    /// <summary>np.savez names each member <c>&lt;key&gt;.npy</c>.</summary>
    public const string MemberSuffix = ".npy";

    /// <summary>Metadata key prefix for members that are not read as tensors.</summary>
    public const string UnsupportedPrefix = ModelFile.UnsupportedKeyPrefix;

    public static ModelFile Read(DetectionContext context, ReaderOptions options)
    {
        var file = context.File ?? throw new ArgumentException("npz needs a file", nameof(context));
        var zip = context.Zip ?? throw new ArgumentException("npz needs a zip archive", nameof(context));
        var limits = options.Limits;
        if (zip.Entries.Count > limits.MaxTensorCount)
            throw new ReaderLimitException(NpzFormat.FormatName, nameof(ReaderLimits.MaxTensorCount), zip.Entries.Count, limits.MaxTensorCount, 0);

        var tensors = new List<TensorEntry>();
        var metadata = new Dictionary<string, object?>(StringComparer.Ordinal);
        var versions = new SortedSet<string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            bool named = entry.Name.EndsWith(MemberSuffix, StringComparison.Ordinal);
            string key = named ? entry.Name[..^MemberSuffix.Length] : entry.Name;
            if (!keys.Add(key))
                throw NpyErrors.Invalid(new NpySource(NpzFormat.FormatName, null),
                    $"member '{entry.Name}' gives a second array named '{key}' (np.load would return only one of them)", entry.LocalHeaderOffset);
            try
            {
                var member = NpzMember.Open(zip, file, entry, limits);
                // np.load reads a member as an array when it starts with the npy magic, and returns raw bytes otherwise;
                // a member named *.npy without the magic is a damaged array, not a blob, so that one is an error.
                if (!named && !NpyPrelude.StartsWithMagic(member.Head((int)Math.Min(NpyPrelude.MagicLength, member.Length))))
                {
                    metadata[UnsupportedPrefix + key] = $"member '{entry.Name}' is not an npy array ({entry.UncompressedSize} bytes that np.load returns raw); not read";
                    continue;
                }
                var header = NpyHeader.Read(member.Head, member.Length, member.Source, limits);
                tensors.Add(NpyReader.ToTensor(header, key, member.OpenData(header, entry.Name)));
                versions.Add(header.Version);
            }
            catch (UnsupportedModelFeatureException e)
            {
                metadata[UnsupportedPrefix + key] = e.Message;
            }
        }
        string? version = versions.Count == 0 ? null : string.Join(", ", versions);
        return new ModelFile(new ModelFormatInfo(NpzFormat.FormatName, version), new TensorCollection(tensors), metadata: metadata, owned: [file]);
    }
}
