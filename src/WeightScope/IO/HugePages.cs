using System.Runtime.InteropServices;

namespace WeightScope.IO;

/// <summary>
/// Linux transparent huge pages for a large read destination. With THP in its common <c>madvise</c> mode, a buffer is
/// otherwise backed by 4 KiB pages, and the kernel's copy into it (a positional read of a 9 MB tensor) runs several
/// times slower: measured on bench/data/gpt2-like-contiguous.h5, reading every tensor into one reused buffer took
/// 0.60 s without the hint and 0.17 s with it (h5py: 0.31 s). The hint changes no contents and is only advice: the
/// kernel ignores it when THP is off, and the GC may reuse or release the memory as before.
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
