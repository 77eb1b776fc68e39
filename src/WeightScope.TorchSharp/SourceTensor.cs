using WeightScope.Tensors;

namespace WeightScope.TorchSharp;

/// <summary>
/// Values a module tensor will receive, already in torch's layout: one or more views of the file's tensors (a transpose
/// or permute is a strided view; reordered gate blocks are several views stacked along the first dimension), read
/// straight from the file when copied. Nothing is read until then.
/// </summary>
internal sealed class SourceTensor
{
    private SourceTensor(string sourceName, Shape shape, DType dtype, IReadOnlyList<TensorEntry> blocks, string? transform,
        TensorEntry? stored = null, int[]? order = null)
    {
        Stored = stored;
        Order = order;
        SourceName = sourceName;
        Shape = shape;
        DType = dtype;
        Blocks = blocks;
        Transform = transform;
    }

    /// <summary>The file's tensor name(s) these values come from.</summary>
    public string SourceName { get; }

    /// <summary>Shape in torch's layout.</summary>
    public Shape Shape { get; }

    /// <summary>The file's element type.</summary>
    public DType DType { get; }

    /// <summary>Views stacked along the first dimension (one for most tensors).</summary>
    public IReadOnlyList<TensorEntry> Blocks { get; }

    /// <summary>The layout change, for the load result; null when the values are taken as stored.</summary>
    public string? Transform { get; }

    /// <summary>For a permuted tensor: the file's tensor as stored, and the permutation (<see cref="ValueCopy"/> lets torch
    /// permute a large one instead of gathering it through a strided view).</summary>
    public TensorEntry? Stored { get; }

    /// <summary>The permutation of <see cref="Stored"/>'s dimensions that gives the torch layout.</summary>
    public int[]? Order { get; }

    /// <summary>The file's tensor as it is.</summary>
    public static SourceTensor Of(TensorEntry t) => new(t.Name, t.Shape, t.DType, [t], null);

    /// <summary>A tensor rearranged: <paramref name="blocks"/> stacked along the first dimension.</summary>
    public static SourceTensor Stacked(string sourceName, IReadOnlyList<TensorEntry> blocks, string transform)
    {
        long rows = blocks.Sum(b => b.Shape[0]);
        var dims = blocks[0].Shape.ToArray();
        dims[0] = rows;
        return new(sourceName, new Shape(dims), blocks[0].DType, blocks, transform);
    }

    /// <summary>A tensor permuted (a strided view: no copy until the values are read).</summary>
    public static SourceTensor Permuted(TensorEntry t, int[] order, string transform)
    {
        var view = Indexing.Permute(t, order);
        return new(t.Name, view.Shape, t.DType, [view], transform, t, order);
    }

    /// <summary>Rows [start, start + count) of the first dimension: the library's slice view (quantization follows).</summary>
    public static TensorEntry Rows(TensorEntry t, long start, long count) => t.Slice($"[{start}:{start + count}]");
}
