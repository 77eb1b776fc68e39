using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.NumPy;

/// <summary>Every fixture numpy wrote (tests/fixtures/numpy) opens as np.load sees it, per expected.json.</summary>
public class NumPyFixtureTests
{
    private static readonly System.Text.Json.JsonElement Expected = NumPyAnswers.Load("expected.json");

    public static TheoryData<string> Files => NumPyAnswers.Names("expected.json");

    [Theory]
    [MemberData(nameof(Files))]
    public void Fixture_matches_numpy(string file) => NumPyAnswers.Check(TestPaths.Fixture("numpy", file), Expected.GetProperty(file));

    [Fact]
    public void Every_fixture_file_has_an_answer()
    {
        var files = Directory.GetFiles(TestPaths.Fixture("numpy")).Select(Path.GetFileName).Where(f => f is not ("expected.json" or "corpus_expected.json"));
        Assert.Equal(files.Order(), Expected.EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public void Stored_members_and_npy_files_are_mapped_zero_copy()
    {
        using var npy = ModelFile.Open(TestPaths.Fixture("numpy", "float32.npy"));
        Assert.IsType<MappedStorage>(npy.Tensors[0].Storage);
        Assert.True(npy.Tensors[0].TryGetSpan<float>(out var span));
        Assert.Equal(6, span.Length);

        using var npz = ModelFile.Open(TestPaths.Fixture("numpy", "savez.npz"));
        Assert.All(npz.Tensors, t => Assert.IsType<MappedStorage>(t.Storage));
    }

    [Fact]
    public void Compressed_members_are_inflated_on_first_access_only()
    {
        using var npz = ModelFile.Open(TestPaths.Fixture("numpy", "savez_compressed.npz"));
        var t = npz.Tensors["embedding"];
        Assert.IsType<DecodedStorage>(t.Storage);
        Assert.Equal(32 * 16 * 2, t.Storage.ByteLength); // only the data, not the npy header
        Assert.Equal(new[] { 0.5f, -0.5f, 0.25f, 0f }, npz.Tensors["fc1.bias"].ToArray<float>());
    }

    [Fact]
    public void A_bare_array_is_named_after_the_file_or_array_for_streams()
    {
        using (var m = ModelFile.Open(TestPaths.Fixture("numpy", "int8.npy"))) Assert.Equal("int8", m.Tensors[0].Name);
        using var s = File.OpenRead(TestPaths.Fixture("numpy", "int8.npy"));
        using var fromStream = ModelFile.Open(s);
        Assert.Equal("array", fromStream.Tensors[0].Name);
        Assert.Equal("npy 1.0", fromStream.Format.ToString());
    }

    [Fact]
    public void An_empty_archive_opens_with_no_tensors()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("numpy", "savez_empty.npz"));
        Assert.Equal("npz", m.Format.Name);
        Assert.Empty(m.Tensors);
        Assert.Null(m.Format.Version);
    }
}
