using System.Runtime.InteropServices;
using System.Text;
using WeightScope.Formats.TensorFlow.Bundle;
using WeightScope.Formats.TensorFlow.Proto;
using WeightScope.Formats.TensorFlow.Table;
using WeightScope.Tensors;

namespace WeightScope.Formats.TensorFlow.V1;

/// <summary>
/// V1 checkpoints (<c>Saver(write_version=V1)</c>, <c>tensor_slice_writer.cc</c>): one table whose empty key holds
/// <see cref="SavedTensorSliceMeta"/> (every tensor's name, shape, type and slices) and whose other keys (the
/// <c>EncodeTensorNameSlice</c> of name and slice) each hold one <see cref="SavedSlice"/> with the values in a
/// <see cref="TensorProto"/>'s typed field (<c>float_val</c>, <c>int_val</c>…, as <c>SaveTypeTraits</c> fills them).
/// Tensors saved whole are read (into memory: the values are protobuf fields); partitioned ones are not supported.
/// Names are sorted, as <c>tf.train.list_variables</c> lists them.
/// </summary>
internal static class SliceCheckpointReader
{
    public static ModelFile Map(IReadOnlyList<TableEntry> table, string formatName)
    {
        var header = table[0];
        var meta = BundleIndex.Parse(SavedTensorSlices.Parser, header.Value, "V1 checkpoint meta", null, header.Offset).Meta
                   ?? throw TfCheckpointErrors.BadV1(null, "the header entry has no SavedTensorSliceMeta", header.Offset);

        // Each data entry names its tensor; the keys' OrderedCode encoding need not be decoded.
        var data = new Dictionary<string, (SavedSlice Slice, long Offset)>(StringComparer.Ordinal);
        for (int i = 1; i < table.Count; i++)
        {
            var t = table[i];
            var slices = BundleIndex.Parse(SavedTensorSlices.Parser, t.Value, $"V1 slice '{TfKeys.Display(t.Key)}'", TfKeys.Display(t.Key), t.Offset);
            if (slices.Data is not { } slice) throw TfCheckpointErrors.BadV1(TfKeys.Display(t.Key), "a data entry holds no SavedSlice", t.Offset);
            if (!data.TryAdd(slice.Name, (slice, t.Offset)))
                throw TfCheckpointErrors.Partitioned(slice.Name, 2, t.Offset);
        }

        var tensors = new List<TensorEntry>();
        var metadata = new Dictionary<string, object?>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in meta.Tensor.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            if (!names.Add(m.Name)) throw TfCheckpointErrors.DuplicateName(m.Name, header.Offset);
            var shape = ReadShape(m, header.Offset);
            if (m.Slice.Count != 1 || !IsFull(m.Slice[0], shape)) throw TfCheckpointErrors.Partitioned(m.Name, m.Slice.Count, header.Offset);
            if (!data.TryGetValue(m.Name, out var found)) throw TfCheckpointErrors.BadV1(m.Name, "the meta lists it but no data entry holds it", header.Offset);
            var proto = found.Slice.Data ?? new TensorProto();
            if (!TfDataType.IsDefined(m.Type)) throw TfCheckpointErrors.UnknownDType(m.Name, (int)m.Type, found.Offset);
            if (m.Type == DataType.DtString)
            {
                var strings = proto.StringVal.Select(b => TfKeys.TextOrBytes(b.Span)).ToList();
                if (strings.Count != shape.ElementCount) throw Count(m.Name, strings.Count, shape, found.Offset);
                metadata[m.Name] = shape.Rank == 0 ? strings[0] : strings;
                continue;
            }
            var dtype = TfDataType.ToDType(m.Type) ?? throw TfCheckpointErrors.UnsupportedDType(m.Name, TfDataType.Name(m.Type), found.Offset);
            var bytes = Values(m.Name, m.Type, dtype, proto, shape, found.Offset);
            var role = TfKeys.IsOptimizerState(m.Name) ? TensorRole.OptimizerState : TensorRole.Other;
            tensors.Add(new TensorEntry(m.Name, dtype, shape, new ArrayStorage(bytes, m.Name), role: role));
        }
        var format = new ModelFormatInfo(formatName, "V1", "tensor slices");
        return new ModelFile(format, new TensorCollection(tensors), null, metadata, nameSeparator: '/');
    }

    private static Shape ReadShape(SavedSliceMeta m, long offset)
    {
        var proto = m.Shape ?? new TensorShapeProto();
        if (proto.UnknownRank) throw TfCheckpointErrors.BadShape(m.Name, "unknown rank", offset);
        var dims = proto.Dim.Select(d => d.Size).ToArray();
        if (dims.Any(d => d < 0)) throw TfCheckpointErrors.BadShape(m.Name, "a negative dimension", offset);
        try { return new Shape(dims); }
        catch (OverflowException) { throw TfCheckpointErrors.BadShape(m.Name, "the product of its dimensions overflows int64", offset); }
    }

    // TensorSlice::AsProto writes an extent without a length for a full dimension (and no extents at all for a scalar).
    private static bool IsFull(TensorSliceProto slice, Shape shape)
    {
        if (slice.Extent.Count == 0) return true;
        if (slice.Extent.Count != shape.Rank) return false;
        for (int d = 0; d < shape.Rank; d++)
        {
            var e = slice.Extent[d];
            if (e.HasLengthCase == TensorSliceProto.Types.Extent.HasLengthOneofCase.None) continue;
            if (e.Start != 0 || e.Length != shape[d]) return false;
        }
        return true;
    }

    /// <summary>The values as little-endian bytes, from <c>tensor_content</c> or the field <c>SaveTypeTraits</c> uses.</summary>
    /// <param name="name">Tensor name, for errors.</param>
    /// <param name="type">Its DataType.</param>
    /// <param name="dtype">The same as a DType.</param>
    /// <param name="p">The proto.</param>
    /// <param name="shape">Its shape.</param>
    /// <param name="offset">Where the proto is, for errors.</param>
    /// <param name="broadcast">
    /// Graph constants (<c>Const</c> nodes) may list fewer values than the shape holds: <c>Tensor::FromProto</c> repeats
    /// the last one (and zero-fills when there is none), as <c>tf.zeros</c>/<c>tf.fill</c> constants are written.
    /// A checkpoint slice lists all of them.
    /// </param>
    internal static byte[] Values(string name, DataType type, DType dtype, TensorProto p, Shape shape, long offset, bool broadcast = false)
    {
        long count = shape.ElementCount;
        if (!p.TensorContent.IsEmpty)
        {
            if (p.TensorContent.Length != count * dtype.ItemSize())
                throw TfCheckpointErrors.SizeMismatch(name, p.TensorContent.Length, count * dtype.ItemSize(), TfDataType.Name(type), shape.ToString(), offset);
            return p.TensorContent.ToByteArray();
        }
        byte[] Check<T>(IList<T> values, Func<T[], byte[]> toBytes)
        {
            // complex values come as (real, imaginary) pairs
            int period = dtype.IsComplex() ? 2 : 1;
            long expected = period * count;
            if (values.Count == expected) return toBytes([.. values]);
            if (!broadcast || values.Count > expected || values.Count % period != 0) throw Count(name, values.Count, shape, offset);
            var all = new T[expected];
            values.CopyTo(all, 0);
            for (long i = values.Count; values.Count > 0 && i < expected; i++) all[i] = values[values.Count - period + (int)(i % period)];
            return toBytes(all);
        }
        return type switch
        {
            DataType.DtFloat => Check(p.FloatVal, v => MemoryMarshal.AsBytes(v.AsSpan()).ToArray()),
            DataType.DtComplex64 => Check(p.ScomplexVal, v => MemoryMarshal.AsBytes(v.AsSpan()).ToArray()),
            DataType.DtDouble => Check(p.DoubleVal, v => MemoryMarshal.AsBytes(v.AsSpan()).ToArray()),
            DataType.DtComplex128 => Check(p.DcomplexVal, v => MemoryMarshal.AsBytes(v.AsSpan()).ToArray()),
            DataType.DtInt64 => Check(p.Int64Val, v => MemoryMarshal.AsBytes(v.AsSpan()).ToArray()),
            DataType.DtUint32 => Check(p.Uint32Val, v => MemoryMarshal.AsBytes(v.AsSpan()).ToArray()),
            DataType.DtUint64 => Check(p.Uint64Val, v => MemoryMarshal.AsBytes(v.AsSpan()).ToArray()),
            DataType.DtBool => Check(p.BoolVal, v => v.Select(b => b ? (byte)1 : (byte)0).ToArray()),
            DataType.DtInt32 => Check(p.IntVal, v => MemoryMarshal.AsBytes(v.AsSpan()).ToArray()),
            // narrower integers are widened to int32 in int_val; half and bfloat16 bits in half_val
            DataType.DtInt16 => Check(p.IntVal, v => MemoryMarshal.AsBytes(v.Select(x => (short)x).ToArray().AsSpan()).ToArray()),
            DataType.DtUint16 => Check(p.IntVal, v => MemoryMarshal.AsBytes(v.Select(x => (ushort)x).ToArray().AsSpan()).ToArray()),
            DataType.DtInt8 => Check(p.IntVal, v => v.Select(x => (byte)(sbyte)x).ToArray()),
            DataType.DtUint8 => Check(p.IntVal, v => v.Select(x => (byte)x).ToArray()),
            DataType.DtHalf or DataType.DtBfloat16 => Check(p.HalfVal, v => MemoryMarshal.AsBytes(v.Select(x => (ushort)x).ToArray().AsSpan()).ToArray()),
            _ => throw TfCheckpointErrors.UnsupportedDType(name, TfDataType.Name(type), offset),
        };
    }

    private static ModelFormatException Count(string name, int found, Shape shape, long offset) =>
        TfCheckpointErrors.BadV1(name, $"{found} values for shape {shape} ({shape.ElementCount} elements)", offset);

}
