using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace WeightScope.Writing;

/// <summary>
/// The temporary files <see cref="AtomicFile"/> writes before renaming them into place:
/// <c>.{target}.{pid}-{random}.weightscope-tmp</c> beside the target. Each is deleted when its write ends, however it
/// ends; <see cref="DeleteActive"/> deletes those of writes still running (the CLI calls it on Ctrl-C and SIGTERM);
/// and a file left by a process that no longer runs (killed by SIGKILL, a crash, power loss — up to the size of the
/// model) is removed by the next write to the same target.
/// </summary>
public static class TempFiles
{
    private static readonly ConcurrentDictionary<string, byte> Active = new(StringComparer.Ordinal);

    /// <summary>A new temporary file name for <paramref name="targetName"/> in <paramref name="folder"/>, registered as active.</summary>
    internal static string Create(string folder, string targetName)
    {
        var temp = Path.Combine(folder, $".{targetName}.{Environment.ProcessId}-{Random.Shared.Next():x8}{AtomicFile.TempSuffix}");
        Active[temp] = 0;
        return temp;
    }

    /// <summary>Ends <paramref name="temp"/>'s write: deletes the file if it is still there (the write failed) and forgets it.</summary>
    internal static void Release(string temp)
    {
        TryDelete(temp);
        Active.TryRemove(temp, out _);
    }

    /// <summary>
    /// Deletes the temporary files of every write still running in this process. For a signal handler: the writes
    /// then fail (their file is gone), which is what an interrupted write should do; nothing is left behind.
    /// </summary>
    public static void DeleteActive()
    {
        foreach (var temp in Active.Keys) TryDelete(temp);
    }

    /// <summary>
    /// Removes temporary files for <paramref name="targetName"/> in <paramref name="folder"/> whose writing process
    /// no longer runs. A file whose process is alive is kept (another write may be in progress); so is any file whose
    /// name does not have the exact shape this class gives.
    /// </summary>
    internal static void RemoveStale(string folder, string targetName)
    {
        string prefix = "." + targetName + ".";
        IEnumerable<string> candidates;
        try { candidates = Directory.EnumerateFiles(folder, "*" + AtomicFile.TempSuffix); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (var file in candidates)
        {
            var name = Path.GetFileName(file);
            if (!name.StartsWith(prefix, StringComparison.Ordinal) || name.Length <= prefix.Length + AtomicFile.TempSuffix.Length) continue;
            var middle = name[prefix.Length..^AtomicFile.TempSuffix.Length];  // "{pid}-{8 hex digits}"
            int dash = middle.IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0 || middle.Length - dash - 1 != 8
                || !int.TryParse(middle.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                || !uint.TryParse(middle.AsSpan(dash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _))
                continue;
            if (Active.ContainsKey(file) || IsRunning(pid)) continue;
            TryDelete(file);
        }
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        if (OperatingSystem.IsLinux()) return Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    private static void TryDelete(string file)
    {
        try { File.Delete(file); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
