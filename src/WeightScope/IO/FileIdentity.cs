using System.Runtime.InteropServices;

namespace WeightScope.IO;

/// <summary>What kind of file a path names, after following symbolic links (<c>S_IFMT</c> of <c>st_mode</c>).</summary>
public enum FileKind
{
    /// <summary>Nothing exists at the path.</summary>
    Missing,
    /// <summary>A regular file (or, where the kind cannot be asked, anything that is not a folder).</summary>
    Regular,
    /// <summary>A folder.</summary>
    Directory,
    /// <summary>A character device (<c>/dev/null</c>, a terminal).</summary>
    CharacterDevice,
    /// <summary>A block device (a disk).</summary>
    BlockDevice,
    /// <summary>A named pipe.</summary>
    Fifo,
    /// <summary>A Unix socket.</summary>
    Socket,
}

/// <summary>
/// A file's identity (device and inode) and kind, as the kernel knows them. Two paths name the same file when their
/// identities are equal, whatever their text: through a folder symlink, <c>/proc/self/cwd</c>, a bind mount or a hard
/// link the path strings differ but the inode does not, and comparing resolved path text misses the last three.
/// .NET has no API for either, so on Linux this asks <c>statx(2)</c>, whose result layout is the same on every
/// architecture (unlike <c>struct stat</c>); elsewhere identity falls back to the fully resolved path.
/// </summary>
public static partial class FileIdentity
{
    // statx(2): AT_FDCWD resolves relative paths against the working folder; flags 0 follows symbolic links.
    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1, StatxMode = 0x2, StatxIno = 0x100;
    private const int StatxSize = 256;
    // struct statx (include/uapi/linux/stat.h): stx_mode u16 @28, stx_ino u64 @32, stx_dev_major/minor u32 @136/@140.
    private const int ModeOffset = 28, InoOffset = 32, DevMajorOffset = 136, DevMinorOffset = 140;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Statx(int dirFd, string path, int flags, uint mask, byte* buffer);

    private static bool _unavailable;

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> name one existing file (or, when neither exists yet, the same path).</summary>
    public static bool Same(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (TryStat(a, out var sa) && TryStat(b, out var sb)) return sa.Exists && sb.Exists ? sa.Id == sb.Id : sa.Exists == sb.Exists && SameText(a, b);
        return SameText(a, b);
    }

    /// <summary>The kind of file at <paramref name="path"/>, symbolic links followed.</summary>
    public static FileKind Kind(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (TryStat(path, out var s)) return s.Exists ? s.Kind : FileKind.Missing;
        return Directory.Exists(path) ? FileKind.Directory : File.Exists(path) ? FileKind.Regular : FileKind.Missing;
    }

    private static bool SameText(string a, string b) =>
        string.Equals(ContainedPath.RealPath(a), ContainedPath.RealPath(b), OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    private readonly record struct Stat(bool Exists, (ulong Dev, ulong Ino) Id, FileKind Kind);

    // False when the kernel cannot be asked (not Linux, no statx in libc, or an error other than "not there").
    private static unsafe bool TryStat(string path, out Stat stat)
    {
        stat = default;
        if (!OperatingSystem.IsLinux() || _unavailable || path.Contains('\0')) return false;
        byte* buffer = stackalloc byte[StatxSize];
        int rc;
        try { rc = Statx(AtFdCwd, path, 0, StatxType | StatxMode | StatxIno, buffer); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true;
            return false;
        }
        if (rc != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            const int ENOENT = 2, ENOTDIR = 20, ENOSYS = 38;
            if (errno == ENOSYS) _unavailable = true;
            if (errno is ENOENT or ENOTDIR) { stat = new Stat(false, default, FileKind.Missing); return true; }
            return false;
        }
        var span = new ReadOnlySpan<byte>(buffer, StatxSize);
        // The kernel fills the structure in the machine's own byte order.
        ushort mode = MemoryMarshal.Read<ushort>(span[ModeOffset..]);
        ulong ino = MemoryMarshal.Read<ulong>(span[InoOffset..]);
        ulong dev = ((ulong)MemoryMarshal.Read<uint>(span[DevMajorOffset..]) << 32) | MemoryMarshal.Read<uint>(span[DevMinorOffset..]);
        stat = new Stat(true, (dev, ino), (mode & 0xF000) switch
        {
            0x4000 => FileKind.Directory,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0x1000 => FileKind.Fifo,
            0xC000 => FileKind.Socket,
            _ => FileKind.Regular,
        });
        return true;
    }
}
