using WeightScope.IO;

namespace WeightScope.Writing;

/// <summary>
/// Writes a file so that the path holds either the old content or the complete new content, never a mix: the bytes go
/// to a temporary file in the same folder (same file system, so the rename is atomic), are flushed to disk, and the
/// temporary file is renamed over the target. If anything fails the target is untouched and the temporary file is
/// deleted; Ctrl-C and SIGTERM delete it too (<see cref="TempFiles"/>), and one left by a killed process (SIGKILL, power
/// loss) is removed by the next write to the same target.
/// </summary>
public static class AtomicFile
{
    /// <summary>Suffix of the temporary files (so a crashed write's leftovers are recognisable).</summary>
    public const string TempSuffix = ".weightscope-tmp";

    /// <summary>
    /// Runs <paramref name="write"/> on a new temporary file beside <paramref name="path"/>, then renames it into place.
    /// An existing target keeps what made it what it was: a symbolic link is followed (the file it points to is
    /// replaced, the link stays a link, as a Hugging Face cache snapshot needs), the file's permission bits are kept, and
    /// a file without write permission is refused rather than replaced. A target that is a character device or a named
    /// pipe (<c>/dev/null</c>, <c>/dev/stdout</c>, a FIFO) is written into, never replaced by a rename; a block device or
    /// socket is refused.
    /// </summary>
    public static void Write(string path, Action<FileStream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = ResolveLinks(Path.GetFullPath(path));
        var kind = FileIdentity.Kind(full);
        switch (kind)
        {
            case FileKind.Directory:
                throw new ModelWriteException($"{path}: is a folder; give a file name to write");
            case FileKind.CharacterDevice or FileKind.Fifo:
                WriteIntoStream(path, full, kind, write);
                return;
            case FileKind.BlockDevice or FileKind.Socket:
                throw new ModelWriteException($"{path}: is a {(kind == FileKind.Socket ? "socket" : "block device")}, not a file; WeightScope does not write there");
        }
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) throw new ModelWriteException($"{path}: folder {dir} does not exist");
        UnixFileMode? mode = null;
        if (File.Exists(full) && !OperatingSystem.IsWindows())
        {
            mode = File.GetUnixFileMode(full);
            if ((mode & UnixFileMode.UserWrite) == 0)
                throw new ModelWriteException($"{path}: the file is read-only; make it writable first to replace it");
        }
        TempFiles.RemoveStale(dir, Path.GetFileName(full));
        var temp = TempFiles.Create(dir, Path.GetFileName(full));
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
        finally
        {
            TempFiles.Release(temp);
        }
    }

    // A device or pipe cannot take a rename (it would replace /dev/null with a regular file for every process on the
    // machine) and cannot seek, which some writers need: the bytes are written to a temporary file in the system's temp
    // folder and then copied into the target as a stream, so a failed write sends nothing.
    private static void WriteIntoStream(string path, string full, FileKind kind, Action<FileStream> write)
    {
        var temp = TempFiles.Create(Path.GetTempPath(), "weightscope-" + Path.GetFileName(full));
        try
        {
            using var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
            write(fs);
            fs.Position = 0;
            try
            {
                using var target = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
                fs.CopyTo(target);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ModelWriteException($"{path}: could not write into this {(kind == FileKind.Fifo ? "named pipe" : "device")}: {e.Message}", e);
            }
        }
        finally
        {
            TempFiles.Release(temp);
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
