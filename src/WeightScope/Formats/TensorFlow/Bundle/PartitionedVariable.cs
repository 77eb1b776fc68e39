using System.Text;
using WeightScope.Formats.TensorFlow.Proto;
using WeightScope.Tensors;

namespace WeightScope.Formats.TensorFlow.Bundle;

/// <summary>
/// A partitioned variable (<c>BundleWriter::AddSlice</c>): the full entry holds dtype, full shape and the list of
/// slices; each slice is an ordinary entry under its <see cref="TensorSliceKey"/>. The slices must tile the full tensor
/// exactly; the whole tensor is assembled on first read (each slice's checksum verified as it is read).
/// </summary>
internal static class PartitionedVariable
{
    /// <summary>Where one slice goes: start and length per dimension, and its bytes.</summary>
    private sealed record Part(long[] Start, long[] Length, TensorStorage? Storage);

    public static TensorStorage Assemble(BundleIndexEntry full, Shape shape, DType dtype,
        Func<byte[], BundleIndexEntry?> lookup, Func<BundleIndexEntry, BundleStorage> map)
    {
        int rank = shape.Rank;
        int item = dtype.ItemSize();
        long totalBytes;
        try { totalBytes = checked(shape.ElementCount * item); }
        catch (OverflowException) { throw TfCheckpointErrors.BadShape(full.Key, "the product of its dimensions overflows int64", full.Offset); }
        if (totalBytes > Array.MaxLength)
            throw TfCheckpointErrors.BadPartition(full.Key, $"assembled it would take {totalBytes} bytes, more than one array holds", full.Offset);

        var parts = new List<Part>(full.Entry.Slices.Count);
        long covered = 0;
        for (int s = 0; s < full.Entry.Slices.Count; s++)
        {
            var slice = full.Entry.Slices[s];
            if (slice.Extent.Count != rank)
                throw TfCheckpointErrors.BadPartition(full.Key, $"slice {s} has {slice.Extent.Count} extents for {rank} dimensions", full.Offset);
            var extents = new (long Start, long Length)[rank];
            var start = new long[rank];
            var length = new long[rank];
            for (int d = 0; d < rank; d++)
            {
                var e = slice.Extent[d];
                bool whole = e.HasLengthCase == TensorSliceProto.Types.Extent.HasLengthOneofCase.None;
                extents[d] = (e.Start, whole ? TensorSliceKey.FullExtent : e.Length);
                start[d] = whole ? 0 : e.Start;
                length[d] = whole ? shape[d] : e.Length;
                if (start[d] < 0 || length[d] < 0 || start[d] > shape[d] || length[d] > shape[d] - start[d])
                    throw TfCheckpointErrors.BadPartition(full.Key, $"slice {s} covers [{start[d]}, {start[d] + length[d]}) of dimension {d} (size {shape[d]})", full.Offset);
            }
            var key = TensorSliceKey.Encode(full.RawKey, extents);
            var entry = lookup(key) ?? throw TfCheckpointErrors.BadPartition(full.Key,
                $"slice {s} ({Describe(start, length)}) is not in the index (key {TfKeys.Display(key)})", full.Offset);
            if (entry.Entry.Dtype != full.Entry.Dtype)
                throw TfCheckpointErrors.BadPartition(full.Key, $"slice {s} is {TfDataType.Name(entry.Entry.Dtype)}, the variable {TfDataType.Name(full.Entry.Dtype)}", entry.Offset);
            var sliceDims = entry.Entry.Shape?.Dim.Select(d => d.Size).ToArray() ?? [];
            if (!sliceDims.SequenceEqual(length))
                throw TfCheckpointErrors.BadPartition(full.Key, $"slice {s} is stored with shape [{string.Join(", ", sliceDims)}] but covers [{string.Join(", ", length)}]", entry.Offset);
            long elements = length.Aggregate(1L, (a, b) => a * b); // each ≤ its full dimension: no overflow beyond the full count
            if (entry.Entry.Size != elements * item)
                throw TfCheckpointErrors.SizeMismatch(entry.Key, entry.Entry.Size, elements * item, TfDataType.Name(entry.Entry.Dtype), $"[{string.Join(", ", length)}]", entry.Offset);
            foreach (var p in parts)
                if (Overlaps(p, start, length))
                    throw TfCheckpointErrors.BadPartition(full.Key, $"slice {s} ({Describe(start, length)}) overlaps ({Describe(p.Start, p.Length)})", entry.Offset);
            covered += elements;
            parts.Add(new Part(start, length, elements == 0 ? null : map(entry)));
        }
        if (covered != shape.ElementCount)
            throw TfCheckpointErrors.BadPartition(full.Key, $"the slices cover {covered} of its {shape.ElementCount} elements", full.Offset);

        return new DecodedStorage(totalBytes, () => Copy(parts, shape, item, totalBytes), full.Key);
    }

    private static byte[] Copy(List<Part> parts, Shape shape, int item, long totalBytes)
    {
        var output = new byte[totalBytes];
        int rank = shape.Rank;
        var fullStrides = shape.ContiguousStrides();
        foreach (var p in parts)
        {
            if (p.Storage is null) continue;
            var bytes = new byte[p.Storage.ByteLength];
            p.Storage.Read(0, bytes);
            if (rank == 0)
            {
                bytes.CopyTo(output, 0);
                continue;
            }
            // Copy runs along the last dimension, walking every index of the leading ones.
            long run = p.Length[rank - 1] * item;
            var index = new long[rank - 1];
            long source = 0;
            while (true)
            {
                long target = p.Start[rank - 1];
                for (int d = 0; d < rank - 1; d++) target += (p.Start[d] + index[d]) * fullStrides[d];
                Array.Copy(bytes, source, output, target * item, run);
                source += run;
                int k = rank - 2;
                while (k >= 0 && ++index[k] == p.Length[k]) index[k--] = 0;
                if (k < 0) break;
            }
        }
        return output;
    }

    private static bool Overlaps(Part p, long[] start, long[] length)
    {
        for (int d = 0; d < start.Length; d++)
            if (start[d] >= p.Start[d] + p.Length[d] || p.Start[d] >= start[d] + length[d]) return false;
        return true;
    }

    private static string Describe(long[] start, long[] length)
    {
        var sb = new StringBuilder("[");
        for (int d = 0; d < start.Length; d++) sb.Append(d > 0 ? ", " : "").Append(start[d]).Append(':').Append(start[d] + length[d]);
        return sb.Append(']').ToString();
    }
}
