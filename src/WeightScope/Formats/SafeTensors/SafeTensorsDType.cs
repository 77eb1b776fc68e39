using WeightScope.Tensors;

namespace WeightScope.Formats.SafeTensors;

/// <summary>The format's dtype strings (safetensors <c>Dtype</c> enum) and their PyTorch equivalents.</summary>
internal static class SafeTensorsDType
{
    private static readonly Dictionary<string, DType> Map = new(StringComparer.Ordinal)
    {
        ["BOOL"] = DType.Bool,
        ["U8"] = DType.UInt8,
        ["I8"] = DType.Int8,
        ["F8_E5M2"] = DType.Float8E5M2,
        ["F8_E4M3"] = DType.Float8E4M3FN, // safetensors' F8_E4M3 is torch.float8_e4m3fn (finite-only variant)
        ["I16"] = DType.Int16,
        ["U16"] = DType.UInt16,
        ["F16"] = DType.Float16,
        ["BF16"] = DType.BFloat16,
        ["I32"] = DType.Int32,
        ["U32"] = DType.UInt32,
        ["F32"] = DType.Float32,
        ["F64"] = DType.Float64,
        ["I64"] = DType.Int64,
        ["U64"] = DType.UInt64,
        ["C64"] = DType.Complex64,
    };

    public static IEnumerable<string> Known => Map.Keys;

    public static bool TryParse(string s, out DType t) => Map.TryGetValue(s, out t);

    public static string ToName(DType t) => Map.First(kv => kv.Value == t).Key;

    /// <summary>The format's name for <paramref name="t"/>; false for dtypes safetensors has no code for (quantized, complex128).</summary>
    public static bool TryName(DType t, out string name)
    {
        foreach (var (k, v) in Map)
            if (v == t) { name = k; return true; }
        name = "";
        return false;
    }
}
