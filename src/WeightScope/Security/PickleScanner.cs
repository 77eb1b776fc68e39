using WeightScope.Formats.NumPy;
using WeightScope.IO;

namespace WeightScope.Security;

/// <summary>
/// Lists every global named by every pickle a Python loader can reach in a file, and classifies it, without executing or
/// building anything: PyTorch zip archives (every <c>.pkl</c> member and every member that starts like a pickle:
/// <c>torch.load(f, pickle_file=…)</c> loads any of them), legacy PyTorch files (their sequence of pickles) and the
/// pre-0.1.10 tar format (<see cref="TorchTarScan"/>), bare pickle files (joblib dumps too: their raw array bytes are
/// skipped exactly as joblib reads them, and zlib/gzip-compressed dumps are inflated first), NumPy object arrays
/// (<c>.npy</c> whose <c>descr</c> numpy parses to a dtype holding objects), the members of <c>.npz</c>, <c>.keras</c>
/// and other zips read by content whatever their names (an npz or zip inside one is scanned in turn: Keras 3's
/// <c>model.weights.npz</c>), and the bytes a pickle hands to another loader (<c>pickle.loads</c>,
/// <c>torch.load(io.BytesIO(…))</c>…). Keras Lambda layers are flagged in <c>.keras</c> configs and in the
/// <c>model_config</c> of Keras HDF5 models.
/// </summary>
public static class PickleScanner
{
    // torch.save's legacy magic number, pickled first as LONG1 (torch/serialization.py MAGIC_NUMBER).
    private static ReadOnlySpan<byte> LegacyMagicPickle => [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

    // magic number, protocol version, sys info, the object, storage keys: then raw storage bytes, never unpickled.
    private const int LegacyPickles = 5;

    // How many bytes of a member are read to tell what it is (npy magic, zip signature, PROTO).
    private const int SniffBytes = 8;

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
        if (Formats.Hdf5.Superblock.Superblock.FindSignature(head) >= 0 && !ZipIndex.LooksLikeZip(head)) return ScanHdf5(path);
        var report = new ScanReport { Path = path, Container = ContainerName(file, head, limits) };
        new Scope(report, limits).Content(file, "", 0);
        return report;
    }

