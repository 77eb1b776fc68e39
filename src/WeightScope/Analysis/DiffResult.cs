using WeightScope.Tensors;

namespace WeightScope.Analysis;

/// <summary>What <see cref="Diff.Compare"/> does: tolerances, NaN handling and how names are paired.</summary>
public sealed record DiffOptions
{
    /// <summary>Absolute tolerance of <c>numpy.allclose</c>: elements are equal when |a−b| ≤ atol + rtol·|b|. Default 1e-8, numpy's.</summary>
    public double Atol { get; init; } = 1e-8;

    /// <summary>Relative tolerance of <c>numpy.allclose</c>, relative to B's value. Default 1e-5, numpy's.</summary>
    public double Rtol { get; init; } = 1e-5;

    /// <summary>Count NaN against NaN in the same place as equal (numpy's <c>equal_nan</c>). Default false, as in numpy.</summary>
    public bool EqualNan { get; init; }

    /// <summary>Rename rules applied, in order, to the names of both files before pairing.</summary>
    public IReadOnlyList<RenameRule> Renames { get; init; } = [];

    /// <summary>
    /// Detect and strip a prefix one file adds to all the other's names (<c>module.</c>, <c>model.</c>, <c>model_weights/</c>…),
    /// and pair the tensors of two single-tensor files whatever their names. Default true.
    /// </summary>
    public bool AutoMap { get; init; } = true;

    /// <summary>Called with the number of bytes (of A's tensor) just compared; for progress bars. May be null.</summary>
    public Action<long>? Progress { get; init; }
}

/// <summary>The outcome of comparing two weight files.</summary>
public sealed class DiffResult
{
    internal DiffResult(IReadOnlyList<string> onlyInA, IReadOnlyList<string> onlyInB, IReadOnlyList<TensorComparison> pairs,
                        string? strippedPrefixA, string? strippedPrefixB)
    {
        OnlyInA = onlyInA;
        OnlyInB = onlyInB;
        Pairs = pairs;
        StrippedPrefixA = strippedPrefixA;
        StrippedPrefixB = strippedPrefixB;
    }

    /// <summary>Names (as in file A) with no partner in B, in A's order.</summary>
    public IReadOnlyList<string> OnlyInA { get; }

    /// <summary>Names (as in file B) with no partner in A, in B's order.</summary>
    public IReadOnlyList<string> OnlyInB { get; }

    /// <summary>Every paired tensor, in A's order: compared ones and shape mismatches (not compared).</summary>
    public IReadOnlyList<TensorComparison> Pairs { get; }

    /// <summary>The prefix automatically stripped from A's names to pair them (e.g. <c>module.</c>), or null.</summary>
    public string? StrippedPrefixA { get; }

    /// <summary>The prefix automatically stripped from B's names to pair them, or null.</summary>
    public string? StrippedPrefixB { get; }

    /// <summary>
    /// Both files hold one tensor each, under different names (two <c>.npy</c> files, named after the file), and
    /// <see cref="DiffOptions.AutoMap"/> paired them.
    /// </summary>
    public bool PairedSoleTensors { get; internal init; }

    /// <summary>Pairs whose values were compared (equal shapes, possibly different dtypes).</summary>
    public IEnumerable<TensorComparison> Compared => Pairs.Where(p => p.Compared);

    /// <summary>Pairs whose shapes or dtypes differ (the consistency check before loading one file's weights into the other's model).</summary>
    public IEnumerable<TensorComparison> Mismatches => Pairs.Where(p => p.ShapeMismatch || p.DTypeMismatch);

    /// <summary>Same names, same shapes and dtypes, and every value equal within tolerance.</summary>
    public bool Identical => OnlyInA.Count == 0 && OnlyInB.Count == 0 && Pairs.All(p => p.Compared && p.Equal && !p.DTypeMismatch);
}

/// <summary>
/// One pair of tensors with the same (mapped) name. Metrics are over the values as float64 (each read as float32,
/// like every analysis, so float64 and int64 tensors are compared at float32 precision), in row-major order; NaN propagates into them as in numpy (a NaN anywhere makes max/mean/L2/cosine NaN).
/// </summary>
public sealed record TensorComparison
{
    /// <summary>The name in file A.</summary>
    public required string NameA { get; init; }
    /// <summary>The name in file B.</summary>
    public required string NameB { get; init; }
    /// <summary>A's dtype.</summary>
    public required DType DTypeA { get; init; }
    /// <summary>B's dtype.</summary>
    public required DType DTypeB { get; init; }
    /// <summary>A's shape.</summary>
    public required Shape ShapeA { get; init; }
    /// <summary>B's shape.</summary>
    public required Shape ShapeB { get; init; }

    /// <summary>Shapes differ: values not compared.</summary>
    public bool ShapeMismatch => !ShapeA.Equals(ShapeB);
    /// <summary>Dtypes differ (values are still compared when shapes agree).</summary>
    public bool DTypeMismatch => DTypeA != DTypeB;
    /// <summary>Values were compared (shapes agree).</summary>
    public bool Compared => !ShapeMismatch;

    /// <summary>max |a−b| (0 for empty tensors).</summary>
    public double MaxAbsDiff { get; init; }
    /// <summary>mean |a−b| (0 for empty tensors).</summary>
    public double MeanAbsDiff { get; init; }
    /// <summary>‖a−b‖₂ / ‖a‖₂; when ‖a‖₂ = 0: 0 if b is zero too, else +∞.</summary>
    public double RelativeL2 { get; init; }
    /// <summary>a·b / (‖a‖₂‖b‖₂); 1 when both are all zeros (identical), 0 when only one is (torch gives 0 for both).</summary>
    public double Cosine { get; init; }
    /// <summary>numpy.allclose: every |a−b| ≤ atol + rtol·|b| (infinities equal when equal; NaN per <see cref="DiffOptions.EqualNan"/>).</summary>
    public bool Equal { get; init; }
    /// <summary>Complex tensors: compared byte for byte (Equal means identical bytes and dtype); the real-valued metrics are NaN.</summary>
    public bool BytesOnly { get; init; }
    /// <summary>How many elements are not close.</summary>
    public long DifferentElements { get; init; }
    /// <summary>Elements compared.</summary>
    public long Elements { get; init; }
}
