using System.Globalization;

namespace WeightScope.Tensors;

/// <summary>One item of a numpy-style index: an integer, a slice <c>start:stop:step</c>, or <c>...</c>.</summary>
public readonly record struct IndexItem(IndexItemKind Kind, long Index = 0, long? Start = null, long? Stop = null, long? Step = null);

/// <summary>Kinds of <see cref="IndexItem"/>.</summary>
public enum IndexItemKind
{
    /// <summary>A single position; removes the dimension.</summary>
    Integer,
    /// <summary>A range; keeps the dimension.</summary>
    Slice,
    /// <summary><c>...</c>: as many full slices as needed.</summary>
    Ellipsis,
}

/// <summary>A parsed index such as <c>[0,0,0,:]</c>.</summary>
public sealed record IndexExpression(IReadOnlyList<IndexItem> Items)
{
    /// <summary>Parses <c>[0, :, 1:4, ::2, -1, ...]</c> (brackets optional).</summary>
    /// <exception cref="FormatException">The text is not a valid index.</exception>
    public static IndexExpression Parse(string text)
    {
        var s = text.Trim();
        if (s.StartsWith('[')) s = s.EndsWith(']') ? s[1..^1] : throw new FormatException($"index '{text}' has no closing ']'");
        var items = new List<IndexItem>();
        if (s.Trim().Length == 0) return new IndexExpression(items);
        foreach (var raw in s.Split(','))
        {
            var part = raw.Trim();
            if (part == "...") { items.Add(new IndexItem(IndexItemKind.Ellipsis)); continue; }
            if (!part.Contains(':')) { items.Add(new IndexItem(IndexItemKind.Integer, ParseInt(part, text))); continue; }
            var f = part.Split(':');
            if (f.Length > 3) throw new FormatException($"index '{text}': '{part}' has more than two ':'");
            long? start = f[0].Trim().Length > 0 ? ParseInt(f[0], text) : null;
            long? stop = f[1].Trim().Length > 0 ? ParseInt(f[1], text) : null;
            long? step = f.Length == 3 && f[2].Trim().Length > 0 ? ParseInt(f[2], text) : null;
            if (step is <= 0) throw new FormatException($"index '{text}': step must be positive (PyTorch does not support negative steps)");
            items.Add(new IndexItem(IndexItemKind.Slice, 0, start, stop, step));
        }
        if (items.Count(i => i.Kind == IndexItemKind.Ellipsis) > 1) throw new FormatException($"index '{text}' has more than one '...'");
        return new IndexExpression(items);
    }

    private static long ParseInt(string s, string text) =>
        long.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? v : throw new FormatException($"index '{text}': '{s.Trim()}' is not an integer");

    /// <inheritdoc />
    public override string ToString() => "[" + string.Join(",", Items.Select(i => i.Kind switch
    {
        IndexItemKind.Integer => i.Index.ToString(CultureInfo.InvariantCulture),
        IndexItemKind.Ellipsis => "...",
        _ => $"{i.Start}:{i.Stop}" + (i.Step is { } st ? $":{st}" : ""),
    })) + "]";
}

/// <summary>Views by index, reshape and transpose, with numpy's rules; views share the storage.</summary>
public static class Indexing
{
    /// <summary>Applies an index to a tensor, returning a view.</summary>
    /// <exception cref="IndexOutOfRangeException">An index is outside its dimension, or there are too many indices.</exception>
    public static TensorEntry Apply(TensorEntry t, IndexExpression index)
    {
        var items = index.Items;
        int explicitDims = items.Count(i => i.Kind != IndexItemKind.Ellipsis);
        if (explicitDims > t.Shape.Rank)
            throw new IndexOutOfRangeException($"too many indices for tensor '{t.Name}' of dimension {t.Shape.Rank}");
        var expanded = new List<IndexItem>();
        foreach (var it in items)
        {
            if (it.Kind == IndexItemKind.Ellipsis)
                for (int k = 0; k < t.Shape.Rank - explicitDims; k++) expanded.Add(new IndexItem(IndexItemKind.Slice));
            else expanded.Add(it);
        }
        while (expanded.Count < t.Shape.Rank) expanded.Add(new IndexItem(IndexItemKind.Slice));

        long offset = t.StorageOffset;
        var shape = new List<long>();
        var strides = new List<long>();
        var q = t.Quantization;
        int channelDim = q is { Scheme: QuantizationScheme.PerChannelAffine } ? q.Axis : -1;
        for (int d = 0; d < t.Shape.Rank; d++)
        {
            long size = t.Shape[d], stride = t.Strides[d];
            bool channelAxis = d == channelDim;
            var it = expanded[d];
            if (it.Kind == IndexItemKind.Integer)
            {
                long i = it.Index < 0 ? it.Index + size : it.Index;
                if (i < 0 || i >= size)
                    throw new IndexOutOfRangeException($"index {it.Index} is out of bounds for dimension {d} with size {size} of '{t.Name}'");
                offset += i * stride;
                // Picking one channel leaves one scale and zero point: the view is per-tensor quantized, as in torch.
                if (channelAxis) q = new QuantizationInfo { Scheme = QuantizationScheme.PerTensorAffine, Scales = [q!.Scales[i]], ZeroPoints = [q.ZeroPoints[i]] };
                continue;
            }
            long step = it.Step ?? 1;
            long start = Clamp(it.Start ?? 0, size), stop = Clamp(it.Stop ?? size, size);
            long n = stop > start ? (stop - start - 1) / step + 1 : 0; // no overflow for huge steps
            if (n > 0) offset += start * stride;
            if (channelAxis) // the kept channels, and where their axis lands among the output dimensions
                q = q! with
                {
                    Axis = shape.Count,
                    Scales = [.. Enumerable.Range(0, (int)n).Select(k => q.Scales[start + k * step])],
                    ZeroPoints = [.. Enumerable.Range(0, (int)n).Select(k => q.ZeroPoints[start + k * step])],
                };
            shape.Add(n);
            strides.Add(n > 1 ? checked(stride * step) : stride);
        }
        return t.WithView(t.Name + index, new Shape([.. shape]), [.. strides], offset, q);
    }

