namespace WeightScope;

/// <summary>
/// The one exception family WeightScope throws for a file it cannot read: it names the file, the format,
/// where in the file the problem is (a byte offset or an entry name), what was expected and what was found.
/// </summary>
/// <remarks>
/// Readers throw these with the format and location; <see cref="ModelFile.Open(string, ReaderOptions?)"/> adds the
/// file path once, at the format boundary, so a reader never needs to know the path it was opened from.
/// </remarks>
public class ModelFormatException : Exception
{
    /// <summary>Creates an exception for a problem found in a model file.</summary>
    /// <param name="format">Name of the format whose reader found the problem (e.g. "safetensors").</param>
    /// <param name="message">What was expected and what was found.</param>
    /// <param name="offset">Byte offset of the problem within the file or the entry, when known.</param>
    /// <param name="entry">Archive entry or object path the offset is relative to, when there is one.</param>
    /// <param name="inner">The low-level exception this translates, if any.</param>
    public ModelFormatException(string format, string message, long? offset = null, string? entry = null, Exception? inner = null)
        : base(message, inner)
    {
        Format = format;
        Detail = message;
        Offset = offset;
        Entry = entry;
    }

    /// <summary>The file being read, when known.</summary>
    public string? FilePath { get; internal set; }

    /// <summary>The format whose reader raised the error.</summary>
    public string Format { get; }

    /// <summary>Byte offset of the problem (within <see cref="Entry"/> when one is given, otherwise within the file).</summary>
    public long? Offset { get; }

    /// <summary>The archive entry, object path or tensor name the problem concerns, when there is one.</summary>
    public string? Entry { get; }

    /// <summary>The bare description of the problem, without file and location.</summary>
    public string Detail { get; }

    /// <summary>
    /// How many more items of the same request (tensors, for <c>stats</c> over a file) failed as well. Work done in
    /// parallel reports the failure of the first item in file order and counts the rest here, so the message is the
    /// same on every run.
    /// </summary>
    public int MoreFailures { get; private set; }

    /// <summary>What <see cref="MoreFailures"/> counts ("tensor").</summary>
    public string MoreFailuresNoun { get; private set; } = "tensor";

    /// <summary>A copy (same type, same details) that also counts <paramref name="count"/> more failures; the original,
    /// which a lazily decoded storage may throw again later, is left as it was.</summary>
    internal ModelFormatException WithMoreFailures(int count, string noun)
    {
        var copy = (ModelFormatException)MemberwiseClone();
        copy.MoreFailures = count;
        copy.MoreFailuresNoun = noun;
        return copy;
    }

    /// <inheritdoc />
    public override string Message
    {
        get
        {
            var where = new List<string>();
            if (FilePath is not null) where.Add(FilePath);
            where.Add(Format);
            if (Entry is not null) where.Add($"entry '{Entry}'");
            if (Offset is long o) where.Add($"offset {o}");
            string more = MoreFailures == 0 ? ""
                : $" ({MoreFailures} more {MoreFailuresNoun}{(MoreFailures == 1 ? "" : "s")} could not be read either; this is the first in file order)";
            return $"{string.Join(", ", where)}: {Detail}{more}";
        }
    }
}

/// <summary>No reader recognises the file's content.</summary>
public sealed class UnknownModelFormatException(string message, long? offset = null)
    : ModelFormatException("unknown", message, offset);

/// <summary>The file is in a known format but its content breaks that format's rules (truncated, out of range, inconsistent).</summary>
public sealed class InvalidModelContentException(string format, string message, long? offset = null, string? entry = null, Exception? inner = null)
    : ModelFormatException(format, message, offset, entry, inner);

/// <summary>The file uses a feature of its format that WeightScope does not read (yet); the message names the feature.</summary>
public sealed class UnsupportedModelFeatureException(string format, string feature, long? offset = null, string? entry = null)
    : ModelFormatException(format, $"not supported: {feature}", offset, entry)
{
    /// <summary>The feature that is not supported.</summary>
    public string Feature { get; } = feature;
}

/// <summary>
/// A limit from <see cref="ReaderLimits"/> was crossed; the message names what was counted, the value found, the
/// limit, and the CLI flag (and <see cref="ReaderLimits"/> property) that raises it, e.g.
/// "number of tensors is 2,000,001, more than the limit of 1,000,000 (raise with --max-tensors if the file is trusted; …)".
/// </summary>
/// <param name="format">Name of the format whose reader found the problem.</param>
/// <param name="limit">The <see cref="ReaderLimits"/> property name (e.g. <c>MaxTensorCount</c>).</param>
/// <param name="value">The value found (for counts found one at a time, the first value over the limit).</param>
/// <param name="max">The cap in force (usually the limit itself; a multiple of it when <paramref name="what"/> says so).</param>
/// <param name="offset">Byte offset of the problem, when known.</param>
/// <param name="entry">Archive entry or object path, when there is one.</param>
/// <param name="what">What was counted, when it is not what the limit itself counts (e.g. values visited, capped at 10 × the tensor limit).</param>
public sealed class ReaderLimitException(string format, string limit, long value, long max, long? offset = null, string? entry = null, string? what = null)
    : ModelFormatException(format, Describe(limit, value, max, what), offset, entry)
{
    /// <summary>Name of the <see cref="ReaderLimits"/> property that was exceeded.</summary>
    public string Limit { get; } = limit;

    /// <summary>The value found in the file (for counts found one at a time, the first value over the limit).</summary>
    public long Value { get; } = value;

    /// <summary>The limit in force.</summary>
    public long Max { get; } = max;

    /// <summary>The CLI flag that raises the limit.</summary>
    public string Flag { get; } = ReaderLimits.Find(limit)?.Flag ?? "";

    private static string Describe(string limit, long value, long max, string? what)
    {
        if (ReaderLimits.Find(limit) is not { } info)
            return $"{limit} is {value}, more than the limit of {max} (raise ReaderLimits.{limit} if the file is trusted)";
        return $"{what ?? info.What} is {info.Format(value)}, more than the limit of {info.Format(max)} " +
               $"(raise with {info.Flag} if the file is trusted; ReaderLimits.{limit} in the library)";
    }
}
