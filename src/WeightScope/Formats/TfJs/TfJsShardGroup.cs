using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.TfJs;

/// <summary>
/// A group's shard files seen as one byte sequence, as tfjs's weights loader concatenates them
/// (<c>CompositeArrayBuffer</c>): shards are cut at a fixed size (4 MB by default), not at weight boundaries, so a
/// weight may begin in one shard and end in the next.
/// </summary>
internal sealed class TfJsShardGroup
{
    private readonly List<(string Name, MappedFile File, long Start)> _shards = [];

    /// <summary>Total bytes of all shards.</summary>
    public long Length { get; private set; }

    /// <summary>Appends the next shard.</summary>
    public void Add(string name, MappedFile file)
    {
        _shards.Add((name, file, Length));
        Length = checked(Length + file.Length);
    }

    /// <summary>Copies bytes at a group offset, across shard boundaries.</summary>
    public void Read(long offset, Span<byte> destination)
    {
        foreach (var (_, file, start, take, at) in Pieces(offset, destination.Length))
            file.Read(start, destination.Slice(at, take));
    }

    /// <summary>
    /// A storage for <paramref name="length"/> bytes at a group offset: a zero-copy range of one shard when the bytes lie in
    /// one shard, otherwise a storage that reads across the shards it spans.
    /// </summary>
    public TensorStorage Storage(long offset, long length, string weight)
    {
        if (length == 0) return new ArrayStorage([], $"{weight} (empty)");
        int first = ShardAt(offset);
        var (name, file, start) = _shards[first];
        if (length <= file.Length - (offset - start))
            return new MappedStorage(file, offset - start, length, $"{name}@{offset - start}");
        return new SpanningStorage(this, offset, length, $"{weight}: {name}@{offset - start} and following shards");
    }

    private int ShardAt(long offset)
    {
        // The first shard whose range holds offset; for an empty weight at the very end, the last shard.
        for (int i = 0; i < _shards.Count; i++)
            if (offset < _shards[i].Start + _shards[i].File.Length) return i;
        return _shards.Count - 1;
    }

    private IEnumerable<(string Name, MappedFile File, long Start, int Take, int At)> Pieces(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > Length || length > Length - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), $"range {offset}+{length} is outside the weight group of {Length} bytes");
        int at = 0;
        for (int i = ShardAt(offset); at < length; i++)
        {
            var (name, file, start) = _shards[i];
            long local = offset + at - start;
            int take = (int)Math.Min(length - at, file.Length - local);
            yield return (name, file, local, take, at);
            at += take;
        }
    }

    /// <summary>A weight that crosses a shard boundary: reads piecewise; never a single span.</summary>
    private sealed class SpanningStorage(TfJsShardGroup group, long offset, long length, string key) : TensorStorage(key)
    {
        public override long ByteLength => length;

        protected override void ReadCore(long start, Span<byte> destination)
        {
            group.Read(offset + start, destination);
        }
    }
}
