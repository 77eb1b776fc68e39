using System.Buffers.Binary;
using WeightScope.Formats.NumPy;
using WeightScope.IO;

namespace WeightScope.Security;

/// <summary>
/// Lists every global named by every pickle inside a file, and classifies it, without executing or building anything:
/// PyTorch zip archives (every <c>.pkl</c> member: <c>data.pkl</c>, TorchScript <c>constants.pkl</c>…), legacy
/// PyTorch files (their sequence of pickles), bare pickle files (joblib dumps too: their raw array bytes are skipped as
/// joblib reads them, and zlib/gzip-compressed dumps are inflated first), NumPy object arrays (<c>.npy</c> of dtype <c>|O</c>),
/// and the pickle or object-array members of <c>.npz</c> and <c>.keras</c> zips; Keras Lambda layers are flagged in
/// <c>.keras</c> configs and in the <c>model_config</c> of Keras HDF5 models.
/// </summary>
public static class PickleScanner
{
    // torch.save's legacy magic number, pickled first as LONG1 (torch/serialization.py MAGIC_NUMBER).
    private static ReadOnlySpan<byte> LegacyMagicPickle => [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

    // magic number, protocol version, sys info, the object, storage keys: then raw storage bytes, never unpickled.
    private const int LegacyPickles = 5;

    /// <summary>Scans the file at <paramref name="path"/>.</summary>
    /// <exception cref="ModelFormatException">The container itself (zip directory, npy header) is unreadable.</exception>
    public static ScanReport Scan(string path, ReaderLimits? limits = null)
    {
        if (ScanRouter.Route(path, limits ?? ReaderLimits.Default) is { } other) return other; // not a pickle-bearing format
        // A SavedModel (its folder or its saved_model.pb) has graphs, not pickles: their ops are checked instead.
        var savedModelPb = Directory.Exists(path) ? Path.Combine(path, "saved_model.pb") : path;
        if (Path.GetFileName(savedModelPb) == "saved_model.pb" && File.Exists(savedModelPb))
            return SavedModelOpsScan.Scan(path, savedModelPb, limits ?? ReaderLimits.Default);
        using var file = MappedFile.Open(path);
        return Scan(file, path, limits ?? ReaderLimits.Default);
    }

    internal static ScanReport Scan(MappedFile file, string path, ReaderLimits limits)
    {
        var head = file.Span(0, (int)Math.Min(file.Length, 64));
        if (ZipIndex.LooksLikeZip(head)) return ScanZip(file, path, limits);
        if (NpyPrelude.StartsWithMagic(head))
        {
            var report = new ScanReport { Path = path, Container = "npy" };
            ScanNpy(report, Whole(file), "", limits);
            return report;
        }
        if (Formats.Hdf5.Superblock.Superblock.FindSignature(head) >= 0) return ScanHdf5(path);
        if (JoblibCompression.Detect(head) is { } compression) return ScanCompressed(file, path, compression, limits);
        bool legacy = head.StartsWith(LegacyMagicPickle);
        var r = new ScanReport { Path = path, Container = legacy ? "pytorch-legacy" : "pickle" };
        ScanPickleSequence(r, Whole(file), legacy ? LegacyPickles : int.MaxValue, limits);
        return r;
    }

    // HDF5 holds no pickles; a Keras model's model_config attribute can hold Lambda layers (read by the normal reader,
    // which only parses JSON and HDF5 structures).
    private static ScanReport ScanHdf5(string path)
    {
        var report = new ScanReport { Path = path, Container = "hdf5" };
        using var model = ModelFile.Open(path);
        if (model.Metadata.TryGetValue("model_config", out var config))
        {
            var json = config switch
            {
                string s => System.Text.Encoding.UTF8.GetBytes(s),
                byte[] b => b,
                _ => null,
            };
            if (json is not null) KerasLambdaScan.Scan(report, json, "model_config");
        }
        return report;
    }

    // joblib.dump(…, compress=…) compresses the whole pickle stream (arrays included): inflated in memory, then walked
    // like a bare pickle file. Offsets are then in the decompressed stream, which a note says.
    private static ScanReport ScanCompressed(MappedFile file, string path, string compression, ReaderLimits limits)
    {
        var report = new ScanReport { Path = path, Container = $"joblib ({compression})" };
        var data = JoblibCompression.Inflate(file, path, compression, limits);
        report.Notes.Add($"the file is {compression}-compressed; offsets are in the decompressed stream ({data.Length} bytes)");
        ScanPickleSequence(report, data.Span, int.MaxValue, limits);
        return report;
    }

    private static ReadOnlySpan<byte> Whole(MappedFile file) => file.Span(0, (int)Math.Min(file.Length, Array.MaxLength));

    private static ScanReport ScanZip(MappedFile file, string path, ReaderLimits limits)
    {
        var zip = ZipIndex.Read(file, limits);
        bool torch = zip.Entries.Any(e => e.Name.EndsWith("/data.pkl", StringComparison.Ordinal) || e.Name == "data.pkl"
                                          || e.Name.EndsWith("/constants.pkl", StringComparison.Ordinal));
        bool keras = zip.Find("config.json") is not null && zip.Find("metadata.json") is not null;
        var report = new ScanReport { Path = path, Container = torch ? "pytorch-zip" : keras ? "keras" : "zip" };
        foreach (var e in zip.Entries)
        {
            if (e.Name.EndsWith('/')) continue;
            bool pickleName = e.Name.EndsWith(".pkl", StringComparison.OrdinalIgnoreCase) || e.Name.EndsWith(".pickle", StringComparison.OrdinalIgnoreCase);
            bool npyName = e.Name.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);
            bool config = e.Name.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
            bool sniffed = !pickleName && !npyName && !config;
            try
            {
                if (sniffed && !LooksLikePickle(zip, e, limits)) continue;
                var data = zip.ReadAll(e, limits.MaxHeaderBytes);
                if (config) KerasLambdaScan.Scan(report, data, e.Name);
                else if (data.AsSpan().StartsWith(NpyPrelude.Magic)) ScanNpy(report, data, e.Name, limits);
                else if (!ScanPickle(report, data, 0, e.Name, limits, out _, quiet: sniffed))
                    if (sniffed) report.Notes.Add($"{e.Name} starts like a pickle but is not one (tensor data, probably)");
            }
            catch (ModelFormatException x) { report.Errors.Add((e.Name, x.Message)); }
        }
        return report;
    }

