using System.Security.Cryptography;
using System.Text.Json;
using WeightScope.Tensors;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Writing;

/// <summary>A fresh folder under the temp directory, deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    /// <summary>Creates the folder.</summary>
    public TempDir() => Directory.CreateDirectory(Path);

    /// <summary>The folder.</summary>
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ws-writer-" + Guid.NewGuid().ToString("N"));

    /// <summary>A file in the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <inheritdoc />
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>What a writer test compares: a tensor's dtype, shape and the SHA-256 of its row-major little-endian bytes.</summary>
public sealed record TensorDigest(string DType, long[] Shape, string Sha256)
{
    /// <summary>The digest WeightScope computes for <paramref name="t"/>.</summary>
    public static TensorDigest Of(TensorEntry t) =>
        new(t.DType.Name(), t.Shape.AsSpan().ToArray(), Convert.ToHexStringLower(SHA256.HashData(t.ReadBytes())));

    /// <inheritdoc />
    public bool Equals(TensorDigest? other) =>
        other is not null && DType == other.DType && Shape.SequenceEqual(other.Shape) && Sha256 == other.Sha256;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(DType, Sha256);

    /// <inheritdoc />
    public override string ToString() => $"{DType}[{string.Join(", ", Shape)}] {Sha256[..12]}";
}

/// <summary>Helpers shared by the writer tests.</summary>
public static class WriterKit
{
    /// <summary>Same names in the same order, and per tensor the same dtype, shape and bytes.</summary>
    public static void AssertSameTensors(IEnumerable<TensorEntry> expected, IEnumerable<TensorEntry> actual)
    {
        var e = expected.ToList();
        var a = actual.ToList();
        Assert.Equal(e.Select(t => t.Name), a.Select(t => t.Name));
        for (int i = 0; i < e.Count; i++)
            Assert.True(TensorDigest.Of(e[i]).Equals(TensorDigest.Of(a[i])),
                $"{e[i].Name}: wrote {TensorDigest.Of(e[i])}, read back {TensorDigest.Of(a[i])}");
    }

    /// <summary>Writes <paramref name="tensors"/> with <paramref name="format"/>, reads the file back and checks it equals them.</summary>
    public static void RoundTrip(IReadOnlyList<TensorEntry> tensors, string path, string format, WriteOptions? options = null)
    {
        TensorWriters.Save(tensors, path, format, options);
        using var back = ModelFile.Open(path);
        AssertSameTensors(tensors, back.Tensors);
    }

    /// <summary>
    /// Parses what a python script printed — a JSON object of name → {dtype, shape, sha256, …} — and checks it lists
    /// the tensors of <paramref name="source"/> in order with their digests; returns the parsed object for further checks.
    /// </summary>
    public static JsonElement AssertPythonSees(string json, IEnumerable<TensorEntry> source)
    {
        var root = JsonDocument.Parse(json).RootElement.Clone();
        var list = source.ToList();
        Assert.Equal(list.Select(t => t.Name), root.EnumerateObject().Select(p => p.Name));
        foreach (var t in list)
        {
            var p = root.GetProperty(t.Name);
            var seen = new TensorDigest(p.GetProperty("dtype").GetString()!,
                [.. p.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())], p.GetProperty("sha256").GetString()!);
            Assert.True(TensorDigest.Of(t).Equals(seen), $"{t.Name}: source {TensorDigest.Of(t)}, python read {seen}");
        }
        return root;
    }

    /// <summary>An in-memory tensor over <paramref name="bytes"/>.</summary>
    public static TensorEntry Tensor(string name, DType dtype, long[] shape, byte[]? bytes = null, long[]? strides = null, long offset = 0) =>
        new(name, dtype, new Shape(shape), new ArrayStorage(bytes ?? new byte[new Shape(shape).ElementCount * dtype.ItemSize()], name),
            offset, strides);
}
