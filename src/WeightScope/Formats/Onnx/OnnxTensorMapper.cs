using System.Buffers.Binary;
using System.Text;
using WeightScope.Formats.Onnx.Proto;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.Onnx;

/// <summary>
/// One TensorProto → one <see cref="TensorEntry"/>, as onnx's <c>numpy_helper.to_array</c> reads it: external data
/// first, then <c>raw_data</c> (little-endian, whatever the machine), then the typed field the data type is stored in.
/// String tensors have no element type here; their values go to Metadata instead.
/// </summary>
internal sealed class OnnxTensorMapper(string format, MappedFile file, OnnxRawDataIndex rawIndex, OnnxExternalData? external)
{
    /// <summary>
    /// A mapped tensor, the values of a string tensor, or why the values of this one tensor cannot be read (a data
    /// type no onnx release this reader knows defines): that refusal is the tensor's alone, never the file's.
    /// </summary>
    public readonly record struct Result(TensorEntry? Tensor, List<object?>? Strings, string? Unsupported = null);

    /// <summary>Maps <paramref name="t"/> under <paramref name="name"/>; <paramref name="key"/> is its key in the raw-data index.</summary>
    public Result Map(TensorProto t, string name, string key)
    {
        if (t.Segment is not null) throw OnnxErrors.Segmented(format, name);
        long elements = ElementCount(t.Dims, name);
        var shape = new Shape([.. t.Dims]);
        bool isExternal = t.HasDataLocation && t.DataLocation == TensorProto.Types.DataLocation.External;
        if (t.DataType == (int)TensorProto.Types.DataType.Undefined) throw OnnxErrors.UndefinedType(format, name);
        if (OnnxNarrowTypes.Of(t.DataType) is { } narrow) return new Result(MapNarrow(t, name, key, narrow, shape, elements, isExternal), null);
        if (t.DataType == (int)TensorProto.Types.DataType.String)
        {
            if (isExternal || t.HasRawData) throw OnnxErrors.ExternalString(name);
            if (t.StringData.Count != elements)
                throw OnnxErrors.TypedCountMismatch(format, name, "string_data", t.StringData.Count, elements);
            return new Result(null, [.. t.StringData.Select(Text)]);
        }
        if (OnnxDataTypes.ToDType(t.DataType) is not { } dtype) return new Result(null, null, OnnxErrors.UnknownType(name, t.DataType, shape));

        int itemSize = dtype.ItemSize();
        long bytes = checked(elements * itemSize);
        TensorStorage storage;
        if (isExternal)
        {
            if (external is null) throw OnnxErrors.ExternalWithoutFolder(name);
            storage = external.Open(t, name, elements, itemSize);
        }
        else if (t.HasRawData)
        {
            if (t.RawData.Length != bytes)
                throw OnnxErrors.RawSizeMismatch(format, name, t.RawData.Length, elements, itemSize,
                    rawIndex.TryGet(key, out long at, out _) ? at : null);
            storage = RawStorage(t, name, key);
        }
        else
        {
            storage = new ArrayStorage(Typed(t, dtype, name, elements, bytes), name);
        }
        return new Result(new TensorEntry(name, dtype, shape, storage), null);
    }

    // A type read through a wider view (OnnxNarrowTypes): the stored bytes are found as for any tensor (external data,
    // raw_data, or one packed byte per int32_data value) and expanded on first read.
    private TensorEntry MapNarrow(TensorProto t, string name, string key, OnnxNarrowTypes.Narrow narrow, Shape shape, long elements, bool isExternal)
    {
        long stored = OnnxNarrowTypes.StoredBytes(narrow, elements);
        long viewBytes = checked(elements * narrow.View.ItemSize());
        if (viewBytes > Array.MaxLength) throw OnnxErrors.TooManyElements(format, name);
        Func<byte[]> source;
        if (isExternal)
        {
            if (external is null) throw OnnxErrors.ExternalWithoutFolder(name);
            var data = external.Open(t, name, stored, 1);
            source = () => { var b = new byte[stored]; data.Read(0, b); return b; };
        }
        else if (t.HasRawData)
        {
            if (t.RawData.Length != stored)
                throw OnnxErrors.PackedSizeMismatch(format, name, "raw_data", t.RawData.Length, elements, stored,
                    rawIndex.TryGet(key, out long at, out _) ? at : null);
            var raw = RawStorage(t, name, key);
            source = () => { var b = new byte[stored]; raw.Read(0, b); return b; };
        }
        else
        {
            if (t.Int32Data.Count != stored)
                throw OnnxErrors.PackedSizeMismatch(format, name, "int32_data", t.Int32Data.Count, elements, stored, null);
            var codes = new byte[stored];
            for (int i = 0; i < codes.Length; i++)
            {
                int v = t.Int32Data[i];
                if (v is < 0 or > 255) throw OnnxErrors.PackedValueOutOfRange(format, name, i, v);
                codes[i] = (byte)v;
            }
            source = () => codes;
        }
        var storage = new DecodedStorage(viewBytes, () => OnnxNarrowTypes.Expand(narrow, source(), elements), name);
        var quantization = new QuantizationInfo { Scheme = QuantizationScheme.Block, Scales = [], ZeroPoints = [], BlockType = narrow.BlockType };
        return new TensorEntry(name, narrow.View, shape, storage, quantization: quantization);
    }

