using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Formats.SafeTensors;

/// <summary>
/// Writes safetensors as the reference implementation does (<c>safetensors/src/tensor.rs</c> <c>serialize</c>): an 8-byte
/// little-endian header length, a JSON header (<c>__metadata__</c> first, then each tensor's dtype, shape and
/// <c>data_offsets</c> relative to the data section), padded with spaces to a multiple of 8 so the data is aligned,
/// then the tensors' bytes back to back, in the order given (the reference sorts by dtype size; any order is valid).
/// safetensors cannot record shared storage: tied weights are copied or refused (<see cref="WriteOptions.SharedStorage"/>),
/// like <c>safetensors.torch.save_model</c> versus <c>save_file</c>.
/// </summary>
public sealed class SafeTensorsWriter : ITensorWriter
{
    /// <inheritdoc />
    public string Name => "safetensors";

    /// <inheritdoc />
    public IReadOnlyList<string> Extensions { get; } = [".safetensors"];

    /// <inheritdoc />
    public void Validate(IReadOnlyList<TensorEntry> tensors, WriteOptions options)
    {
        foreach (var t in tensors)
        {
            if (!SafeTensorsDType.TryName(t.DType, out _))
                throw new ModelWriteException($"safetensors has no dtype for '{t.Name}' ({t.DType.Name()}); " +
                                              $"convert it first (--dtype float32){(t.DType.IsQuantized() ? ", which dequantizes it" : "")}");
            if (t.Name == "__metadata__")
                throw new ModelWriteException("safetensors reserves the name '__metadata__'; rename that tensor");
        }
        TensorWriters.ApplySharedStoragePolicy(tensors, options with { Warning = null }, Name);
    }

    /// <inheritdoc />
    public void Write(IReadOnlyList<TensorEntry> tensors, Stream output, WriteOptions options)
    {
        TensorWriters.ApplySharedStoragePolicy(tensors, options, Name);
        var header = Header(tensors, options.Metadata);
        // Padding with spaces, as the reference does, so the data section starts on an 8-byte boundary.
        int padded = (header.Length + 7) & ~7;
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
        output.Write(prefix);
        output.Write(header);
        for (int i = header.Length; i < padded; i++) output.WriteByte((byte)' ');
        long written = 0;
        foreach (var t in tensors) TensorBytes.WriteTo(t, output, options.Progress, ref written);
    }

    private static byte[] Header(IReadOnlyList<TensorEntry> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in tensors)
            {
                SafeTensorsDType.TryName(t.DType, out var dtype);
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (var d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset = checked(offset + t.ByteSize);
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
