using System.Text.Json;
using WeightScope.Export;
using WeightScope.Tests.Interop;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Export;

/// <summary>Views (index, reshape, transpose) and column-major order give the values torch gives for the same expression.</summary>
public sealed class ExportTensorTests
{
    private static readonly string Fixture = TestPaths.Fixture("pytorch", "resnet_tiny_state_dict.pth");

    [PythonTheory("torch")]
    [InlineData("conv1.weight", "[0,0,0,:]", "-1,1", false, false, "t[0,0,0,:].reshape(-1,1)")]
    [InlineData("conv1.weight", "[1:3,::2]", null, false, true, "t[1:3,::2]")]
    [InlineData("conv1.weight", null, null, false, true, "t")]
    [InlineData("fc.weight", null, null, true, false, "t.transpose(-2,-1)")]
    [InlineData("fc.weight", null, null, true, true, "t.transpose(-2,-1)")]
    [InlineData("conv1.weight", "[0]", "7,21", true, true, "t[0].reshape(7,21).transpose(-2,-1)")]
    public void Views_and_order_match_torch(string name, string? index, string? reshape, bool transpose, bool columnMajor, string expression)
    {
        var t = ModelFile.Open(Fixture).Tensors[name];
        if (index is not null) t = t.Slice(index);
        if (reshape is not null) t = t.Reshape(reshape.Split(',').Select(long.Parse).ToArray());
        if (transpose) t = t.Transpose(-2, -1);
        var e = ExportTensor.Create(t, order: columnMajor ? ElementOrder.Column : ElementOrder.Row);
        // Column-major is numpy's order='F' flatten; the written shape is the reversed shape (C sees the permuted tensor).
        var torch = JsonDocument.Parse(Python.Run($$"""
            import json, sys, torch
            t = torch.load(sys.argv[1])[sys.argv[2]]
            v = {{expression}}
            col = sys.argv[3] == "col"
            if col: v = v.permute(*reversed(range(v.dim())))
            print(json.dumps({"shape": list(v.shape), "values": v.contiguous().flatten().double().tolist()}))
            """, Fixture, name, columnMajor ? "col" : "row")).RootElement;
        Assert.Equal(torch.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()), e.Shape);
        Assert.Equal(torch.GetProperty("values").EnumerateArray().Select(x => x.GetDouble()), e.Values);
    }

    [Fact]
    public void Column_major_reorders_words_with_the_values()
    {
        var t = ModelFile.Open(TestPaths.Fixture("pytorch", "every_dtype.pt")).Tensors["matrix_f32"]; // [3, 4]
        var row = ExportTensor.Create(t, new ExportEncoding { IntegerBits = 8 });
        var col = ExportTensor.Create(t, new ExportEncoding { IntegerBits = 8 }, ElementOrder.Column);
        Assert.Equal([4L, 3L], col.Shape);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
            {
                Assert.Equal(row.Words![i * 4 + j], col.Words![j * 3 + i]);
                Assert.Equal(row.Values[i * 4 + j], col.Values[j * 3 + i]);
            }
    }

    [Fact]
    public void Complex_tensors_are_refused_with_the_reason()
    {
        var t = ModelFile.Open(TestPaths.Fixture("pytorch", "every_dtype.pt")).Tensors["complex64"];
        Assert.Equal("complex64: complex64 values cannot be exported; select real-valued tensors",
            Assert.Throws<ModelWriteException>(() => ExportTensor.Create(t)).Message);
    }
}
