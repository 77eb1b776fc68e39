using System.Runtime.InteropServices;

namespace WeightScope.Formats.Hdf5.Layout;

/// <summary>
/// Linux transparent huge pages for a large destination buffer: a fresh array is otherwise faulted in 4 KiB at a time
/// (one kernel fault and zeroing per page), which costs more than the read itself. The hint changes no contents.
/// </summary>
internal static partial class HugePages
{
    private const int MadvHugePage = 14;          // MADV_HUGEPAGE, <linux/mman.h>
    private const long HugePageSize = 2 << 20;    // x86-64 and arm64 transparent huge page size

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);

    /// <summary>
    /// Advises huge pages for the whole 2 MiB pages inside <paramref name="destination"/> (the range is rounded inward,
    /// so nothing outside it is touched). Does nothing off Linux, for buffers under 4 MiB, or if libc is not found;
    /// the kernel ignores the hint when transparent huge pages are off.
    /// </summary>
    public static unsafe void Advise(Span<byte> destination)
    {
        if (!OperatingSystem.IsLinux() || destination.Length < 2 * HugePageSize) return;
        fixed (byte* p = destination)
        {
            long start = ((long)p + HugePageSize - 1) & ~(HugePageSize - 1);
            long end = ((long)p + destination.Length) & ~(HugePageSize - 1);
            if (end <= start) return;
            try { Madvise((nint)start, (nuint)(end - start), MadvHugePage); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        }
    }
}
