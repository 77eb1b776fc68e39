using System.Text;
using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.IO;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// The zip container torch.save (since 1.6) and torch.jit.save write (caffe2/serialize/inline_container.cc,
/// PyTorchStreamWriter): every record under one top-level folder, the "archive name" (the file stem, or <c>archive</c>),
/// with <c>data.pkl</c>, <c>data/&lt;key&gt;</c> storages, <c>version</c> (or <c>.data/version</c>) and, in newer
/// versions, <c>byteorder</c>, <c>.format_version</c>, <c>.storage_alignment</c> and <c>.data/serialization_id</c>.
/// </summary>
internal sealed class TorchArchive
{
    /// <summary>Largest small record (version, byteorder…) read whole.</summary>
    private const int MaxRecordBytes = 4096;

    private TorchArchive(ZipIndex zip, string prefix)
    {
        Zip = zip;
        Prefix = prefix;
    }

    /// <summary>The zip directory.</summary>
    public ZipIndex Zip { get; }

    /// <summary>The archive name (the top-level folder), without the slash.</summary>
    public string Prefix { get; }

    /// <summary>The member <c>&lt;prefix&gt;/&lt;name&gt;</c>, or null.</summary>
    public ZipEntry? Record(string name) => Zip.Find($"{Prefix}/{name}");

    /// <summary>
    /// Finds the archive name: like PyTorchStreamReader, the first member's top-level folder; failing that, any
    /// top-level folder holding one of <paramref name="markers"/>. Null when no folder holds it.
    /// </summary>
    public static TorchArchive? Find(ZipIndex zip, params string[] markers)
    {
        if (zip.Entries.Count == 0) return null;
        var first = zip.Entries[0].Name;
        int slash = first.IndexOf('/');
        if (slash > 0)
        {
            var prefix = first[..slash];
            if (markers.Any(m => zip.Find($"{prefix}/{m}") is not null)) return new TorchArchive(zip, prefix);
        }
        foreach (var e in zip.Entries)
        {
            int s = e.Name.IndexOf('/');
            if (s <= 0) continue;
            var rest = e.Name[(s + 1)..];
            if (markers.Contains(rest, StringComparer.Ordinal)) return new TorchArchive(zip, e.Name[..s]);
        }
        return null;
    }

    /// <summary>True for a TorchScript archive (torch.jit.save): constants.pkl, code/ or the older model.json.</summary>
    public bool IsTorchScript =>
        Record("constants.pkl") is not null || Record("model.json") is not null
        || Zip.Entries.Any(e => e.Name.StartsWith($"{Prefix}/code/", StringComparison.Ordinal));

    /// <summary>A small text record, trimmed, or null when absent.</summary>
    public string? Text(string name)
    {
        var e = Record(name);
        if (e is null) return null;
        return Encoding.UTF8.GetString(Zip.ReadAll(e, MaxRecordBytes, limitName: null)).Trim();
    }

    /// <summary>A whole record's bytes (a pickle, a JSON, source code), bounded by <see cref="ReaderLimits.MaxHeaderBytes"/>.</summary>
    public byte[] Bytes(ZipEntry e, ReaderLimits limits) => Zip.ReadAll(e, limits.MaxHeaderBytes);

    /// <summary>
    /// The format facts the archive records, for <see cref="ModelFormatInfo.Version"/>:
    /// <c>version 3, format_version 1, storage_alignment 64, byteorder little</c>.
    /// </summary>
    public string? VersionText()
    {
        var parts = new List<string>();
        if ((Text("version") ?? Text(".data/version")) is { } v) parts.Add($"version {v}");
        if (Text(".format_version") is { } f) parts.Add($"format_version {f}");
        if (Text(".storage_alignment") is { } a) parts.Add($"storage_alignment {a}");
        if (Text("byteorder") is { } b) parts.Add($"byteorder {b}");
        if (Text(".data/serialization_id") is { } id) parts.Add($"serialization_id {id}");
        return parts.Count == 0 ? null : string.Join(", ", parts);
    }

    /// <summary>
    /// True when storages are big-endian. serialization.py: a <c>byteorder</c> record of "little" or "big"; without one,
    /// little (the default since PyTorch 2.1, and what every earlier little-endian machine wrote).
    /// </summary>
    public bool IsBigEndian(string format)
    {
        var e = Record("byteorder");
        if (e is null) return false;
        string order = Encoding.ASCII.GetString(Zip.ReadAll(e, MaxRecordBytes, limitName: null));
        return order switch
        {
            "little" => false,
            "big" => true,
            _ => throw new InvalidModelContentException(format, $"byteorder record is '{Truncate(order)}'; expected 'little' or 'big'", 0, e.Name),
        };
    }

    /// <summary>
    /// The persistent-id loader for <c>&lt;archive&gt;.pkl</c>: ('storage', storage_type, key, location, numel) names the
    /// member <c>&lt;prefix&gt;/&lt;folder&gt;/&lt;key&gt;</c>; one <see cref="TorchStorageRef"/> per member.
    /// </summary>
    public Func<object?, long, object?> StorageLoader(string folder, PickleErrors errors, Dictionary<string, TorchStorageRef> cache) => (pid, at) =>
    {
        if (pid is not PyTuple { Count: 5 } t || Ascii(t[0]) != "storage")
            throw errors.Invalid($"persistent id should be ('storage', storage_type, key, location, numel) but is {PickleErrors.Describe(pid)}", at);
        var type = t[1] switch
        {
            TorchStorageType s => s,
            PyGlobal g => throw errors.Unsupported($"storage class {g.FullName}", at),
            var other => throw errors.Invalid($"persistent id storage_type is {PickleErrors.Describe(other)}", at),
        };
        string key = t[2] switch
        {
            string s => s,
            long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
            var other => throw errors.Invalid($"persistent id key is {PickleErrors.Describe(other)}", at),
        };
        string location = Ascii(t[3]) ?? throw errors.Invalid($"persistent id location is {PickleErrors.Describe(t[3])}", at);
        if (t[4] is not long numel || numel < 0) throw errors.Invalid($"persistent id numel is {PickleErrors.Describe(t[4])}", at);
        // Some TorchScript versions put the folder in the key ('constants/0').
        string member = key.Contains('/') ? $"{Prefix}/{key}" : $"{Prefix}/{folder}/{key}";
        if (cache.TryGetValue(member, out var known)) return known;
        var entry = Zip.Find(member)
            ?? throw errors.Invalid($"persistent id names storage '{key}' but the archive has no member '{member}'", at);
        long expected;
        try { expected = checked(numel * type.ItemSize); }
        catch (OverflowException) { throw errors.Invalid($"storage '{key}' declares {numel} elements, too many to address", at); }
        if (entry.UncompressedSize != expected)
            throw errors.Invalid($"storage '{key}' is {numel} × {type.ItemSize}-byte {type.Name} elements = {expected} bytes, " +
                                 $"but member '{member}' holds {entry.UncompressedSize} bytes", at);
        var storage = new TorchStorageRef(key, type, location, numel, at) { Bytes = Zip.OpenStorage(entry, member) };
        cache[member] = storage;
        return storage;
    };

    // Python 2 pickles read with encoding='bytes' give bytes for these short ASCII fields (serialization.py _maybe_decode_ascii).
    private static string? Ascii(object? v) => v switch
    {
        string s => s,
        byte[] b => Encoding.ASCII.GetString(b),
        _ => null,
    };

    private static string Truncate(string s) => s.Length <= 20 ? s : s[..20] + "…";
}