    private static object? Text(Google.Protobuf.ByteString s)
    {
        // numpy_helper.to_array decodes string_data as UTF-8; bytes that are not UTF-8 stay bytes.
        try { return new UTF8Encoding(false, true).GetString(s.Span); }
        catch (DecoderFallbackException) { return s.ToByteArray(); }
    }

    private long ElementCount(IReadOnlyList<long> dims, string name)
    {
        long n = 1;
        foreach (var d in dims)
        {
            if (d < 0) throw OnnxErrors.NegativeDim(format, name, d);
            try { n = checked(n * d); }
            catch (OverflowException) { throw OnnxErrors.TooManyElements(format, name); }
        }
        return n;
    }

    // The mapped file's bytes when the walk found this raw_data and they are the parsed bytes; otherwise the parsed copy.
    private TensorStorage RawStorage(TensorProto t, string name, string key)
    {
        var raw = t.RawData.Span;
        if (raw.Length == 0) return new ArrayStorage([], name);
        if (rawIndex.TryGet(key, out long offset, out int length) && length == raw.Length && file.Span(offset, length).SequenceEqual(raw))
            return new MappedStorage(file, offset, length, name);
        return new ArrayStorage(t.RawData.ToByteArray(), name);
    }

    private byte[] Typed(TensorProto t, DType dtype, string name, long elements, long bytes)
    {
        var field = OnnxDataTypes.FieldOf(t.DataType);
        // Complex numbers take two values (real, imaginary) per element.
        long perElement = dtype.IsComplex() ? 2 : 1;
        long expected = checked(elements * perElement);
        long count = OnnxDataTypes.Count(t, field);
        if (count != expected)
        {
            if (count == 0 && expected > 0) throw OnnxErrors.NoData(format, name, elements, OnnxDataTypes.FieldName(field));
            throw OnnxErrors.TypedCountMismatch(format, name, OnnxDataTypes.FieldName(field), count, expected);
        }
        var dst = new byte[bytes];
        var span = dst.AsSpan();
        int size = dtype.ItemSize();
        switch (field)
        {
            case OnnxDataTypes.TypedField.FloatData:
                for (int i = 0; i < t.FloatData.Count; i++) BinaryPrimitives.WriteSingleLittleEndian(span[(i * sizeof(float))..], t.FloatData[i]);
                break;
            case OnnxDataTypes.TypedField.DoubleData:
                for (int i = 0; i < t.DoubleData.Count; i++) BinaryPrimitives.WriteDoubleLittleEndian(span[(i * sizeof(double))..], t.DoubleData[i]);
                break;
            case OnnxDataTypes.TypedField.Int64Data:
                for (int i = 0; i < t.Int64Data.Count; i++) BinaryPrimitives.WriteInt64LittleEndian(span[(i * sizeof(long))..], t.Int64Data[i]);
                break;
            case OnnxDataTypes.TypedField.Uint64Data:
                // UINT32 and UINT64 share uint64_data; UINT32 keeps the low 32 bits, as numpy's astype does.
                for (int i = 0; i < t.Uint64Data.Count; i++)
                    if (size == sizeof(ulong)) BinaryPrimitives.WriteUInt64LittleEndian(span[(i * size)..], t.Uint64Data[i]);
                    else BinaryPrimitives.WriteUInt32LittleEndian(span[(i * size)..], unchecked((uint)t.Uint64Data[i]));
                break;
            case OnnxDataTypes.TypedField.Int32Data:
                for (int i = 0; i < t.Int32Data.Count; i++)
                {
                    int v = t.Int32Data[i];
                    var at = span[(i * size)..];
                    // Narrow types are stored widened: integers by value, float16/bfloat16/float8 as their bit patterns.
                    // BOOL: numpy's asarray(int32_data, dtype=bool) makes every non-zero value True.
                    if (dtype == DType.Bool) at[0] = v != 0 ? (byte)1 : (byte)0;
                    else if (size == 1) at[0] = unchecked((byte)v);
                    else if (size == sizeof(ushort)) BinaryPrimitives.WriteUInt16LittleEndian(at, unchecked((ushort)v));
                    else BinaryPrimitives.WriteInt32LittleEndian(at, v);
                }
                break;
        }
        return dst;
    }
}
