using System.Security.Cryptography;
using System.Text.Json;
using WeightScope.Analysis;
using WeightScope.Formats.Hdf5.Layout;
using WeightScope.Tensors;
using WeightScope.Tests.Cli;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Formats.Hdf5;

/// <summary>
/// Datasets larger than one .NET array holds (2,147,483,591 bytes), against h5py's answers (features_expected.json,
/// written by hdf5_feature_fixtures.py): listed like any other; <c>ToArray</c> refused with a message that says how to
/// read them; slices, the streamed statistics and histogram, and the streamed bytes a writer gets (sha256 of all of
/// them) equal h5py's. big_chunked.h5 (a few chunks written, the rest the fill value) is read chunk by chunk, decoding
/// only the chunks a range overlaps; big_contiguous is rebuilt at test time as a sparse file from its committed first
/// bytes (the rest a hole of zeros, as in the file h5py's answers were taken from).
/// </summary>
public class Hdf5LargeTests
{
    private static JsonElement Answers(string file) => Hdf5FeatureTests.Expected().GetProperty(file);

    [Fact]
    public void Chunked_dataset_over_2_GB_is_listed_and_read_in_parts_as_h5py_reads_it()
    {
        using var model = ModelFile.Open(Hdf5FeatureTests.FeaturePath("big_chunked.h5"));
        var t = model.Tensors["big"];
        Assert.IsType<ChunkedStorage>(t.Storage);
        Assert.False(t.Storage.TryGetSpan(0, 16, out _)); // never assembled whole
        AssertLikeH5py(t, Answers("big_chunked.h5").GetProperty("big"));
        Assert.Equal([0, 1, 2, 3, 4, 5], model.Tensors["small"].ToArray<int>());
    }

    [SparseFileFact]
    public void Contiguous_dataset_over_2_GB_is_listed_and_read_in_parts_as_h5py_reads_it()
    {
        var answers = Answers("big_contiguous.prefix");
        string path = Path.Combine(Path.GetTempPath(), $"ws-big-contiguous-{Guid.NewGuid():N}.h5");
        try
        {
            using (var f = File.Create(path))
            {
                f.Write(File.ReadAllBytes(Hdf5FeatureTests.FeaturePath("big_contiguous.prefix")));
                f.SetLength(answers.GetProperty("length").GetInt64()); // the rest: a hole, read as zeros
            }
            using var model = ModelFile.Open(path);
            var t = model.Tensors["big"];
            Assert.IsType<MappedStorage>(t.Storage);
            AssertLikeH5py(t, answers.GetProperty("big"));
            Assert.Equal(answers.GetProperty("small").EnumerateArray().Select(v => v.GetDouble()), model.Tensors["small"].ToFloat64());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Cli_lists_and_streams_statistics_of_a_chunked_dataset_over_2_GB()
    {
        string path = Hdf5FeatureTests.FeaturePath("big_chunked.h5");
        var big = Answers("big_chunked.h5").GetProperty("big");
        var list = CliRunner.Run("list", "--json", path);
        Assert.Equal(0, list.ExitCode);
        var listed = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("tensors").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "big");
        Assert.Equal(big.GetProperty("count").GetInt64() * 4, listed.GetProperty("bytes").GetInt64());
        var stats = CliRunner.Run("stats", "--json", path, "big");
        Assert.True(stats.ExitCode == 0, stats.Stderr);
        Assert.Contains(big.GetProperty("count").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture), stats.Stdout);
        // torch prints it summarised, from its edges: show reads only those.
        var show = CliRunner.Run("show", path, "big");
        Assert.True(show.ExitCode == 0, show.Stderr);
        Assert.Equal(big.GetProperty("torch_print").GetString(), show.Stdout.TrimEnd('\n'));
        var whole = CliRunner.Run("show", "--profile", "full", path, "big"); // every value: more than one array holds
        Assert.Equal(3, whole.ExitCode);
        Assert.Contains("too many to hold in one array; read it in slices", whole.Stderr);
        var slice = CliRunner.Run("show", "--json", path, "big[24000, 22390:22400]");
        Assert.True(slice.ExitCode == 0, slice.Stderr);
        Assert.Equal(Values(big.GetProperty("slices").GetProperty("24000, 22390:22400")),
            JsonDocument.Parse(slice.Stdout).RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()));
    }

    private static void AssertLikeH5py(TensorEntry t, JsonElement h5py)
    {
        Assert.Equal(DType.Float32, t.DType);
        Assert.Equal(h5py.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), t.Shape);
        Assert.True(t.ByteSize > Array.MaxLength);
        var refused = Assert.Throws<NotSupportedException>(() => t.ToArray<float>());
        Assert.Contains("Slice(", refused.Message);
        Assert.Contains("stats, hist and convert", refused.Message);
        Assert.Throws<NotSupportedException>(() => t.ReadBytes());

        foreach (var s in h5py.GetProperty("slices").EnumerateObject())
            Assert.True(Values(s.Value).SequenceEqual(t.Slice($"[{s.Name}]").ToFloat64()), $"slice [{s.Name}]");

        var stats = Assert.Single(Stats.Compute([t]).Tensors);
        Assert.Equal(h5py.GetProperty("count").GetInt64(), stats.Count);
        Assert.Equal(h5py.GetProperty("min").GetDouble(), stats.Min);
        Assert.Equal(h5py.GetProperty("max").GetDouble(), stats.Max);
        Assert.Equal(h5py.GetProperty("zeros").GetInt64(), stats.Zeros);
        Close(h5py.GetProperty("mean").GetDouble(), stats.Mean!.Value, h5py.GetProperty("std").GetDouble(), "mean");
        Close(h5py.GetProperty("std").GetDouble(), stats.Std!.Value, h5py.GetProperty("std").GetDouble(), "std");
        Close(h5py.GetProperty("l1").GetDouble(), stats.L1, 1, "l1");
        Close(h5py.GetProperty("l2").GetDouble(), stats.L2, 1, "l2");
        Assert.Equal(stats.Count, Histogram.Compute(t, 16).Total);

        using var sha = SHA256.Create();
        using (var hashing = new CryptoStream(Stream.Null, sha, CryptoStreamMode.Write))
        {
            long written = 0;
            TensorBytes.WriteTo(t, hashing, null, ref written);
            Assert.Equal(t.ByteSize, written);
        }
        Assert.Equal(h5py.GetProperty("sha256").GetString(), Convert.ToHexStringLower(sha.Hash!));
    }

    // Within 1e-6 of the magnitude involved, as StatsTests compares with numpy: Stats sums in float32 vector lanes merged
    // in float64 (Analysis/StatsAccumulator.cs), numpy in float64.
    private static void Close(double expected, double actual, double scale, string what) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-6 * Math.Max(Math.Abs(expected), Math.Abs(scale)), $"{what}: {actual}, h5py {expected}");

    private static double[] Values(JsonElement array) => [.. array.EnumerateArray().Select(v => v.GetDouble())];
}

/// <summary>A fact that writes a 2.15 GB sparse file: skipped when the temporary folder's disk has less than 3 GB free
/// (a file system without holes would need the whole size).</summary>
public sealed class SparseFileFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when the disk is short of space.</summary>
    public SparseFileFactAttribute()
    {
        long free = new DriveInfo(Path.GetPathRoot(Path.GetTempPath())!).AvailableFreeSpace;
        if (free < 3L << 30) Skip = $"needs 3 GB free in {Path.GetTempPath()} for a sparse 2.15 GB file; {free} bytes free";
    }
}
