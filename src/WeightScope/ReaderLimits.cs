using System.Globalization;

namespace WeightScope;

/// <summary>
/// Limits that protect against hostile or corrupt files. Every size read from a file is checked against the file's
/// own size first; these caps bound what a file's size alone cannot (nesting, counts, decompression).
/// </summary>
/// <remarks>
/// <para>Defaults and the CLI flags that raise them (every verb that opens files accepts them; byte sizes take
/// suffixes such as <c>200MB</c> or <c>4GiB</c>):</para>
/// <list type="table">
/// <listheader><term>Limit</term><description>Default — CLI flag</description></listheader>
/// <item><term><see cref="MaxHeaderBytes"/></term><description>100,000,000 bytes — <c>--max-header-bytes</c></description></item>
/// <item><term><see cref="MaxTensorCount"/></term><description>1,000,000 — <c>--max-tensors</c></description></item>
/// <item><term><see cref="MaxNestingDepth"/></term><description>1,000 (at most 100,000) — <c>--max-depth</c></description></item>
/// <item><term><see cref="MaxPickleMemo"/></term><description>2,000,000 — <c>--max-pickle-memo</c></description></item>
/// <item><term><see cref="MaxPickleStack"/></term><description>1,000,000 — <c>--max-pickle-stack</c></description></item>
/// <item><term><see cref="MaxPickleOps"/></term><description>200,000,000 — <c>--max-pickle-ops</c></description></item>
/// <item><term><see cref="MaxDecompressedBytes"/></term><description>64 GiB — <c>--max-decompressed-bytes</c></description></item>
/// <item><term><see cref="MaxDecompressionRatio"/></term><description>100 — <c>--max-decompression-ratio</c></description></item>
/// <item><term><see cref="MaxZipEntries"/></term><description>2,000,000 — <c>--max-zip-entries</c></description></item>
/// <item><term><see cref="MaxHdf5Objects"/></term><description>4,000,000 — <c>--max-hdf5-objects</c></description></item>
/// <item><term><see cref="MaxDimensions"/></term><description>64 (at most 100,000) — <c>--max-dims</c></description></item>
/// </list>
/// <para>A crossed limit raises <see cref="ReaderLimitException"/>, whose message names the file, the value found,
/// the limit and the flag (see <see cref="All"/>) that raises it.</para>
/// </remarks>
public sealed record ReaderLimits
{
    /// <summary>Defaults generous enough for any real checkpoint (a 70B-parameter model has ~1000 tensors).</summary>
    public static ReaderLimits Default { get; } = new();

    /// <summary>
    /// Largest JSON or text header or whole metadata record accepted (safetensors header, npy header, a pickle record,
    /// tfjs model.json, GGUF header window, a SavedModel proto). Default 100,000,000 bytes (safetensors itself uses 100 MB);
    /// CLI <c>--max-header-bytes</c>.
    /// </summary>
    public long MaxHeaderBytes { get; init; } = 100_000_000;

    /// <summary>Most tensors one file may declare (or values a pickle tree may visit). Default 1,000,000; CLI <c>--max-tensors</c>.</summary>
    public int MaxTensorCount { get; init; } = 1_000_000;

    /// <summary>
    /// Deepest nesting of containers (pickle stack/containers, JSON, module tree, HDF5 groups, GGUF arrays). Default 1,000;
    /// at most <see cref="DepthCeiling"/>; CLI <c>--max-depth</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to less than 1 or more than <see cref="DepthCeiling"/>.</exception>
    public int MaxNestingDepth { get; init => field = InRange(value, DepthCeiling); } = 1000;

    /// <summary>
    /// The most <see cref="MaxNestingDepth"/> and <see cref="MaxDimensions"/> accept, 100,000: recursive readers and
    /// printers run on a <see cref="Threading.LargeStack"/> thread sized for that many levels when either is raised.
    /// </summary>
    public const int DepthCeiling = 100_000;

    /// <summary>
    /// Most entries in a pickle memo. Default 2,000,000 (torch.save memoizes a few objects per tensor, so a million tensors,
    /// <see cref="MaxTensorCount"/>'s default, may need the flag; a 10 MB pickle of MEMOIZE opcodes would hold 10 million
    /// entries, ~1 GB); CLI <c>--max-pickle-memo</c>.
    /// </summary>
    public int MaxPickleMemo { get; init; } = 2_000_000;

