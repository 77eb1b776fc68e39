namespace WeightScope.IO;

/// <summary>
/// The one containment rule for files a model file names (HDF5 external raw data, ONNX external data, safetensors
/// shards, TF.js weight files): a name is resolved against the model file's folder
/// and must stay inside it — not absolute, no <c>..</c> leading out, no symbolic link (of the name or of any folder on
/// the way) whose target lies outside. <see cref="ReaderOptions.AllowExternalPaths"/> lifts the rule for trusted files.
/// </summary>
internal static class ContainedPath
{
    /// <summary>Symbolic links followed while resolving one path before giving up (Linux's own limit is 40).</summary>
    private const int MaxLinkHops = 40;

    /// <summary>
    /// The full path <paramref name="name"/> (as stored in a file) names, resolved against <paramref name="folder"/>; or
    /// null, with <paramref name="refusal"/> saying why the name may not be followed ("is an absolute path", …).
    /// With <paramref name="allowOutside"/> only an empty name is refused.
    /// </summary>
    public static string? Resolve(string folder, string name, bool allowOutside, out string? refusal)
    {
        refusal = null;
        if (name.Length == 0 || name.Contains('\0'))
        {
            refusal = "has an empty name";
            return null;
        }
        string root = Path.GetFullPath(folder);
        bool absolute = Path.IsPathRooted(name) || name.StartsWith('/') || name.StartsWith('\\');
        string full = Path.GetFullPath(absolute ? name : Path.Combine(root, name));
        if (allowOutside) return full;
        if (absolute) refusal = "is an absolute path";
        else if (!IsInside(root, full)) refusal = "leads out of the folder";
        else if (!IsInside(RealPath(root), RealPath(full))) refusal = "passes through a symbolic link that leads out of the folder";
        return refusal is null ? full : null;
    }

    /// <summary>True when <paramref name="path"/> lies strictly inside <paramref name="folder"/> (both full paths).</summary>
    public static bool IsInside(string folder, string path)
    {
        var prefix = Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    /// <summary>
    /// <paramref name="path"/> with every symbolic link along it followed, component by component (what realpath(3)
    /// gives); the part that does not exist yet is kept as written. A chain of more than 40 links resolves to itself,
    /// which then fails the containment check only if it leads out.
    /// </summary>
    public static string RealPath(string path)
    {
        string full = Path.GetFullPath(path);
        string? root = Path.GetPathRoot(full);
        if (string.IsNullOrEmpty(root)) return full;
        var pending = new Stack<string>();
        PushComponents(pending, full[root.Length..]);
        string current = root;
        int hops = 0;
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            string next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (!info.Exists || info.LinkTarget is null || ++hops > MaxLinkHops)
            {
                current = next;
                continue;
            }
            // A link's target replaces it: relative targets resolve against the link's own folder, and the target's own
            // components are examined in turn (they may be links too).
            string target = Path.GetFullPath(Path.IsPathRooted(info.LinkTarget) ? info.LinkTarget : Path.Combine(current, info.LinkTarget));
            string? targetRoot = Path.GetPathRoot(target);
            PushComponents(pending, target[(targetRoot?.Length ?? 0)..]);
            current = string.IsNullOrEmpty(targetRoot) ? root : targetRoot;
        }
        return current;
    }

    // The folder names of a relative path, first on top.
    private static void PushComponents(Stack<string> pending, string relative)
    {
        var parts = relative.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (int i = parts.Length - 1; i >= 0; i--) pending.Push(parts[i]);
    }
}
