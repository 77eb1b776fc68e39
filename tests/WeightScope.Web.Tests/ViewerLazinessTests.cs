using System.Diagnostics;
using System.Net;
using System.Text;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Web.Tests;

/// <summary>
/// The page's first requests (session, summary, tree, tensor list) read no tensor data; a tensor's data is read when one
/// of its views is asked for, and its statistics once.
/// </summary>
public sealed class ViewerLazinessTests
{
    /// <summary>Bytes in memory that count every read.</summary>
    private sealed class CountingStorage(byte[] data, string key) : TensorStorage(key)
    {
        public int Reads;

        public override long ByteLength => data.LongLength;

        protected override void ReadCore(long offset, Span<byte> destination)
        {
            Interlocked.Increment(ref Reads);
            data.AsSpan((int)offset, destination.Length).CopyTo(destination);
        }

        protected override bool TryGetSpanCore(long offset, int length, out ReadOnlySpan<byte> span)
        {
            Interlocked.Increment(ref Reads);
            span = data.AsSpan((int)offset, length);
            return true;
        }
    }

    [Fact]
    public void Only_what_is_shown_is_read()
    {
        var storages = new List<CountingStorage>();
        var tensors = new List<TensorEntry>();
        for (int i = 0; i < 4; i++)
        {
            var values = Enumerable.Range(0, 64).Select(k => (float)(k * (i + 1)) / 10).ToArray();
            var s = new CountingStorage(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), $"s{i}");
            storages.Add(s);
            tensors.Add(new TensorEntry($"layer{i}.weight", DType.Float32, new Shape(8, 8), s, role: TensorRole.Parameter));
        }
        var model = new ModelFile(new ModelFormatInfo("memory"), new TensorCollection(tensors));
        using var served = new Served(ViewerServer.Start([model], 0));

        foreach (var path in new[] { "/", "/app.js", "/app.css", "/api/session", "/api/files/0/summary", "/api/files/0/tree", "/api/files/0/tensors" })
            Assert.Equal(HttpStatusCode.OK, served.Get(path).Status);
        Assert.All(storages, s => Assert.Equal(0, s.Reads));

        served.Json("/api/files/0/tensors/2/stats");
        Assert.True(storages[2].Reads > 0);
        int after = storages[2].Reads;
        served.Json("/api/files/0/tensors/2/stats"); // cached
        Assert.Equal(after, storages[2].Reads);
        Assert.Equal(0, storages[0].Reads + storages[1].Reads + storages[3].Reads);

        served.Json("/api/files/0/tensors/1/hist");
        Assert.True(storages[1].Reads > 0);
        Assert.Equal(0, storages[0].Reads + storages[3].Reads);
    }

    [Fact]
    public void A_multi_gigabyte_file_shows_its_list_and_tree_at_once()
    {
        // A sparse 3 GiB safetensors file: the header is real, the data a hole (no disk used).
        string dir = Path.Combine(Path.GetTempPath(), "ws-serve-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "big.safetensors");
            const long Rows = 24_576, Cols = 32_768; // 805,306,368 float32 = 3 GiB
            long size = Rows * Cols * 4;
            string header = $"{{\"encoder.big.weight\":{{\"dtype\":\"F32\",\"shape\":[{Rows},{Cols}],\"data_offsets\":[0,{size}]}},"
                          + $"\"encoder.small.bias\":{{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[{size},{size + 16}]}}}}";
            while ((header.Length + 8) % 8 != 0) header += " ";
            using (var f = new FileStream(path, FileMode.CreateNew))
            {
                f.Write(BitConverter.GetBytes((long)header.Length));
                f.Write(Encoding.ASCII.GetBytes(header));
                f.SetLength(8 + header.Length + size + 16);
            }
            var clock = Stopwatch.StartNew();
            using var s = new Served(path);
            var list = s.Json("/api/files/0/tensors");
            var tree = s.Json("/api/files/0/tree");
            clock.Stop();
            Assert.Equal(Rows * Cols + 4, list.GetProperty("totals").GetProperty("params").GetInt64());
            Assert.Equal(Rows * Cols + 4, tree.GetProperty("params").GetInt64());
            // Reading 3 GiB would take seconds; the header is a few hundred bytes.
            Assert.True(clock.ElapsedMilliseconds < 3000, $"took {clock.ElapsedMilliseconds} ms");
            // and a view of the small tensor reads only it
            Assert.Equal(4, s.Json("/api/files/0/tensor/stats?name=encoder.small.bias").GetProperty("zeros").GetInt64());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
