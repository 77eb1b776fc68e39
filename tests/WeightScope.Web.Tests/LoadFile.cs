using System.Runtime.InteropServices;
using System.Text;
using Xunit;

namespace WeightScope.Web.Tests;

/// <summary>
/// A safetensors file generated at test time (never committed): three 64 Mi-element float32 tensors (768 MiB) that make
/// every statistic, histogram and heatmap a second-long computation, and two tiny ones the page must keep answering.
/// Written once per test class into the temporary folder and deleted with it.
/// </summary>
public sealed class LoadFile : IDisposable
{
    /// <summary>The large tensors: name and shape (64 Mi elements each).</summary>
    public static readonly (string Name, long[] Shape)[] Large =
    [
        ("big0.weight", [8192, 8192]),
        ("big1.weight", [4096, 16384]),
        ("big2.weight", [64L << 20]),
    ];

    /// <summary>The small tensors (what a light request reads).</summary>
    public static readonly (string Name, long[] Shape)[] Small =
    [
        ("small.weight", [3, 4]),
        ("small.bias", [12]),
    ];

    /// <summary>Bytes of the file, with room to spare: what <see cref="LoadFactAttribute"/> asks the temporary folder for.</summary>
    public const long DiskBytes = 3L * (64L << 20) * 4 + (1L << 20);

    private readonly string _dir;

    public LoadFile()
    {
        _dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "viewer-load-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        Path = System.IO.Path.Combine(_dir, "load.safetensors");
        Write(Path);
    }

    /// <summary>The generated file.</summary>
    public string Path { get; }

    private static void Write(string path)
    {
        var all = Large.Concat(Small).ToArray();
        var header = new StringBuilder("{");
        long offset = 0;
        foreach (var (name, shape) in all)
        {
            long bytes = shape.Aggregate(1L, (a, d) => a * d) * 4;
            if (header.Length > 1) header.Append(',');
            header.Append($"\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(',', shape)}],\"data_offsets\":[{offset},{offset + bytes}]}}");
            offset += bytes;
        }
        header.Append('}');
        while ((header.Length + 8) % 8 != 0) header.Append(' ');
        using var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        f.Write(BitConverter.GetBytes((long)header.Length));
        f.Write(Encoding.ASCII.GetBytes(header.ToString()));
        // Roughly normal values (sum of three uniforms) from a fixed xorshift seed, plus one NaN and one +Inf in big1 so
        // the non-finite counts are exercised; 1 Mi floats at a time.
        ulong state = 0x9E3779B97F4A7C15;
        var buffer = new float[1 << 20];
        foreach (var (name, shape) in all)
        {
            long count = shape.Aggregate(1L, (a, d) => a * d);
            for (long done = 0; done < count; done += buffer.Length)
            {
                int n = (int)Math.Min(buffer.Length, count - done);
                for (int i = 0; i < n; i++) buffer[i] = (Next(ref state) + Next(ref state) + Next(ref state) - 1.5f) * 0.05f;
                if (name == "big1.weight" && done == 0) (buffer[0], buffer[1]) = (float.NaN, float.PositiveInfinity);
                f.Write(MemoryMarshal.AsBytes(buffer.AsSpan(0, n)));
            }
        }
    }

    private static float Next(ref ulong s)
    {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return (s >> 40) / (float)(1 << 24);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

/// <summary>A fact that needs <see cref="LoadFile.DiskBytes"/> free in the temporary folder: skipped, with the reason, otherwise.</summary>
public sealed class LoadFactAttribute : FactAttribute
{
    public LoadFactAttribute()
    {
        long free = new DriveInfo(Path.GetTempPath()).AvailableFreeSpace;
        if (free < 2 * LoadFile.DiskBytes)
            Skip = $"the load test writes {LoadFile.DiskBytes >> 20} MiB to {Path.GetTempPath()}, which has {free >> 20} MiB free";
    }
}
