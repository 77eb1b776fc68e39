using WeightScope.Tensors;

namespace WeightScope.TorchSharp.Layout;

/// <summary>
/// ONNX initializers whose layout differs from the torch module's: a <c>Gemm</c> computes α·A·B + β·C (transB = 0, B
/// stored (in, out), as tf2onnx and Keras converters write it) or α·A·Bᵀ + β·C (transB = 1, B stored (out, in), as
/// torch.onnx.export writes an nn.Linear); a <c>MatMul</c> with a constant B computes A·B, B (in, out), as
/// torch.onnx.export writes a Linear applied to 3-d input. A Linear weight is (out, in), so B is transposed where it is
/// (in, out) (onnx.proto operator docs, Gemm and MatMul).
/// </summary>
internal static class OnnxLayouts
{
    public const string FormatName = "onnx";

    /// <summary>The initializers to transpose, each with its torch-layout view; what cannot be told apart goes to <paramref name="warnings"/>.</summary>
    public static Dictionary<TensorEntry, SourceTensor> Transposed(ModelFile model, List<string> warnings)
    {
        var result = new Dictionary<TensorEntry, SourceTensor>(ReferenceEqualityComparer.Instance);
        foreach (var node in model.Modules.Descendants())
        {
            if (node.Type is not ("Gemm" or "MatMul")) continue;
            if (node.Type == "Gemm")
            {
                foreach (var scale in new[] { "alpha", "beta" })
                    if (node.Attributes.TryGetValue(scale, out var f) && f is double d && d != 1)
                        warnings.Add($"ONNX Gemm '{node.Path}' scales by {scale} = {d.ToString(System.Globalization.CultureInfo.InvariantCulture)}, "
                            + "which a torch Linear does not: its weights load as stored, without the factor");
                if (node.Attributes.TryGetValue("transB", out var v) && v is long transB && transB != 0) continue;
            }
            // The node's tensor inputs, in input order (the reader lists the inputs that are tensors). B is the one
            // rank-2 tensor: A is computed in any network a Linear becomes, C is a vector. Two rank-2 tensors cannot be
            // told apart from the listing: then nothing is transposed, and the load says so.
            var matrices = node.Parameters.Values.Where(t => t is not null && t.Shape.Rank == 2).Select(t => t!).Distinct().ToList();
            if (matrices.Count == 1)
            {
                var b = matrices[0];
                if (!result.ContainsKey(b))
                    result[b] = SourceTensor.Permuted(b, [1, 0], $"transposed: ONNX {node.Type} B (in, out) → Linear weight (out, in)");
            }
            else if (matrices.Count > 1)
                warnings.Add($"ONNX {node.Type} '{node.Path}' has {matrices.Count} constant matrices ({string.Join(", ", matrices.Select(m => $"'{m.Name}'"))}); "
                    + "which one is B cannot be told, so none was transposed");
        }
        return result;
    }
}