    private static string ContainerName(MappedFile file, ReadOnlySpan<byte> head, ReaderLimits limits)
    {
        if (ZipIndex.LooksLikeZip(head))
        {
            try
            {
                var zip = ZipIndex.Read(file, limits);
                bool torch = zip.Entries.Any(e => e.Name == "data.pkl" || e.Name.EndsWith("/data.pkl", StringComparison.Ordinal)
                                                  || e.Name.EndsWith("/constants.pkl", StringComparison.Ordinal));
                bool keras = zip.Find("config.json") is not null && zip.Find("metadata.json") is not null;
                return torch ? "pytorch-zip" : keras ? "keras" : "zip";
            }
            catch (ModelFormatException) { return "zip"; } // the scan itself reports why
        }
        if (NpyPrelude.StartsWithMagic(head)) return "npy";
        if (TorchTarScan.LooksLikeTar(file)) return "pytorch-tar";
        if (JoblibCompression.Detect(head) is { } compression) return $"joblib ({compression})";
        return head.StartsWith(LegacyMagicPickle) ? "pytorch-legacy" : "pickle";
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

    /// <summary>One scan: the report it fills and how deep containers nest (an npz in a zip, bytes loaded by a pickle…).</summary>
    internal sealed class Scope(ScanReport report, ReaderLimits limits)
    {
        private int _depth;

        // True while the members of a TorchScript archive are walked: torch.load hands such an archive to
        // torch.jit.load, whose C++ unpickler never imports Python — it resolves __torch__.* names to classes the
        // TorchScript compiler builds from the archive's own code/ folder (TorchScript source, interpreted by
        // TorchScript: no imports, no Python builtins). Those names are safe there; every other global is judged as
        // anywhere else.
        private bool _torchScript;

        /// <summary>Scans content as a loader would open it: by what it starts with, never by its name.</summary>
        public void Content(MappedFile file, string source, long baseOffset)
        {
            if (++_depth > limits.MaxNestingDepth)
                throw new ReaderLimitException("pickle-scan", nameof(ReaderLimits.MaxNestingDepth), _depth, limits.MaxNestingDepth, baseOffset);
            bool torchScript = _torchScript;
            _torchScript = false;
            try
            {
                var head = file.Span(0, (int)Math.Min(file.Length, 64));
                if (ZipIndex.LooksLikeZip(head)) Zip(file, source);
                else if (NpyPrelude.StartsWithMagic(head)) Npy(file, source, baseOffset);
                else if (TorchTarScan.LooksLikeTar(file)) TorchTarScan.Scan(this, file, source, limits);
                else if (JoblibCompression.Detect(head) is { } compression) Compressed(file, source, compression);
                else if (head.StartsWith(LegacyMagicPickle)) PickleSequence(Whole(file), source, baseOffset, LegacyPickles);
                else PickleSequence(Whole(file), source, baseOffset, int.MaxValue);
            }
            finally
            {
                _depth--;
                _torchScript = torchScript;
            }
        }

        // joblib.dump(…, compress=…) compresses the whole pickle stream (arrays included): inflated in memory, then walked
        // like a bare pickle file. Offsets are then in the decompressed stream, which a note says.
        private void Compressed(MappedFile file, string source, string compression)
        {
            var data = JoblibCompression.Inflate(file, report.Path, compression, limits);
            report.Notes.Add($"{Where(source)} is {compression}-compressed; offsets are in the decompressed stream ({data.Length} bytes)");
            PickleSequence(data.Span, source, 0, int.MaxValue);
        }

        // Every member is read by content, as numpy's NpzFile (npy magic → read_array, which unpickles object arrays),
        // torch.load(pickle_file=…) and zipfile users read them: npy headers are parsed, nested zips scanned, and members
        // named .pkl/.pickle or starting with PROTO 2-5 walked as pickles. Deflated members are inflated only as far as
        // needed: a sniff reads a few bytes, an npy header its header, and only an object array or a pickle is inflated
        // whole, within --max-decompressed-bytes.
        private void Zip(MappedFile file, string source)
        {
            var zip = ZipIndex.Read(file, limits);
            bool torch = zip.Entries.Any(e => e.Name == "data.pkl" || e.Name.EndsWith("/data.pkl", StringComparison.Ordinal)
                                              || e.Name.EndsWith("/constants.pkl", StringComparison.Ordinal));
            _torchScript = IsTorchScriptArchive(zip);
            if (_torchScript)
                report.Notes.Add($"{Where(source)} is a TorchScript archive: torch.load hands it to torch.jit.load, which compiles its code/ "
                                 + "(TorchScript, not Python) and resolves __torch__ classes from it without importing anything");
            foreach (var e in zip.Entries)
            {
                if (e.Name.EndsWith('/')) continue;
                string member = Join(source, e.Name);
                try { Member(zip, file, e, member, torch); }
                catch (ModelFormatException x) { report.Errors.Add((member, x.Message)); }
            }
        }

        // torch.serialization._is_torchscript_zip: a record named constants.pkl (records are named without the
        // archive's top folder).
        private static bool IsTorchScriptArchive(ZipIndex zip) =>
            zip.Entries.Any(e => e.Name == "constants.pkl" || e.Name.EndsWith("/constants.pkl", StringComparison.Ordinal) && e.Name.IndexOf('/') == e.Name.Length - "/constants.pkl".Length);

        private void Member(ZipIndex zip, MappedFile file, ZipEntry e, string member, bool torchZip)
        {
            bool pickleName = e.Name.EndsWith(".pkl", StringComparison.OrdinalIgnoreCase) || e.Name.EndsWith(".pickle", StringComparison.OrdinalIgnoreCase);
            using var content = ZipMemberContent.Open(zip, file, e, member, limits);
            if (e.Name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                if (e.UncompressedSize > limits.MaxHeaderBytes)
                    throw new ReaderLimitException("zip", nameof(ReaderLimits.MaxHeaderBytes), e.UncompressedSize, limits.MaxHeaderBytes, e.LocalHeaderOffset, member);
                using var json = content.AsFile();
                KerasLambdaScan.Scan(report, Whole(json).ToArray(), member);
                return;
            }
            var head = content.Head(SniffBytes);
            if (NpyPrelude.StartsWithMagic(head))
            {
                // Only the header is read (inflated) unless numpy would unpickle what follows it.
                var src = new NpySource("npy", member);
                var prelude = NpyPrelude.Read(content.Head(NpyPrelude.MaxSize), e.UncompressedSize, src, limits);
                if (prelude.DataOffset > limits.MaxHeaderBytes)
                    throw new ReaderLimitException("npy", nameof(ReaderLimits.MaxHeaderBytes), prelude.DataOffset, limits.MaxHeaderBytes, 0, member);
                var whole = content.Head((int)prelude.DataOffset);
                if (whole.Length < prelude.DataOffset) throw NpyErrors.Header(src, "the header runs past the end of the member", prelude.Size);
                if (!HeaderHasObjects(whole, prelude, src)) return;
                using var npy = content.AsFile();
                Pickle(Whole(npy)[(int)prelude.DataOffset..], member, prelude.DataOffset, out _);
                return;
            }
            if (ZipIndex.LooksLikeZip(head) || TorchTarScan.LooksLikeTar(content.Head(TorchTarScan.BlockSize)))
            {
                using var inner = content.AsFile();
                Content(inner, member, 0);
                return;
            }
            bool proto = head.Length >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5;
            if (!pickleName && !proto)
            {
                // torch.load(f, pickle_file=name) unpickles any record of a torch zip, protocols 0 and 1 too (no PROTO):
                // every record that is not storage bytes or TorchScript source is walked, and its globals kept only when
                // it is a whole pickle (through STOP) — text and binary records are not, and say nothing.
                if (!torchZip || IsRawTorchRecord(e.Name)) return;
                using var record = content.AsFile();
                Pickle(Whole(record), member, 0, out _, out _, quiet: true, wholeOnly: true);
                return;
            }
            using var data = content.AsFile();
            if (!Pickle(Whole(data), member, 0, out _, quiet: !pickleName))
                report.Notes.Add($"{member} starts like a pickle but is not one (tensor data, probably)");
        }

        // Records of a torch zip that torch reads as raw bytes: storages (data/N; TorchScript's constants/N) and
        // TorchScript source (code/…, whose .debug_pkl pickles start with PROTO and are walked anyway).
        private static bool IsRawTorchRecord(string name) =>
            name.StartsWith("data/", StringComparison.Ordinal) || name.Contains("/data/", StringComparison.Ordinal)
            || name.Contains("/constants/", StringComparison.Ordinal) || name.Contains("/code/", StringComparison.Ordinal)
            || name.StartsWith("code/", StringComparison.Ordinal);

        private bool HeaderHasObjects(ReadOnlySpan<byte> npy, NpyPrelude prelude, NpySource src)
        {
            var header = npy[prelude.Size..(int)prelude.DataOffset];
            var items = PyLiteralParser.ParseDict(header, prelude.Size, src, prelude.IsUtf8, prelude.AllowsLongSuffix, limits.MaxNestingDepth);
            var descr = items.LastOrDefault(i => i.Key == "descr"); // a repeated key: Python's dict keeps the last
            return descr.Key is not null && NumpyDescr.HasObjects(descr.Value);
        }

        // numpy.lib.format.read_array: a dtype with objects (descr parsed as numpy parses it) means pickle.load of the
        // rest of the file; any other dtype is raw data.
        private void Npy(MappedFile file, string source, long baseOffset)
        {
            var src = new NpySource("npy", source.Length == 0 ? null : source);
            var head = file.Span(0, (int)Math.Min(NpyPrelude.MaxSize, file.Length));
            var prelude = NpyPrelude.Read(head, file.Length, src, limits);
            if (prelude.DataOffset > file.Length) throw NpyErrors.Header(src, "the header runs past the end of the file", prelude.Size);
            if (!HeaderHasObjects(file.Span(0, checked((int)prelude.DataOffset)), prelude, src)) return;
            var pickle = file.Span(prelude.DataOffset, (int)Math.Min(file.Length - prelude.DataOffset, Array.MaxLength));
            Pickle(pickle, source, baseOffset + prelude.DataOffset, out _);
        }

        private void PickleSequence(ReadOnlySpan<byte> data, string source, long baseOffset, int maxPickles)
        {
            int at = 0;
            for (int n = 1; n <= maxPickles && at < data.Length; n++)
            {
                string name = maxPickles == int.MaxValue && n == 1 ? source : Join(source, $"pickle #{n}");
                bool ok = Pickle(data[at..], name, baseOffset + at, out int used, quiet: n > 1 && maxPickles == int.MaxValue);
                if (!ok)
                {
                    if (n > 1 && maxPickles == int.MaxValue)
                        report.Notes.Add($"{Where(source)}: bytes from offset {baseOffset + at} ({data.Length - at} bytes) are not a pickle; pickle.load stops before them");
                    return;
                }
                at += used;
            }
            if (maxPickles != int.MaxValue && at < data.Length)
                report.Notes.Add($"{data.Length - at} bytes of raw storage data after the {maxPickles} pickles of a legacy file (not pickles)");
        }

        /// <summary>
        /// Walks one pickle; findings are kept even when it is corrupt partway (an error is recorded unless quiet), and
        /// bytes it hands to a loader are scanned in turn.
        /// </summary>
        public bool Pickle(ReadOnlySpan<byte> data, string source, long baseOffset, out int used, bool quiet = false) =>
            Pickle(data, source, baseOffset, out used, out _, quiet);

        /// <summary>
        /// As <see cref="Pickle(ReadOnlySpan{byte}, string, long, out int, bool)"/>, with what the pickle evaluates to;
        /// with wholeOnly, nothing (findings, errors) is kept unless the pickle walks through its STOP.
        /// </summary>
        public bool Pickle(ReadOnlySpan<byte> data, string source, long baseOffset, out int used, out object? result, bool quiet = false, bool wholeOnly = false)
        {
            var walker = new PickleGlobalWalker(source, limits);
            used = 0;
            result = null;
            bool ok;
            try
            {
                used = walker.Walk(data, baseOffset);
                result = walker.Result;
                report.Pickles.Add((source, used));
                ok = true;
            }
            catch (ModelFormatException x)
            {
                ok = false;
                if (wholeOnly) return false;
                if (!quiet || walker.Findings.Count > 0) report.Errors.Add((source, x.Message));
            }
            int start = report.Globals.Count;
            foreach (var f in walker.Findings)
                report.Globals.Add(_torchScript && f.Verdict == ScanVerdict.Suspicious && f.ResolvedName.StartsWith("__torch__.", StringComparison.Ordinal)
                    ? f with { Verdict = ScanVerdict.Safe, Reason = "a TorchScript class of this archive: torch.jit.load compiles it from the archive's code/ (TorchScript, no Python imports)" }
                    : f);
            foreach (var nested in walker.Nested)
            {
                string where = Join(source, nested.Via) + (nested.InSource ? $", bytes at {nested.Offset}" : ", bytes it computed");
                using var inner = MappedFile.FromArray(nested.Content);
                try { Content(inner, where, nested.InSource ? nested.Offset : 0); }
                catch (ModelFormatException x) { report.Errors.Add((where, x.Message)); }
            }
            _lastStart = start;
            return ok;
        }

        private int _lastStart;

        /// <summary>The name (as written) of a global in the result of the last <see cref="Pickle(ReadOnlySpan{byte}, string, long, out int, out object?, bool, bool)"/>.</summary>
        public string? LastGlobalName(PickleGlobalWalker.GlobalRef g) =>
            _lastStart + g.Index < report.Globals.Count ? report.Globals[_lastStart + g.Index].Name : null;

        public void Note(string note) => report.Notes.Add(note);

        public void Error(string source, string message) => report.Errors.Add((source, message));

        public void Code(string kind, string source, string detail, ScanVerdict verdict) => report.Code.Add(new CodeFinding(kind, source, detail, verdict));
    }

    internal static string Join(string source, string inner) => source.Length == 0 ? inner : $"{source} > {inner}";

    internal static string Where(string source) => source.Length == 0 ? "the file" : source;

    internal static ReadOnlySpan<byte> Whole(MappedFile file) => file.Span(0, (int)Math.Min(file.Length, Array.MaxLength));
}
