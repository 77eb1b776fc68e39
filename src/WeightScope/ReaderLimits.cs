namespace WeightScope;

/// <summary>
/// Limits that protect against hostile or corrupt files. Every size read from a file is checked against the file's
/// own size first; these caps bound what a file's size alone cannot (nesting, counts, decompression).
/// </summary>
public sealed record ReaderLimits
{
    /// <summary>Defaults generous enough for any real checkpoint (a 70B-parameter model has ~1000 tensors).</summary>
    public static ReaderLimits Default { get; } = new();

    /// <summary>Largest JSON or text header accepted (safetensors header, npy header). safetensors itself uses 100 MB.</summary>
    public long MaxHeaderBytes { get; init; } = 100_000_000;

    /// <summary>Most tensors one file may declare.</summary>
    public int MaxTensorCount { get; init; } = 1_000_000;

    /// <summary>Deepest nesting of containers (pickle stack/containers, JSON, module tree).</summary>
    public int MaxNestingDepth { get; init; } = 1000;

    /// <summary>Most entries in a pickle memo.</summary>
    public int MaxPickleMemo { get; init; } = 10_000_000;

    /// <summary>Most pickle opcodes executed in one pickle (a guard against pathological inputs).</summary>
    public long MaxPickleOps { get; init; } = 200_000_000;

    /// <summary>Largest size a compressed member may inflate to.</summary>
    public long MaxDecompressedBytes { get; init; } = 64L << 30;

    /// <summary>Most entries in a zip archive.</summary>
    public int MaxZipEntries { get; init; } = 2_000_000;
}

/// <summary>Options for <see cref="ModelFile.Open(string, ReaderOptions?)"/>.</summary>
public sealed record ReaderOptions
{
    /// <summary>The defaults.</summary>
    public static ReaderOptions Default { get; } = new();

    /// <summary>Safety limits.</summary>
    public ReaderLimits Limits { get; init; } = ReaderLimits.Default;
}