    // A member with another name (a pickle hidden as "weights.bin", say) is scanned when it starts like a protocol
    // 2–5 pickle; tensor bytes can start that way too, so a failed walk of such a member is only a note.
    private static bool LooksLikePickle(ZipIndex zip, ZipEntry e, ReaderLimits limits)
    {
        if (e.UncompressedSize < 3) return false;
        if (!e.IsStored && e.UncompressedSize > limits.MaxHeaderBytes) return false; // would have to inflate it all to look
        var b = new byte[2];
        if (e.IsStored) zip.OpenStorage(e, e.Name).Read(0, b);
        else zip.ReadAll(e, limits.MaxHeaderBytes).AsSpan(0, 2).CopyTo(b);
        return b[0] == 0x80 && b[1] is >= 2 and <= 5;
    }

    private static void ScanNpy(ScanReport report, ReadOnlySpan<byte> data, string source, ReaderLimits limits)
    {
        var src = new NpySource("npy", source.Length == 0 ? null : source);
        var prelude = NpyPrelude.Read(data[..Math.Min(NpyPrelude.MaxSize, data.Length)], data.Length, src, limits);
        if (prelude.DataOffset > data.Length) throw NpyErrors.Header(src, "the header runs past the end of the file", prelude.Size);
        var items = PyLiteralParser.ParseDict(data[prelude.Size..(int)prelude.DataOffset], prelude.Size, src, prelude.IsUtf8,
                                              prelude.AllowsLongSuffix, limits.MaxNestingDepth);
        // Only object arrays ('|O', 'O', or a structured dtype holding an 'O' field) carry a pickle after the header.
        bool hasObjects = items.Any(i => i.Key == "descr" && MentionsObject(i.Value));
        if (!hasObjects) return;
        ScanPickle(report, data[(int)prelude.DataOffset..], prelude.DataOffset, source, limits, out _);
    }

    private static bool MentionsObject(object? descr) => descr switch
    {
        string s => s.TrimStart('|', '<', '>', '=').StartsWith('O'),
        System.Collections.IEnumerable e => e.Cast<object?>().Any(MentionsObject),
        _ => false,
    };

    private static void ScanPickleSequence(ScanReport report, ReadOnlySpan<byte> data, int maxPickles, ReaderLimits limits)
    {
        int at = 0;
        for (int n = 1; n <= maxPickles && at < data.Length; n++)
        {
            string source = maxPickles == int.MaxValue && n == 1 ? "" : $"pickle #{n}";
            bool ok = ScanPickle(report, data[at..], at, source, limits, out int used, quiet: n > 1 && maxPickles == int.MaxValue);
            if (!ok)
            {
                if (n > 1 && maxPickles == int.MaxValue)
                    report.Notes.Add($"bytes from offset {at} ({data.Length - at} bytes) are not a pickle; pickle.load stops before them");
                return;
            }
            at += used;
        }
        if (maxPickles != int.MaxValue && at < data.Length)
            report.Notes.Add($"{data.Length - at} bytes of raw storage data after the {maxPickles} pickles of a legacy file (not pickles)");
    }

    // Walks one pickle; findings are kept even when it is corrupt partway (an error is recorded unless quiet).
    private static bool ScanPickle(ScanReport report, ReadOnlySpan<byte> data, long baseOffset, string source, ReaderLimits limits,
                                   out int used, bool quiet = false)
    {
        var walker = new PickleGlobalWalker(source, limits);
        used = 0;
        try
        {
            used = walker.Walk(data, baseOffset);
            report.Pickles.Add((source, used));
            return true;
        }
        catch (ModelFormatException x)
        {
            if (!quiet || walker.Findings.Count > 0) report.Errors.Add((source, x.Message));
            return false;
        }
        finally
        {
            report.Globals.AddRange(walker.Findings);
        }
    }
}
