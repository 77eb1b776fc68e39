namespace WeightScope.Writing;

/// <summary>
/// Writes a file so that the path holds either the old content or the complete new content, never a mix: the bytes go
/// to a temporary file in the same folder (same file system, so the rename is atomic), are flushed to disk, and the
/// temporary file is renamed over the target. If anything fails — or the process is killed — the target is untouched and
/// at most a <c>.weightscope-tmp</c> file is left beside it.
/// </summary>
public static class AtomicFile
{
    /// <summary>Suffix of the temporary files (so a crashed write's leftovers are recognisable).</summary>
    public const string TempSuffix = ".weightscope-tmp";

    /// <summary>
    /// Runs <paramref name="write"/> on a new temporary file beside <paramref name="path"/>, then renames it into place.
    /// An existing target keeps what made it what it was: a symbolic link is followed (the file it points to is
    /// replaced, the link stays a link, as a Hugging Face cache snapshot needs), the file's permission bits are kept, and
    /// a file without write permission is refused rather than replaced.
    /// </summary>
    public static void Write(string path, Action<FileStream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = ResolveLinks(Path.GetFullPath(path));
        if (Directory.Exists(full)) throw new ModelWriteException($"{path}: is a folder; give a file name to write");
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) throw new ModelWriteException($"{path}: folder {dir} does not exist");
        UnixFileMode? mode = null;
        if (File.Exists(full) && !OperatingSystem.IsWindows())
        {
            mode = File.GetUnixFileMode(full);
            if ((mode & UnixFileMode.UserWrite) == 0)
                throw new ModelWriteException($"{path}: the file is read-only; make it writable first to replace it");
        }
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}-{Random.Shared.Next():x8}{TempSuffix}");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            if (mode is { } m && !OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, m);
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    // The final target of a chain of symbolic links (relative links resolved against their own folder).
    private static string ResolveLinks(string full)
    {
        var info = new FileInfo(full);
        if (info.LinkTarget is null) return full;
        var target = info.ResolveLinkTarget(returnFinalTarget: true);
        return target is null ? full : Path.GetFullPath(target.FullName);
    }
}
