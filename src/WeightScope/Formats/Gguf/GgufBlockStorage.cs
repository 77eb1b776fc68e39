using System.Runtime.InteropServices;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.Gguf;

/// <summary>
/// The float32 view of a block-quantized tensor: its bytes are the dequantized values, produced on each read from
/// only the blocks the read covers (so a slice of a huge embedding decodes a few blocks, and nothing is cached).
/// For a type without a decoder every read fails with <see cref="UnsupportedModelFeatureException"/>.
/// </summary>
internal sealed class GgufBlockStorage : TensorStorage
{
    private const int FloatBytes = sizeof(float);

    private readonly MappedFile _file;
    private readonly long _start;
    private readonly GgmlTypeInfo? _type;
    private readonly string _typeName;
    private readonly string _tensorName;

    /// <summary>A decodable or listed-only tensor of <paramref name="elements"/> values whose blocks start at file offset <paramref name="start"/>.</summary>
    /// <param name="file">The mapped file.</param>
    /// <param name="start">File offset of the first block.</param>
    /// <param name="elements">Values in the tensor (a whole number of blocks when the type is known).</param>
    /// <param name="type">The type's geometry and decoder; null for an unknown type id.</param>
    /// <param name="typeName">The type's name for messages.</param>
    /// <param name="tensorName">The tensor's name, also the storage key.</param>
    public GgufBlockStorage(MappedFile file, long start, long elements, GgmlTypeInfo? type, string typeName, string tensorName)
        : base(tensorName)
    {
        _file = file;
        _start = start;
        _type = type;
        _typeName = typeName;
        _tensorName = tensorName;
        ByteLength = checked(elements * FloatBytes);
    }

    /// <inheritdoc />
    public override long ByteLength { get; }

    /// <inheritdoc />
    protected override void ReadCore(long offset, Span<byte> destination)
    {
        if (_type?.Decoder is not { } decode)
        {
            var e = GgufErrors.ValuesNotReadable(_tensorName, _typeName, _start);
            e.FilePath = _file.Path; // raised on a read, after the registry's boundary: say which file
            throw e;
        }
        if (destination.Length == 0) return;

        int blockSize = _type.BlockSize;
        long blockBytes = (long)blockSize * FloatBytes;
        long end = offset + destination.Length;
        Span<float> values = stackalloc float[blockSize];
        var valueBytes = MemoryMarshal.AsBytes(values);
        for (long block = offset / blockBytes; block * blockBytes < end; block++)
        {
            decode(_file.Span(_start + block * _type.TypeSize, _type.TypeSize), values);
            // The part of this block's float bytes that falls inside [offset, end).
            long from = Math.Max(offset, block * blockBytes), to = Math.Min(end, (block + 1) * blockBytes);
            valueBytes.Slice((int)(from - block * blockBytes), (int)(to - from)).CopyTo(destination[(int)(from - offset)..]);
        }
    }
}
