using WeightScope.Tensors;

namespace WeightScope.Analysis;

/// <summary>
/// Compares two weight files tensor by tensor, like a <c>for k in a: torch.allclose(a[k], b[k])</c> loop with the
/// metrics one looks at after fine-tuning or converting: names only in one file, shape/dtype mismatches, and per pair
/// max |Δ|, mean |Δ|, relative L2 change and cosine similarity. Works across formats (a <c>.pt</c> against its
/// <c>.safetensors</c>, <c>.npz</c> or ONNX export): only names, shapes and values matter.
/// </summary>
public static class Diff
{
    /// <summary>
    /// Pairs the tensors of <paramref name="a"/> and <paramref name="b"/> by name (after <see cref="DiffOptions.Renames"/>
    /// and, unless disabled, an automatically detected prefix) and compares each pair of equal shape. Values of different
    /// dtypes (float32 against float16) are compared as float64 and the pair is also reported as a dtype mismatch.
    /// </summary>
    /// <param name="a">File A.</param>
    /// <param name="b">File B.</param>
    /// <param name="options">Pairing and tolerances; defaults when null.</param>
    /// <param name="cancellationToken">Checked before each chunk of each pair.</param>
    /// <exception cref="ArgumentException">Rename rules map two tensors of one file to the same name.</exception>
    /// <exception cref="ModelFormatException">A tensor's data cannot be read.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static DiffResult Compare(ModelFile a, ModelFile b, DiffOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        options ??= new DiffOptions();
        var namesA = Rename(a.Tensors.Select(t => t.Name).ToList(), options.Renames, "A");
        var namesB = Rename(b.Tensors.Select(t => t.Name).ToList(), options.Renames, "B");
        string? prefixA = null, prefixB = null;
        if (options.AutoMap) (prefixA, prefixB) = PrefixDetection.Apply(namesA, namesB);