    /// <summary>
    /// Most items a pickle's stack holds at once, counting those under its MARKs. Default 1,000,000: picklers batch
    /// APPENDS/SETITEMS by 1,000, so real pickles hold about that many per nesting level; a 10 MB run of NONE opcodes
    /// would hold 10 million. CLI <c>--max-pickle-stack</c>.
    /// </summary>
    public int MaxPickleStack { get; init; } = 1_000_000;

    /// <summary>Most pickle opcodes executed in one pickle (a guard against pathological inputs). Default 200,000,000; CLI <c>--max-pickle-ops</c>.</summary>
    public long MaxPickleOps { get; init; } = 200_000_000;

    /// <summary>Largest size a compressed member (zip entry, HDF5 chunk) may inflate to. Default 64 GiB; CLI <c>--max-decompressed-bytes</c>.</summary>
    public long MaxDecompressedBytes { get; init; } = 64L << 30;

    /// <summary>
    /// Most a deflated zip member may inflate to, as a multiple of its compressed size (beyond a first
    /// <see cref="DecompressionAllowance"/> any member may reach): real weights deflate to a few times less, while a deflate bomb
    /// reaches 1000 (a 1.8 MB <c>.keras</c> declaring 1.9 GB). Checked on the declared size before inflating; a member is
    /// never inflated past its declared size. Default 100; CLI <c>--max-decompression-ratio</c>.
    /// </summary>
    public int MaxDecompressionRatio { get; init; } = 100;

    /// <summary>What any deflated member may inflate to whatever its ratio (1 MiB): small, highly regular members (JSON, HDF5 headers).</summary>
    public const long DecompressionAllowance = 1 << 20;

    /// <summary>Most entries in a zip archive. Default 2,000,000; CLI <c>--max-zip-entries</c>.</summary>
    public int MaxZipEntries { get; init; } = 2_000_000;

    /// <summary>
    /// Most HDF5 objects and links visited while walking a file's groups (each group, dataset and link examined counts
    /// one). Default 4,000,000; CLI <c>--max-hdf5-objects</c>.
    /// </summary>
    public int MaxHdf5Objects { get; init; } = 4_000_000;

    /// <summary>
    /// Most dimensions one tensor may have. Default 64, numpy 2's <c>NPY_MAXDIMS</c> (numpy 1.x allows 32; torch has no
    /// cap, so a torch tensor of more dimensions needs the flag); CLI <c>--max-dims</c>. Applied to every tensor of every
    /// format when the file is opened: printing and indexing cost grows with the rank.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to less than 1 or more than <see cref="DepthCeiling"/>.</exception>
    public int MaxDimensions { get; init => field = InRange(value, DepthCeiling); } = 64;

    /// <summary>Every limit: its property name, CLI flag, what it counts, and how to read and set it.</summary>
    public static IReadOnlyList<ReaderLimitInfo> All { get; } =
    [
        new(nameof(MaxHeaderBytes), "--max-header-bytes", "header or record size", true, l => l.MaxHeaderBytes, (l, v) => l with { MaxHeaderBytes = v }),
        new(nameof(MaxTensorCount), "--max-tensors", "number of tensors", false, l => l.MaxTensorCount, (l, v) => l with { MaxTensorCount = ToInt(v) }),
        new(nameof(MaxNestingDepth), "--max-depth", "nesting depth", false, l => l.MaxNestingDepth, (l, v) => l with { MaxNestingDepth = ToInt(v) }, DepthCeiling),
        new(nameof(MaxPickleMemo), "--max-pickle-memo", "number of pickle memo entries", false, l => l.MaxPickleMemo, (l, v) => l with { MaxPickleMemo = ToInt(v) }),
        new(nameof(MaxPickleStack), "--max-pickle-stack", "number of items on a pickle's stack", false, l => l.MaxPickleStack, (l, v) => l with { MaxPickleStack = ToInt(v) }),
        new(nameof(MaxPickleOps), "--max-pickle-ops", "number of pickle opcodes executed", false, l => l.MaxPickleOps, (l, v) => l with { MaxPickleOps = v }),
        new(nameof(MaxDecompressedBytes), "--max-decompressed-bytes", "decompressed size", true, l => l.MaxDecompressedBytes, (l, v) => l with { MaxDecompressedBytes = v }),
        new(nameof(MaxDecompressionRatio), "--max-decompression-ratio", "decompression ratio (inflated to compressed size)", false, l => l.MaxDecompressionRatio, (l, v) => l with { MaxDecompressionRatio = ToInt(v) }),
        new(nameof(MaxZipEntries), "--max-zip-entries", "number of zip entries", false, l => l.MaxZipEntries, (l, v) => l with { MaxZipEntries = ToInt(v) }),
        new(nameof(MaxHdf5Objects), "--max-hdf5-objects", "number of HDF5 objects and links visited", false, l => l.MaxHdf5Objects, (l, v) => l with { MaxHdf5Objects = ToInt(v) }),
        new(nameof(MaxDimensions), "--max-dims", "number of dimensions of a tensor", false, l => l.MaxDimensions, (l, v) => l with { MaxDimensions = ToInt(v) }, DepthCeiling),
    ];

