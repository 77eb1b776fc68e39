using System.Security.Cryptography;
using System.Text.Json;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.Onnx;

/// <summary>onnx's own answers (tests/fixtures/onnx/*.json, written by onnx_fixtures.py) and how to compare a tensor with one.</summary>
internal static class OnnxAnswers
{
    public static JsonElement Fixtures { get; } = Load("expected.json");
    public static JsonElement Corpus { get; } = Load("corpus_expected.json");

    private static JsonElement Load(string name) =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("onnx", name))).RootElement;

    /// <summary>TensorProto.DataType names → element types, from onnx.proto's comments on each type.</summary>
    public static readonly Dictionary<string, DType> DTypeOf = new()
    {
        ["FLOAT"] = DType.Float32,
        ["UINT8"] = DType.UInt8,
        ["INT8"] = DType.Int8,
        ["UINT16"] = DType.UInt16,
        ["INT16"] = DType.Int16,
        ["INT32"] = DType.Int32,
        ["INT64"] = DType.Int64,
        ["BOOL"] = DType.Bool,
        ["FLOAT16"] = DType.Float16,
        ["DOUBLE"] = DType.Float64,
        ["UINT32"] = DType.UInt32,
        ["UINT64"] = DType.UInt64,
        ["COMPLEX64"] = DType.Complex64,
        ["COMPLEX128"] = DType.Complex128,
        ["BFLOAT16"] = DType.BFloat16,
    };

    /// <summary>Checks dtype, shape and the bytes (numpy's <c>to_array(t).tobytes()</c> hash; bfloat16, which onnx 1.12 widens to float32, by value).</summary>
    public static void AssertTensor(JsonElement answer, TensorEntry t, string where)
    {
        var dtype = answer.GetProperty("dtype").GetString()!;
        Assert.True(DTypeOf[dtype] == t.DType, $"{where}: dtype {t.DType}, onnx says {dtype}");
        Assert.Equal(answer.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), t.Shape.ToArray());
        if (t.DType == DType.BFloat16)
        {
            var expected = answer.GetProperty("values").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
            Assert.Equal(expected, t.ToFloat32());
            return;
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(t.ReadBytes()));
        Assert.True(answer.GetProperty("sha256").GetString() == hash, $"{where}: bytes differ from onnx's to_array");
    }
}
