using WeightScope.IO;

namespace WeightScope.Tensors;

/// <summary>
/// The bytes behind one or more tensors (PyTorch's "storage"). Several <see cref="TensorEntry"/> views may share one
/// storage; it is then read once and counted once. Implementations read lazily: nothing is touched until asked.
/// </summary>
public abstract class TensorStorage
{
    /// <summary>Creates a storage with a display key (e.g. the archive entry it comes from).</summary>
    protected TensorStorage(string key) => Key = key;

    /// <summary>Where the bytes live, for messages and for telling shared storages apart (e.g. <c>archive/data/0</c>).</summary>
    public string Key { get; }

    /// <summary>Size in bytes.</summary>
    public abstract long ByteLength { get; }

    /// <summary>
    /// The file the bytes come from, set when the file is opened; a failure to decode them later (a corrupt chunk, a
    /// bad checksum) names it, as errors found while opening do.
    /// </summary>
    public string? SourcePath { get; internal set; }

    /// <summary>Copies <paramref name="destination"/>.Length bytes starting at <paramref name="offset"/>.</summary>
    /// <exception cref="ModelFormatException">The bytes cannot be decoded; the message names <see cref="SourcePath"/>.</exception>
    public void Read(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        try { ReadCore(offset, destination); }
        catch (ModelFormatException e) when (e.FilePath is null && SourcePath is not null)
        {
            e.FilePath = SourcePath;
            throw;
        }
    }

    /// <summary>Zero-copy access to a range, when the bytes are mapped or already in memory.</summary>
    /// <exception cref="ModelFormatException">The bytes cannot be decoded; the message names <see cref="SourcePath"/>.</exception>
    public bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
    {
        CheckRange(offset, length);
        try { return TryGetSpanCore(offset, length, out span); }
        catch (ModelFormatException e) when (e.FilePath is null && SourcePath is not null)
        {
            e.FilePath = SourcePath;
            throw;
        }
    }

    /// <summary>Reads a range already checked against <see cref="ByteLength"/>.</summary>
    protected abstract void ReadCore(long offset, Span<byte> destination);

    /// <summary>Zero-copy access to a range already checked against <see cref="ByteLength"/>; false when the storage cannot give one.</summary>
    protected virtual bool TryGetSpanCore(long offset, int length, out ReadOnlySpan<byte> span)
    {
        span = default;
        return false;
    }

    /// <summary>Checks a range against <see cref="ByteLength"/>.</summary>
    private void CheckRange(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > ByteLength || length > ByteLength - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), $"range {offset}+{length} is outside storage '{Key}' of {ByteLength} bytes");
    }
}

/// <summary>A range of a memory-mapped file: zero-copy.</summary>
internal sealed class MappedStorage : TensorStorage
{
    private readonly MappedFile _file;
    private readonly long _start;

    /// <summary>Creates a storage over <paramref name="length"/> bytes of <paramref name="file"/> at <paramref name="start"/>.</summary>
    public MappedStorage(MappedFile file, long start, long length, string key) : base(key)
    {
        if (!file.Contains(start, length)) throw new ArgumentOutOfRangeException(nameof(start), "storage range outside the file");
        _file = file;
        _start = start;
        ByteLength = length;
    }

    /// <summary>File offset where the storage starts.</summary>
    public long FileOffset => _start;

    /// <inheritdoc />
    public override long ByteLength { get; }

    /// <inheritdoc />
    protected override void ReadCore(long offset, Span<byte> destination)
    {
        _file.Read(_start + offset, destination);
    }

    /// <inheritdoc />
    protected override bool TryGetSpanCore(long offset, int length, out ReadOnlySpan<byte> span)
    {
        span = _file.Span(_start + offset, length);
        return true;
    }
}

/// <summary>Bytes in memory (decoded, converted or built by an edit).</summary>
public sealed class ArrayStorage(byte[] data, string key) : TensorStorage(key)
{
    /// <inheritdoc />
    public override long ByteLength => data.LongLength;

    /// <inheritdoc />
    protected override void ReadCore(long offset, Span<byte> destination)
    {
        data.AsSpan((int)offset, destination.Length).CopyTo(destination);
    }

    /// <inheritdoc />
    protected override bool TryGetSpanCore(long offset, int length, out ReadOnlySpan<byte> span)
    {
        span = data.AsSpan((int)offset, length);
        return true;
    }
}

/// <summary>
/// Bytes produced on first use by a decoder (a deflated zip member, say) and kept in memory afterwards.
/// Opening a file never runs the decoder; asking for a tensor's values does.
/// </summary>
public sealed class DecodedStorage(long byteLength, Func<byte[]> decode, string key) : TensorStorage(key)
{
    private readonly Lazy<byte[]> _bytes = new(() =>
    {
        var b = decode();
        if (b.LongLength != byteLength)
            throw new InvalidDataException($"storage '{key}' decoded to {b.LongLength} bytes, expected {byteLength}");
        return b;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <inheritdoc />
    public override long ByteLength => byteLength;

    /// <inheritdoc />
    protected override void ReadCore(long offset, Span<byte> destination)
    {
        _bytes.Value.AsSpan((int)offset, destination.Length).CopyTo(destination);
    }

    /// <inheritdoc />
    protected override bool TryGetSpanCore(long offset, int length, out ReadOnlySpan<byte> span)
    {
        span = _bytes.Value.AsSpan((int)offset, length);
        return true;
    }
}