    // Python slice bounds: negatives count from the end; out-of-range clamps.
    private static long Clamp(long v, long size) => v < 0 ? Math.Max(v + size, 0) : Math.Min(v, size);

    /// <summary>Reshapes (one dimension may be -1). Shares storage when contiguous; otherwise copies into memory.</summary>
    /// <exception cref="ArgumentException">The element counts differ.</exception>
    public static TensorEntry Reshape(TensorEntry t, long[] dims)
    {
        var d = (long[])dims.Clone();
        int infer = Array.IndexOf(d, -1L);
        if (Array.LastIndexOf(d, -1L) != infer) throw new ArgumentException("only one dimension can be -1");
        long known = 1;
        for (int i = 0; i < d.Length; i++)
        {
            if (i == infer) continue;
            if (d[i] < 0) throw new ArgumentException($"invalid dimension {d[i]}");
            known = checked(known * d[i]);
        }
        if (infer >= 0)
        {
            if (known == 0 || t.ElementCount % known != 0)
                throw new ArgumentException($"shape '[{string.Join(", ", dims)}]' is invalid for input of size {t.ElementCount}");
            d[infer] = t.ElementCount / known;
        }
        var shape = new Shape(d);
        if (shape.ElementCount != t.ElementCount)
            throw new ArgumentException($"shape '[{string.Join(", ", dims)}]' is invalid for input of size {t.ElementCount}");
        var q = ReshapeQuantization(t, shape);
        if (t.IsContiguous) return t.WithView(t.Name, shape, shape.ContiguousStrides(), t.StorageOffset, q);
        var copy = new ArrayStorage(t.ReadBytes(), t.Name + " (contiguous copy)");
        return new TensorEntry(t.Name, t.DType, shape, copy, 0, null, t.Role, false, q);
    }

    // Per-channel parameters survive a reshape only when some new dimension is still exactly the channel dimension,
    // with the same number of elements before it; otherwise channels would be split or merged.
    private static QuantizationInfo? ReshapeQuantization(TensorEntry t, Shape shape)
    {
        if (t.Quantization is not { Scheme: QuantizationScheme.PerChannelAffine } q) return t.Quantization;
        long before = 1;
        for (int i = 0; i < q.Axis; i++) before *= t.Shape[i];
        long prefix = 1;
        for (int a = 0; a < shape.Rank; a++)
        {
            if (prefix == before && shape[a] == t.Shape[q.Axis]) return q with { Axis = a };
            prefix *= shape[a];
        }
        throw new NotSupportedException($"reshaping per-channel quantized tensor '{t.Name}' to {shape} would split its channel dimension {q.Axis}");
    }

    /// <summary>
    /// Reorders all dimensions, sharing the storage (like <c>tensor.permute(order)</c>): dimension i of the result is
    /// dimension <c>order[i]</c> of <paramref name="t"/>; a per-channel quantization axis moves with its dimension.
    /// </summary>
    internal static TensorEntry Permute(TensorEntry t, int[] order)
    {
        if (order.Length != t.Shape.Rank || order.Distinct().Count() != order.Length || order.Any(d => d < 0 || d >= t.Shape.Rank))
            throw new ArgumentException($"permutation [{string.Join(", ", order)}] does not reorder the {t.Shape.Rank} dimensions of '{t.Name}'", nameof(order));
        var q = t.Quantization;
        if (q is { Scheme: QuantizationScheme.PerChannelAffine }) q = q with { Axis = Array.IndexOf(order, q.Axis) };
        return t.WithView(t.Name, new Shape([.. order.Select(d => t.Shape[d])]), [.. order.Select(d => t.Strides[d])], t.StorageOffset, q);
    }

    /// <summary>Swaps two dimensions, sharing the storage (like <c>tensor.transpose(d0, d1)</c>).</summary>
    public static TensorEntry Transpose(TensorEntry t, int dim0, int dim1)
    {
        int r = t.Shape.Rank;
        int n = Math.Max(r, 1); // torch accepts dims -1 and 0 on a 0-d or 1-d tensor, where transposing changes nothing
        if (dim0 < 0) dim0 += n;
        if (dim1 < 0) dim1 += n;
        if (dim0 < 0 || dim0 >= n || dim1 < 0 || dim1 >= n)
            throw new IndexOutOfRangeException($"dimension out of range (expected to be in range of [{-n}, {n - 1}]) for tensor of dimension {r}");
        if (r < 2) return t;
        var shape = t.Shape.ToArray();
        var strides = t.Strides.ToArray();
        (shape[dim0], shape[dim1]) = (shape[dim1], shape[dim0]);
        (strides[dim0], strides[dim1]) = (strides[dim1], strides[dim0]);
        var q = t.Quantization;
        if (q is { Scheme: QuantizationScheme.PerChannelAffine })
            q = q.Axis == dim0 ? q with { Axis = dim1 } : q.Axis == dim1 ? q with { Axis = dim0 } : q;
        return t.WithView(t.Name, new Shape(shape), strides, t.StorageOffset, q);
    }
}
