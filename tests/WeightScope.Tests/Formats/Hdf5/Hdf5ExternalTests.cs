using System.Text.Json;
using WeightScope.Formats.Hdf5.Layout;
using WeightScope.Tests.Cli;
using Xunit;

namespace WeightScope.Tests.Formats.Hdf5;

/// <summary>
/// External raw storage (<c>H5Pset_external</c>, h5py's <c>external=</c>): values come from the named files, resolved
/// against the HDF5 file's folder (h5py's answers were taken from that folder, where libhdf5 resolves them), and never
/// from fill values. A name that leaves the folder (absolute, <c>..</c>, a symbolic link) is refused unless
/// <see cref="ReaderOptions.AllowExternalPaths"/> (CLI <c>--allow-external-paths</c>) is set; a missing or short file is
/// an error on that dataset's values only. Fixtures: features/external.h5 and external_refused.h5 (hdf5_feature_fixtures.py).
/// </summary>
public sealed class Hdf5ExternalTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ws-h5-external-" + Guid.NewGuid().ToString("N"));

    public Hdf5ExternalTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonElement Refused => Hdf5FeatureTests.Expected().GetProperty("external_refused.h5").GetProperty("datasets");

    private static ModelFormatException Fails(ModelFile model, string name)
    {
        var e = Assert.ThrowsAny<ModelFormatException>(() => model.Tensors[name].ReadBytes());
        Assert.Equal("hdf5", e.Format);
        Assert.Equal(name, e.Entry);
        Assert.NotNull(e.Offset);
        Assert.Equal(model.Path, e.FilePath);
        return e;
    }

    [Fact]
    public void External_files_are_the_model_s_source_files()
    {
        using var model = ModelFile.Open(Hdf5FeatureTests.FeaturePath("external.h5"));
        var data = Path.GetFullPath(Hdf5FeatureTests.FeaturePath("external_data"));
        Assert.Equal(["a.bin", "b.bin", "c.bin", "single.bin"],
            model.SourceFiles.Where(f => f.StartsWith(data, StringComparison.Ordinal)).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Refused_missing_and_short_files_fail_only_their_dataset()
    {
        string path = Hdf5FeatureTests.FeaturePath("external_refused.h5");
        using var model = ModelFile.Open(path);
        Assert.Equal(["absolute", "fine", "missing", "parent", "short"], model.Tensors.Select(t => t.Name));
        Assert.Equal([0, 1, 2], model.Tensors["fine"].ToArray<short>());
        var parent = Fails(model, "parent");
        Assert.Contains("'../outside.bin' leads out of the folder", parent.Message);
        Assert.Contains("--allow-external-paths", parent.Message);
        Assert.Contains("is an absolute path", Fails(model, "absolute").Message);
        Assert.Contains("'external_data/missing.bin' does not exist", Fails(model, "missing").Message);
        // libhdf5 (h5py's answer, taken from this folder) reads zeros past the end of a short file; those values are not
        // in the file, so the reader refuses them.
        Assert.Equal([0.0, 1.0, 0.0, 0.0], Refused.GetProperty("short").GetProperty("values").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Contains("'external_data/short.bin' holds 8 bytes", Fails(model, "short").Message);
        // h5py cannot read the other three either (it looks for them where they are not).
        foreach (var name in new[] { "parent", "absolute", "missing" })
            Assert.True(Refused.GetProperty(name).TryGetProperty("h5py_error", out _), name);
    }

    [Fact]
    public void Allowing_external_paths_follows_names_out_of_the_folder()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "model")).FullName;
        File.Copy(Hdf5FeatureTests.FeaturePath("external_refused.h5"), Path.Combine(folder, "m.h5"));
        File.WriteAllBytes(Path.Combine(_dir, "outside.bin"), [.. new[] { 5, 6, 7, 8 }.SelectMany(BitConverter.GetBytes)]);
        using (var strict = ModelFile.Open(Path.Combine(folder, "m.h5")))
            Assert.Contains("leads out of the folder", Fails(strict, "parent").Message);
        using var trusting = ModelFile.Open(Path.Combine(folder, "m.h5"), new ReaderOptions { AllowExternalPaths = true });
        Assert.Equal([5, 6, 7, 8], trusting.Tensors["parent"].ToArray<int>());
        Assert.Contains("does not exist", Fails(trusting, "absolute").Message); // followed, not refused: it is just not there
    }

    [Fact]
    public void Symbolic_links_may_not_lead_out_of_the_folder()
    {
        // model/m.h5 names external_data/*.bin; external_data is a link, first to a folder outside, then to one inside.
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "model")).FullName;
        File.Copy(Hdf5FeatureTests.FeaturePath("external.h5"), Path.Combine(folder, "m.h5"));
        var outside = Directory.CreateDirectory(Path.Combine(_dir, "elsewhere")).FullName;
        foreach (var f in Directory.GetFiles(Hdf5FeatureTests.FeaturePath("external_data")))
            File.Copy(f, Path.Combine(outside, Path.GetFileName(f)));
        var link = Path.Combine(folder, "external_data");
        Directory.CreateSymbolicLink(link, outside);
        using (var model = ModelFile.Open(Path.Combine(folder, "m.h5")))
        {
            Assert.Contains("passes through a symbolic link that leads out of the folder", Fails(model, "single").Message);
            Assert.Contains(model.Tensors, t => t.Name == "segments");
        }
        using (var trusting = ModelFile.Open(Path.Combine(folder, "m.h5"), new ReaderOptions { AllowExternalPaths = true }))
            Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i), trusting.Tensors["single"].ToArray<float>());
        // A link that stays inside the folder is followed.
        Directory.Delete(link);
        Directory.Move(outside, Path.Combine(folder, "real_data"));
        Directory.CreateSymbolicLink(link, "real_data");
        using var inside = ModelFile.Open(Path.Combine(folder, "m.h5"));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i), inside.Tensors["single"].ToArray<float>());
    }

    [Fact]
    public void A_file_opened_from_a_stream_has_no_folder_to_find_its_external_files_in()
    {
        using var model = ModelFile.Open(new MemoryStream(File.ReadAllBytes(Hdf5FeatureTests.FeaturePath("external.h5"))));
        var e = Assert.ThrowsAny<ModelFormatException>(() => model.Tensors["single"].ReadBytes());
        Assert.Contains("opened from a stream", e.Message);
        Assert.IsType<ExternalStorage>(model.Tensors["segments"].Storage);
    }

    [Fact]
    public void Cli_lists_a_refused_dataset_fails_its_values_and_takes_allow_external_paths()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "model")).FullName;
        string path = Path.Combine(folder, "m.h5");
        File.Copy(Hdf5FeatureTests.FeaturePath("external_refused.h5"), path);
        File.WriteAllBytes(Path.Combine(_dir, "outside.bin"), [.. new[] { 5, 6, 7, 8 }.SelectMany(BitConverter.GetBytes)]);
        var list = CliRunner.Run("list", "--json", path);
        Assert.Equal(0, list.ExitCode);
        Assert.Equal(5, JsonDocument.Parse(list.Stdout).RootElement.GetProperty("tensors").GetArrayLength());
        var refused = CliRunner.Run("show", path, "parent");
        Assert.Equal(3, refused.ExitCode);
        Assert.Contains($"{path}, hdf5, entry 'parent', offset ", refused.Stderr);
        Assert.Contains("leads out of the folder", refused.Stderr);
        var allowed = CliRunner.Run("show", "--json", "--allow-external-paths", path, "parent");
        Assert.True(allowed.ExitCode == 0, allowed.Stderr);
        Assert.Equal([5, 6, 7, 8], JsonDocument.Parse(allowed.Stdout).RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetInt32()));
        // A reader flag like the limits: before the verb too, and for every verb that opens files.
        var stats = CliRunner.Run("--allow-external-paths", "stats", "--json", path, "parent", "fine");
        Assert.True(stats.ExitCode == 0, stats.Stderr);
        Assert.Equal(3, CliRunner.Run("stats", path, "parent").ExitCode);
        var hist = CliRunner.Run("hist", path, "parent", "--allow-external-paths");
        Assert.True(hist.ExitCode == 0, hist.Stderr);
        Assert.Contains("--allow-external-paths", CliRunner.Run("list", "--help").Stdout);
    }
}
