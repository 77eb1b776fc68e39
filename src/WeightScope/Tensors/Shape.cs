using System.Collections;

namespace WeightScope.Tensors;

/// <summary>A tensor's dimensions, printed as PyTorch prints them (<c>[10, 5]</c>; a scalar is <c>[]</c>).</summary>
public sealed class Shape : IReadOnlyList<long>, IEquatable<Shape>
{
    private readonly long[] _dims;

    /// <summary>Creates a shape; every dimension must be ≥ 0.</summary>
    public Shape(params ReadOnlySpan<long> dims)
    {
        foreach (var d in dims)
            if (d < 0) throw new ArgumentOutOfRangeException(nameof(dims), $"negative dimension {d}");
        _dims = dims.ToArray();
        long n = 1;
        foreach (var d in _dims) n = checked(n * d);
        ElementCount = n;
    }

    /// <summary>The shape of a scalar.</summary>
    public static Shape Scalar { get; } = new();

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dims.Length;

    /// <summary>Product of the dimensions (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <inheritdoc />
    public long this[int index] => _dims[index];

    /// <inheritdoc />
    public int Count => _dims.Length;

    /// <summary>The dimensions as a span.</summary>
    public ReadOnlySpan<long> AsSpan() => _dims;

    /// <summary>Strides (in elements) of a C-contiguous (row-major) layout of this shape.</summary>
    public long[] ContiguousStrides()
    {
        var s = new long[_dims.Length];
        long acc = 1;
        for (int i = _dims.Length - 1; i >= 0; i--)
        {
            s[i] = acc;
            acc = checked(acc * Math.Max(_dims[i], 1));
        }
        return s;
    }

    /// <inheritdoc />
    public IEnumerator<long> GetEnumerator() => ((IEnumerable<long>)_dims).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _dims.GetEnumerator();

    /// <inheritdoc />
    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Shape);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in _dims) h.Add(d);
        return h.ToHashCode();
    }

    /// <summary><c>[2, 3]</c>.</summary>
    public override string ToString() => "[" + string.Join(", ", _dims) + "]";
}
