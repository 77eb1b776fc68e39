namespace WeightScope.Security;

/// <summary>What scanning one file of a folder gave.</summary>
/// <param name="Path">The file, as found under the folder.</param>
/// <param name="Report">The scan, or null when the file could not be read at all (<paramref name="Error"/>).</param>
/// <param name="Error">Why the file could not be read, or null.</param>
public sealed record FolderScanEntry(string Path, ScanReport? Report, string? Error)
{
    /// <summary>
    /// The file's own exit status as <c>scan FILE</c> gives it: <see cref="FolderScanStatus.Dangerous"/> or
    /// <see cref="FolderScanStatus.Suspicious"/> by its worst finding, <see cref="FolderScanStatus.Unreadable"/> when part
    /// (or all) of it could not be read and nothing outside the allow-list was found, else <see cref="FolderScanStatus.Safe"/>.
    /// </summary>
    public FolderScanStatus Status => Report switch
    {
        null => FolderScanStatus.Unreadable,
        { Worst: ScanVerdict.Dangerous } => FolderScanStatus.Dangerous,
        { Worst: ScanVerdict.Suspicious } => FolderScanStatus.Suspicious,
        { Errors.Count: > 0 } => FolderScanStatus.Unreadable,
        _ => FolderScanStatus.Safe,
    };
}

/// <summary>The verdict on one file of a folder.</summary>
public enum FolderScanStatus
{
    /// <summary>Everything on the allow-list.</summary>
    Safe,
    /// <summary>Something outside the allow-list, nothing dangerous.</summary>
    Suspicious,
    /// <summary>Something that runs code, imports or touches files.</summary>
    Dangerous,
    /// <summary>The file, or part of it, could not be read (and nothing outside the allow-list was found).</summary>
    Unreadable,
}

/// <summary>A folder's scan: one entry per model or pickle file found, and what was passed over.</summary>
public sealed class FolderScanResult
{
    /// <summary>The folder.</summary>
    public required string Path { get; init; }

    /// <summary>The files scanned, in path order.</summary>
    public List<FolderScanEntry> Entries { get; } = [];

    /// <summary>Files whose content is neither a model format nor a pickle (READMEs, code, images…).</summary>
    public int Skipped { get; set; }

    /// <summary>Symbolic links, never followed: a link's target inside the folder is scanned under its own path; one outside is not scanned.</summary>
    public List<string> SymlinksNotFollowed { get; } = [];

    /// <summary>Entries of each status.</summary>
    public int Count(FolderScanStatus status) => Entries.Count(e => e.Status == status);
}

/// <summary>
/// <c>scan DIR</c>: every file under a folder whose content is a model format or a pickle, each scanned as
/// <see cref="PickleScanner.Scan(string, ReaderLimits?)"/> scans a file. Symbolic links are never followed, so a link
/// cannot lead the walk out of the folder or round a loop; subfolders that cannot be listed are reported as unreadable.
/// </summary>
public static class FolderScan
{
    /// <summary>Scans every file under <paramref name="folder"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    public static FolderScanResult Scan(string folder, ReaderLimits? limits = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"no such folder: {folder}");
        var result = new FolderScanResult { Path = folder };
        var pending = new Stack<string>();
        pending.Push(folder);
        var files = new List<string>();
        while (pending.Count > 0)
        {
            cancellation.ThrowIfCancellationRequested();
            string dir = pending.Pop();
            IEnumerable<FileSystemInfo> children;
            try { children = new DirectoryInfo(dir).EnumerateFileSystemInfos().OrderBy(i => i.Name, StringComparer.Ordinal).ToList(); }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                result.Entries.Add(new FolderScanEntry(dir, null, $"cannot list the folder: {e.Message}"));
                continue;
            }
            // Reverse, so the stack hands folders back in name order.
            foreach (var child in children.Reverse())
            {
                if (child.LinkTarget is not null) result.SymlinksNotFollowed.Add(Path.Combine(dir, child.Name));
                else if (child is DirectoryInfo) pending.Push(Path.Combine(dir, child.Name));
                else if (child is FileInfo) files.Add(Path.Combine(dir, child.Name));
            }
        }
        files.Sort(StringComparer.Ordinal);
        result.SymlinksNotFollowed.Sort(StringComparer.Ordinal);
        foreach (var file in files)
        {
            cancellation.ThrowIfCancellationRequested();
            try
            {
                var report = PickleScanner.Scan(file, limits);
                if (IsStrayText(file, report)) result.Skipped++;
                else result.Entries.Add(new FolderScanEntry(file, report, null));
            }
            catch (UnknownModelFormatException)
            {
                result.Skipped++; // neither a model format nor a pickle
            }
            catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException)
            {
                result.Entries.Add(new FolderScanEntry(file, null, e.Message));
            }
        }
        result.Entries.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return result;
    }

    /// <summary>
    /// A text file that only reads as a protocol-0 pickle by accident (an <c>.editorconfig</c> starting "is_global" is an
    /// INST opcode): no PROTO, no pickle-like extension, and no global Python could import — <c>find_class</c> of a
    /// module named "s_global = true" fails before anything runs. Named on its own, such a file is still scanned as a
    /// pickle; in a folder walk it is passed over like any other file that is not a model. A text file that names an
    /// importable global (<c>cos\nsystem\n…</c>) is kept, whatever its name: loaders pick files by the caller's name.
    /// </summary>
    private static bool IsStrayText(string file, ScanReport report)
    {
        if (report.Container != "pickle") return false;
        Span<byte> head = stackalloc byte[2];
        using (var f = File.OpenRead(file))
            if (f.ReadAtLeast(head, 2, throwOnEndOfStream: false) == 2 && head[0] == 0x80) return false;
        if (PickleExtensions.Contains(Path.GetExtension(file))) return false;
        return !report.Globals.Any(g => IsDottedIdentifier(g.Module) && IsDottedIdentifier(g.Name));
    }

    private static readonly HashSet<string> PickleExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".pkl", ".pickle", ".p", ".pk", ".pt", ".pth", ".bin", ".ckpt", ".joblib", ".jl", ".dat", ".data", ".sav", ".model", ".mdl", ".npy", ".tar",
    };

    private static bool IsDottedIdentifier(string s) =>
        s.Length > 0 && s.Split('.').All(part => part.Length > 0 && (char.IsLetter(part[0]) || part[0] == '_') && part.All(c => char.IsLetterOrDigit(c) || c == '_'));
}
