namespace TorchSharpLoad;

/// <summary>
/// The memory figures of /proc/self/status, in KiB: VmHWM (peak resident set), VmRSS, and its split into RssAnon
/// (heap, libtorch's allocations) and RssFile (mapped files: a memory-mapped weight file counts here once touched).
/// </summary>
internal readonly record struct ProcStatus(long VmHwmKb, long VmRssKb, long RssAnonKb, long RssFileKb)
{
    public static ProcStatus Read()
    {
        long hwm = 0, rss = 0, anon = 0, file = 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = Kb(line);
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
            else if (line.StartsWith("RssAnon:", StringComparison.Ordinal)) anon = Kb(line);
            else if (line.StartsWith("RssFile:", StringComparison.Ordinal)) file = Kb(line);
        }
        return new ProcStatus(hwm, rss, anon, file);
    }

    private static long Kb(string line) => long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim().TrimEnd("kB").Trim());

    public object ToJson() => new { vm_hwm_kb = VmHwmKb, vm_rss_kb = VmRssKb, rss_anon_kb = RssAnonKb, rss_file_kb = RssFileKb };
}
