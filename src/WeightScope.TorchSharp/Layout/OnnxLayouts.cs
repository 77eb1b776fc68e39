using WeightScope.Tensors;

namespace WeightScope.TorchSharp.Layout;

/// <summary>
/// ONNX initializers whose layout differs from the torch module's: a <c>Gemm</c> computes A·B (transB = 0, B stored
/// (in, out), as tf2onnx and Keras converters write it) or A·Bᵀ (transB = 1, B stored (out, in), as torch.onnx.export
/// writes an nn.Linear). A Linear weight is (out, in), so B is transposed when transB is 0 (onnx.proto operator docs, Gemm).
/// </summary>
internal static class OnnxLayouts
{
    public const string FormatName = "onnx";

    /// <summary>The initializers to transpose, each with its torch-layout view.</summary>
    public static Dictionary<TensorEntry, SourceTensor> Transposed(ModelFile model)
    {
        var result = new Dictionary<TensorEntry, SourceTensor>(ReferenceEqualityComparer.Instance);
        foreach (var node in model.Modules.Descendants())
        {
            if (node.Type != "Gemm") continue;
            long transB = node.Attributes.TryGetValue("transB", out var v) && v is long l ? l : 0;
            if (transB != 0) continue;
            // The node's tensor inputs in input order: B is the last rank-2 one (A is almost always computed; when it is
            // an initializer too it comes first).
            var b = node.Parameters.Values.Where(t => t is not null && t.Shape.Rank == 2).LastOrDefault();
            if (b is not null && !result.ContainsKey(b))
                result[b] = SourceTensor.Permuted(b, [1, 0], "transposed: ONNX Gemm B with transB=0 (in, out) → Linear weight (out, in)");
        }
        return result;
    }
}
