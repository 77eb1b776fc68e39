using WeightScope.Analysis;
using WeightScope.Tests.Formats.Gguf;
using Xunit;

namespace WeightScope.Tests.Analysis;

/// <summary>Chunked float32 reading equals <c>ToFloat32()</c> of the whole tensor for every kind of storage and dtype.</summary>
public sealed class TensorChunksTests
{
    public static TheoryData<string> NumpyFixtures() =>
        ["float32.npy", "float16.npy", "float64.npy", "int16_big_endian.npy", "float32_big_endian.npy", "float32_fortran.npy", "int64_fortran_3d.npy", "random_64x64.npy"];

    private static float[] Chunked(WeightScope.Tensors.TensorEntry t, int chunk, bool parallel)
    {
        var result = new float[t.ElementCount];
        var seen = new bool[t.ElementCount];
        TensorChunks.ChunkAction body = (values, first) =>
        {
            values.CopyTo(result.AsSpan((int)first));
            lock (seen) for (int i = 0; i < values.Length; i++) { Assert.False(seen[first + i]); seen[first + i] = true; }
        };
        if (parallel) TensorChunks.ForEachParallel(t, body, chunk, maxThreads: 4);
        else TensorChunks.ForEach(t, body, chunk);
        Assert.All(seen, Assert.True);
        return result;
    }

    [Theory]
    [MemberData(nameof(NumpyFixtures))]
    public void Chunks_of_any_size_give_the_same_values(string file)
    {
        using var m = ModelFile.Open(TestPaths.Fixture("numpy", file));
        var t = m.Tensors.Single();
        var whole = t.ToFloat32();
        foreach (int chunk in new[] { 1, 7, 64, 1 << 20 })
        {
            Assert.Equal(whole, Chunked(t, chunk, parallel: false));
            Assert.Equal(whole, Chunked(t, chunk, parallel: true));
        }
    }

    [Fact]
    public void Gguf_blocks_and_strided_views_are_read_in_chunks_too()
    {
        var q = GgmlBlockSamples.Make("Q6_K", 4, seed: 3);
        var bytes = new GgufBuilder().KvString("general.architecture", "llama")
            .AddTensor("w", [(ulong)(q.BlockSize * 2), 2], q.TypeId, q.Bytes).Build();
        using var m = ModelFile.Open(new MemoryStream(bytes));
        var t = m.Tensors["w"];
        Assert.Equal(q.Expected, Chunked(t, 100, parallel: true));
        var transposed = t.Transpose();
        Assert.Equal(transposed.ToFloat32(), Chunked(transposed, 100, parallel: false));
    }
}