        var indexB = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < namesB.Count; i++) indexB[namesB[i]] = i;
        var tensorsA = a.Tensors.ToList();
        var tensorsB = b.Tensors.ToList();
        var pairs = new List<TensorComparison>();
        var onlyInA = new List<string>();
        var matchedB = new bool[namesB.Count];
        for (int i = 0; i < namesA.Count; i++)
        {
            if (!indexB.TryGetValue(namesA[i], out int j))
            {
                onlyInA.Add(tensorsA[i].Name);
                continue;
            }
            matchedB[j] = true;
            pairs.Add(ComparePair(tensorsA[i], tensorsB[j], options, cancellationToken));
            options.Progress?.Invoke(tensorsA[i].ByteSize);
        }
        bool sole = false;
        if (options.AutoMap && tensorsA.Count == 1 && tensorsB.Count == 1 && pairs.Count == 0)
        {
            // Two single-array files (.npy, whose tensor is named after the file): the arrays are what is compared.
            onlyInA.Clear();
            matchedB[0] = sole = true;
            pairs.Add(ComparePair(tensorsA[0], tensorsB[0], options, cancellationToken));
        }
        var onlyInB = tensorsB.Where((_, j) => !matchedB[j]).Select(t => t.Name).ToList();
        return new DiffResult(onlyInA, onlyInB, pairs, prefixA, prefixB) { PairedSoleTensors = sole };
    }

    /// <summary>Compares two tensors of any dtypes (see <see cref="TensorComparison"/> for the metrics' definitions).</summary>
    /// <param name="a">The tensor of file A.</param>
    /// <param name="b">The tensor of file B.</param>
    /// <param name="options">Tolerances; defaults when null.</param>
    /// <param name="cancellationToken">Checked before each chunk.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static TensorComparison ComparePair(TensorEntry a, TensorEntry b, DiffOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        options ??= new DiffOptions();
        var result = new TensorComparison { NameA = a.Name, NameB = b.Name, DTypeA = a.DType, DTypeB = b.DType, ShapeA = a.Shape, ShapeB = b.Shape };
        if (result.ShapeMismatch)
            return result with { MaxAbsDiff = double.NaN, MeanAbsDiff = double.NaN, RelativeL2 = double.NaN, Cosine = double.NaN };
        cancellationToken.ThrowIfCancellationRequested();
        if (a.DType.IsComplex() || b.DType.IsComplex()) return CompareBytes(a, b, result);
        var acc = new Accumulator(options.Atol, options.Rtol, options.EqualNan);
        TensorChunks.ForEachPair(a, b, (x, y, _) => acc.Add(x, y), cancellationToken: cancellationToken);
        return acc.Result(result);
    }

    // Complex values have no float32 view (ElementConverter keeps both parts or nothing): equal means the same dtype and
    // the same bytes; the metrics, defined for real values, are NaN.
    private static TensorComparison CompareBytes(TensorEntry a, TensorEntry b, TensorComparison result)
    {
        long different = a.ElementCount;
        if (a.DType == b.DType)
        {
            int size = a.DType.ItemSize();
            var x = a.ReadBytes();
            var y = b.ReadBytes();
            different = 0;
            for (long i = 0; i < a.ElementCount; i++)
                if (!x.AsSpan(checked((int)(i * size)), size).SequenceEqual(y.AsSpan(checked((int)(i * size)), size))) different++;
        }
        return result with
        {
            BytesOnly = true,
            MaxAbsDiff = double.NaN,
            MeanAbsDiff = double.NaN,
            RelativeL2 = double.NaN,
            Cosine = double.NaN,
            Equal = different == 0,
            DifferentElements = different,
            Elements = a.ElementCount,
        };
    }

    private static List<string> Rename(List<string> names, IReadOnlyList<RenameRule> rules, string side)
    {
        if (rules.Count == 0) return names;
        var mapped = names.Select(n => rules.Aggregate(n, (s, r) => r.Apply(s))).ToList();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < mapped.Count; i++)
        {
            if (seen.TryGetValue(mapped[i], out var other))
                throw new ArgumentException($"the rename rules map both '{other}' and '{names[i]}' of file {side} to '{mapped[i]}'; make the rules more specific");
            seen[mapped[i]] = names[i];
        }
        return mapped;
    }

    // Running sums over float64 values of aligned chunks; max/NaN behave as numpy's (NaN is sticky).
    private sealed class Accumulator(double atol, double rtol, bool equalNan)
    {
        private long _count, _different;
        private double _max, _sumAbs, _sumSqDiff, _sumSqA, _sumSqB, _dot;

        public void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            for (int i = 0; i < a.Length; i++)
            {
                double x = a[i], y = b[i];
                double d = x - y, ad = Math.Abs(d);
                _max = Math.Max(_max, ad);
                _sumAbs += ad;
                _sumSqDiff += d * d;
                _sumSqA += x * x;
                _sumSqB += y * y;
                _dot += x * y;
                if (!Close(x, y, ad)) _different++;
            }
            _count += a.Length;
        }

        // numpy.isclose: |a−b| <= atol + rtol·|b|; equal infinities are close; NaN only with equal_nan and only against NaN.
        private bool Close(double x, double y, double ad)
        {
            if (double.IsNaN(x) || double.IsNaN(y)) return equalNan && double.IsNaN(x) && double.IsNaN(y);
            if (x == y) return true;
            return ad <= atol + rtol * Math.Abs(y);
        }

        public TensorComparison Result(TensorComparison r)
        {
            if (_count == 0) return r with { MaxAbsDiff = 0, MeanAbsDiff = 0, RelativeL2 = 0, Cosine = 1, Equal = true };
            double normA = Math.Sqrt(_sumSqA), normDiff = Math.Sqrt(_sumSqDiff);
            double rel = normA != 0 ? normDiff / normA : normDiff == 0 ? 0 : double.IsNaN(normDiff) ? double.NaN : double.PositiveInfinity;
            double cosine = _sumSqA == 0 && _sumSqB == 0 ? 1
                          : _sumSqA == 0 || _sumSqB == 0 ? 0
                          : _dot / Math.Sqrt(_sumSqA * _sumSqB); // torch.nn.functional.cosine_similarity's formula
            return r with
            {
                MaxAbsDiff = _max,
                MeanAbsDiff = _sumAbs / _count,
                RelativeL2 = rel,
                Cosine = cosine,
                Equal = _different == 0,
                DifferentElements = _different,
                Elements = _count,
            };
        }
    }
}
