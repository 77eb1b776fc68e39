using System.Diagnostics;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Robustness;

/// <summary>
/// The check every fuzz test makes of one mutated input: open it, read its metadata, build the module tree, read every
/// tensor (up to a size cap, since a corrupt but self-consistent size may be huge). Only
/// <see cref="ModelFormatException"/> may escape; the input must finish within <see cref="TimeLimit"/> (it runs on its
/// own thread, so a reader caught in a loop fails the test instead of hanging it); and what it allocates beyond the
/// decoded values must stay within <see cref="AllocationBound"/>. Mutations come from <see cref="MutationTests.Mutate"/>
/// and <see cref="StructuredMutations"/>. <see cref="ScanPath"/> makes the same checks of <c>scan</c> on one input.
/// </summary>
internal static class FuzzCheck
{
    /// <summary>Tensors larger than this are listed but not read.</summary>
    public const long MaxBytesToRead = 64 << 20;

    /// <summary>How long one input may take to open and read whole.</summary>
    public static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The most an input of <paramref name="inputBytes"/> may allocate besides its decoded values: 64 bytes per input
    /// byte (readers copy a stream once, parse headers into objects — a JSON or pickle DOM costs tens of bytes per input
    /// byte — and decompress members of at most a few times their size before a limit applies) plus 64 MiB of fixed
    /// slack (buffers, lazily built tables, one decompression window). The decoded values themselves are allowed on top:
    /// each tensor read may allocate twice its bytes plus twice its float32 copy (the arrays this check asks for, and
    /// one intermediate copy, e.g. a strided or byte-swapped view), and only tensors whose declared size is under
    /// <see cref="MaxBytesToRead"/> are read at all. So a header that claims a huge count or length and makes a reader
    /// allocate for it before checking it against the bytes there fails this bound.
    /// </summary>
    public static long AllocationBound(long inputBytes, long valueBytes) => 64 * inputBytes + (64L << 20) + valueBytes;

    /// <summary>
    /// Opens <paramref name="path"/> (a file or folder) and checks it; <paramref name="what"/> names the mutation in
    /// failures. True when it opened and every tensor was read, false when it was rejected with a ModelFormatException.
    /// </summary>
    public static bool OpenPath(string path, string what) => Check(() => ModelFile.Open(path), InputSize(path), what);

    /// <summary>Opens <paramref name="bytes"/> from a stream and checks it; true when it opened and was read whole.</summary>
    public static bool OpenBytes(byte[] bytes, string what) => Check(() => ModelFile.Open(new MemoryStream(bytes)), bytes.Length, what);

    /// <summary>Reads the metadata, builds the tree and reads every tensor of an open model; returns the value bytes allowed for what was read.</summary>
    public static long ReadEverything(ModelFile model)
    {
        long allowed = 0;
        ReadEverything(model, ref allowed);
        return allowed;
    }

    /// <summary>
    /// As above, adding to <paramref name="allowedValueBytes"/> before each tensor is read, so the allowance for a
    /// tensor whose read fails with a ModelFormatException part-way is still counted.
    /// </summary>
    private static void ReadEverything(ModelFile model, ref long allowedValueBytes)
    {
        _ = model.Format.ToString();
        foreach (var (key, value) in model.Metadata) _ = key + value;
        _ = model.Tensors.Totals;
        _ = model.Modules.Descendants().Count();
        foreach (var t in model.Tensors)
        {
            _ = t.ToString();
            if (t.ByteSize > MaxBytesToRead) continue;
            allowedValueBytes += 2 * (t.ByteSize + 4 * t.ElementCount);
            t.ReadBytes();
            if (!t.DType.IsComplex()) t.ToFloat32();
        }
    }

    private static long InputSize(string path) => Directory.Exists(path)
        ? new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
        : new FileInfo(path).Length;