    /// <summary>
    /// What format detectors parse with: each limit raised to at least its default. A limit raised on the command line
    /// thus lets a large file be recognised (a 1.5-million-tensor TorchSharp file with <c>--max-tensors</c>), while a
    /// lowered one still lets the file be recognised and then reported by its reader with the flag that raises it —
    /// rather than turning into "unknown format".
    /// </summary>
    internal ReaderLimits ForDetection()
    {
        var limits = this;
        foreach (var info in All) limits = info.With(limits, Math.Max(info.Get(this), info.Get(Default)));
        return limits;
    }

    /// <summary>The limit named <paramref name="name"/> (a property name such as <c>MaxTensorCount</c>), or null.</summary>
    public static ReaderLimitInfo? Find(string name) => All.FirstOrDefault(i => i.Name == name);

    private static int InRange(int value, int ceiling, [System.Runtime.CompilerServices.CallerMemberName] string name = "") =>
        value is >= 1 && value <= ceiling ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be between 1 and {ceiling:N0}");

    // Counts held in an int: a larger value asked for means "no practical limit".
    private static int ToInt(long v) => v > int.MaxValue ? int.MaxValue : checked((int)v);
}

/// <summary>One of the <see cref="ReaderLimits"/>: what it is called, the CLI flag that raises it, and what it counts.</summary>
/// <param name="Name">The <see cref="ReaderLimits"/> property name (e.g. <c>MaxTensorCount</c>).</param>
/// <param name="Flag">The CLI option that sets it (e.g. <c>--max-tensors</c>).</param>
/// <param name="What">What the limit counts, for messages (e.g. "number of tensors").</param>
/// <param name="IsBytes">True when the value is a size in bytes (the CLI accepts suffixes such as <c>MB</c>, <c>GiB</c>).</param>
/// <param name="Get">Reads the limit's value.</param>
/// <param name="With">A copy of the limits with this one set.</param>
/// <param name="Ceiling">The largest value the limit accepts (<see cref="ReaderLimits.DepthCeiling"/> for depths, whose
/// walks recurse; no ceiling otherwise).</param>
public sealed record ReaderLimitInfo(string Name, string Flag, string What, bool IsBytes,
    Func<ReaderLimits, long> Get, Func<ReaderLimits, long, ReaderLimits> With, long Ceiling = long.MaxValue)
{
    /// <summary>A value formatted for a message: digits grouped, and " bytes" for sizes.</summary>
    public string Format(long value) => value.ToString("N0", CultureInfo.InvariantCulture) + (IsBytes ? " bytes" : "");
}

/// <summary>Options for <see cref="ModelFile.Open(string, ReaderOptions?)"/>.</summary>
public sealed record ReaderOptions
{
    /// <summary>The defaults.</summary>
    public static ReaderOptions Default { get; } = new();

    /// <summary>Safety limits.</summary>
    public ReaderLimits Limits { get; init; } = ReaderLimits.Default;

    /// <summary>
    /// Lets a file's references to other files (HDF5 external raw data files, <c>H5Pset_external</c>) lead anywhere: an
    /// absolute path, a <c>..</c> out of the file's folder, a symbolic link to elsewhere. Off by default: such a reference
    /// is refused, when the values that live there are read, with a message naming it. Turn it on only for trusted
    /// files. CLI <c>--allow-external-paths</c>.
    /// </summary>
    public bool AllowExternalPaths { get; init; }
}
