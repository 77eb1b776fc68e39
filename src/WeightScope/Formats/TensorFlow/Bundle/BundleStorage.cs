using WeightScope.Formats.TensorFlow.Table;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.TensorFlow.Bundle;

/// <summary>
/// A tensor's bytes in a data shard, mapped zero-copy, with the entry's CRC-32C verified on first access — as
/// TensorFlow's <c>BundleReader::GetValue</c> verifies on every read. Opening a checkpoint therefore reads no tensor data.
/// </summary>
internal sealed class BundleStorage : TensorStorage
{
    // Checksummed in pieces so a tensor over 2 GiB never needs one span.
    private const int ChecksumChunk = 1 << 30;

    private readonly MappedFile _shard;
    private readonly long _start;
    private readonly uint _maskedCrc;
    private readonly string _shardPath;
    private volatile bool _verified;

    public BundleStorage(MappedFile shard, string shardPath, long start, long length, uint maskedCrc, string key) : base(key)
    {
        if (!shard.Contains(start, length)) throw new ArgumentOutOfRangeException(nameof(start), "storage range outside the shard");
        _shard = shard;
        _shardPath = shardPath;
        _start = start;
        _maskedCrc = maskedCrc;
        ByteLength = length;
    }

    /// <inheritdoc />
    public override long ByteLength { get; }

    /// <summary>Where the tensor starts in its shard.</summary>
    public long FileOffset => _start;

    /// <inheritdoc />
    protected override void ReadCore(long offset, Span<byte> destination)
    {
        Verify();
        _shard.Read(_start + offset, destination);
    }

    /// <inheritdoc />
    protected override bool TryGetSpanCore(long offset, int length, out ReadOnlySpan<byte> span)
    {
        Verify();
        span = _shard.Span(_start + offset, length);
        return true;
    }

    /// <summary>Checks the stored checksum once; throws <see cref="InvalidModelContentException"/> on a mismatch.</summary>
    public void Verify()
    {
        if (_verified) return;
        uint crc = 0;
        for (long done = 0; done < ByteLength; done += ChecksumChunk)
            crc = Crc32C.Extend(crc, _shard.Span(_start + done, (int)Math.Min(ChecksumChunk, ByteLength - done)));
        uint stored = Crc32C.Unmask(_maskedCrc);
        if (crc != stored) throw TfCheckpointErrors.DataChecksum(Key, _shardPath, _start, ByteLength, stored, crc);
        _verified = true;
    }
}