    /// <summary>With WEIGHTSCOPE_FUZZ_REPORT=file, each input's time, allocation beyond values and size are appended there (to choose and check the bounds).</summary>
    private static readonly StreamWriter? s_report = Environment.GetEnvironmentVariable("WEIGHTSCOPE_FUZZ_REPORT") is { Length: > 0 } r
        ? new StreamWriter(r, append: true) { AutoFlush = true } : null;

    /// <summary>
    /// The check itself, for any way of opening (tests of this check pass an <paramref name="open"/> that misbehaves).
    /// An input over the time limit is run once more and fails only if it is slow again: a reader that is slow on an
    /// input is slow every time, while a pause of the shared machine (measured at 2.6 s for an input that takes 30 ms)
    /// is not.
    /// </summary>
    internal static bool Check(Func<ModelFile> open, long inputBytes, string what) => CheckWork(allowance =>
    {
        using var model = open();
        ReadEverything(model, ref allowance.Bytes);
    }, inputBytes, what);

    /// <summary>
    /// Scans the file at <paramref name="path"/> with <see cref="global::WeightScope.Security.PickleScanner"/> (what <c>weightscope scan</c>
    /// does) under the same checks: only <see cref="ModelFormatException"/> (exit 3, unreadable) may escape, within the
    /// time limit and the allocation bound (no values are read, so no allowance for them). True when it was scanned.
    /// </summary>
    public static bool ScanPath(string path, long inputBytes, string what) => CheckWork(noValues =>
    {
        var report = global::WeightScope.Security.PickleScanner.Scan(path);
        _ = report.Worst;
        foreach (var g in report.Globals) _ = g.FullName + g.Reason + g.Uses.Count;
        foreach (var c in report.Code) _ = c.Kind + c.Detail;
    }, inputBytes, what);

    /// <summary>The decoded value bytes a check allows on top of the bound, counted as tensors are read.</summary>
    internal sealed class Allowance
    {
        /// <summary>Bytes of values read so far.</summary>
        public long Bytes;
    }

    /// <summary>The check for any <paramref name="work"/> on one input (opening and reading a model, scanning a file).</summary>
    internal static bool CheckWork(Action<Allowance> work, long inputBytes, string what)
    {
        var run = Run(work, what);
        if (run.Elapsed >= TimeLimit) run = Run(work, what);
        Assert.True(run.Elapsed < TimeLimit, $"{what} took {run.Elapsed.TotalSeconds:F1} s (twice)");
        long bound = AllocationBound(inputBytes, run.AllowedValues);
        Assert.True(run.Allocated <= bound, $"{what}: allocated {run.Allocated:N0} bytes for a {inputBytes:N0}-byte input (bound {bound:N0})");
        if (s_report is not null)
            lock (s_report) s_report.WriteLine($"{run.Elapsed.TotalMilliseconds:F1}\t{run.Allocated - run.AllowedValues}\t{inputBytes}\t{what}");
        return run.Opened;
    }

    private static (bool Opened, TimeSpan Elapsed, long Allocated, long AllowedValues) Run(Action<Allowance> work, string what)
    {
        bool opened = false;
        long allocated = 0;
        var allowance = new Allowance();
        Exception? escaped = null;
        var sw = Stopwatch.StartNew();
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                work(allowance);
                opened = true;
            }
            catch (ModelFormatException)
            {
                // the one acceptable failure
            }
            catch (Exception e)
            {
                escaped = e;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }) { IsBackground = true, Name = "fuzz input" };
        thread.Start();
        // A generous join: the machine may be busy, the time limit is asserted by the caller; this only keeps a reader
        // stuck in a loop from hanging the whole run.
        if (!thread.Join(TimeLimit * 5)) Assert.Fail($"{what}: still running after {(TimeLimit * 5).TotalSeconds:F0} s (a loop?)");
        sw.Stop();
        if (escaped is not null) Assert.Fail($"{what}: {escaped.GetType().Name} escaped: {escaped.Message}\n{escaped.StackTrace}");
        return (opened, sw.Elapsed, allocated, allowance.Bytes);
    }
}
