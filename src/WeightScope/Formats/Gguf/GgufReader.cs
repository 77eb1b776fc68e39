using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.Gguf;

/// <summary>
/// Maps a parsed <see cref="GgufFile"/> into the uniform model: metadata by key, one tensor per tensor info in file
/// order, shapes row-major (ggml's <c>ne</c> reversed, as gguf-py's reader reshapes <c>tensor.data</c>), plain types
/// mapped zero-copy and block-quantized types as a float32 view decoded on read.
/// </summary>
internal static class GgufReader
{
    private const long BitsPerByte = 8;

    public static ModelFile Map(GgufFile gguf, MappedFile file)
    {
        var metadata = new Dictionary<string, object?>(gguf.KeyValues.Count, StringComparer.Ordinal);
        foreach (var kv in gguf.KeyValues) metadata[kv.Key] = kv.Value;

        var tensors = new List<TensorEntry>(gguf.TensorInfos.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var extents = new List<(long Start, long End, GgufTensorInfo Info)>(gguf.TensorInfos.Count);
        foreach (var info in gguf.TensorInfos)
        {
            if (!names.Add(info.Name)) throw GgufErrors.DuplicateTensor(info.Name, info.InfoOffset);
            var (entry, start, bytes) = MapTensor(info, gguf, file);
            tensors.Add(entry);
            if (bytes > 0) extents.Add((start, start + bytes, info));
        }
        CheckNoOverlap(extents);

        var format = new ModelFormatInfo(GgufErrors.Format, $"v{gguf.Header.Version}");
        return new ModelFile(format, new TensorCollection(tensors), null, metadata);
    }

    private static (TensorEntry Entry, long Start, long Bytes) MapTensor(GgufTensorInfo info, GgufFile gguf, MappedFile file)
    {
        var shape = new long[info.Ne.Length];
        long elements = 1;
        for (int i = 0; i < info.Ne.Length; i++)
        {
            shape[info.Ne.Length - 1 - i] = info.Ne[i];
            try { elements = checked(elements * info.Ne[i]); }
            catch (OverflowException) { throw GgufErrors.ElementCountOverflow(info.Name, info.InfoOffset); }
        }

        if (info.Offset % (ulong)gguf.Alignment != 0) throw GgufErrors.Misaligned(info.Name, info.Offset, gguf.Alignment, info.InfoOffset);
        var type = GgmlTypeInfo.Find(info.Type);
        string typeName = type?.Name ?? $"{info.Type} (unknown)";

        // Bytes in the file: known for every known type. An unknown type's extent cannot be told; it is only held to
        // at least one bit per value (no ggml type stores less), which still bounds a corrupt element count by the file.
        long available = info.Offset > (ulong)Math.Max(0, file.Length - gguf.DataStart) ? -1 : file.Length - gguf.DataStart - (long)info.Offset;
        long start = available < 0 ? file.Length : gguf.DataStart + (long)info.Offset;
        long bytes;
        if (type is null)
        {
            bytes = 0;
            if (elements / BitsPerByte > Math.Max(0, available))
                throw GgufErrors.DataBeyondFile(info.Name, start, elements / BitsPerByte, file.Length, info.InfoOffset);
        }
        else
        {
            long ne0 = info.Ne.Length > 0 ? info.Ne[0] : 1;
            if (ne0 % type.BlockSize != 0) throw GgufErrors.NotWholeBlocks(info.Name, type.Name, ne0, type.BlockSize, info.InfoOffset);
            try { bytes = type.ByteSize(elements); }
            catch (OverflowException) { throw GgufErrors.ElementCountOverflow(info.Name, info.InfoOffset); }
            if (bytes > 0 && bytes > available) throw GgufErrors.DataBeyondFile(info.Name, start, bytes, file.Length, info.InfoOffset);
        }

        var tensorShape = new Shape(shape);
        TensorEntry entry;
        if (type?.PlainDType is { } dtype)
        {
            TensorStorage storage = bytes == 0 ? new ArrayStorage([], info.Name) : new MappedStorage(file, start, bytes, info.Name);
            entry = new TensorEntry(info.Name, dtype, tensorShape, storage);
        }
        else
        {
            if (elements > long.MaxValue / sizeof(float)) throw GgufErrors.ElementCountOverflow(info.Name, info.InfoOffset);
            var storage = new GgufBlockStorage(file, start, elements, type, typeName, info.Name);
            var quantization = new QuantizationInfo
            {
                Scheme = QuantizationScheme.Block,
                Scales = [],
                ZeroPoints = [],
                BlockType = type?.BlockTypeName ?? $"ggml_type_{info.Type}",
            };
            entry = new TensorEntry(info.Name, DType.Float32, tensorShape, storage, quantization: quantization);
        }
        return (entry, start, bytes);
    }

    // The specification wants every tensor at its own aligned offset; ranges may come in any order but must not share bytes.
    private static void CheckNoOverlap(List<(long Start, long End, GgufTensorInfo Info)> extents)
    {
        extents.Sort((a, b) => a.Start.CompareTo(b.Start));
        for (int i = 1; i < extents.Count; i++)
        {
            var (_, prevEnd, prev) = extents[i - 1];
            var (start, _, info) = extents[i];
            if (start < prevEnd) throw GgufErrors.Overlap(info.Name, start, prev.Name, prevEnd, info.InfoOffset);
        }
    }
}
