using System.Buffers.Binary;
using System.Text;
using Xunit;

namespace WeightScope.Tests.Formats.TfJs;

/// <summary>
/// model.json files and shards built here from the manifest spec (tfjs-core io/types.ts WeightsManifestConfig), one per
/// rule the reader enforces: each must fail with the format's own exception, naming what is wrong.
/// </summary>
public sealed class TfJsCraftedTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tfjs-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Writes model.json with one group of <paramref name="weights"/> (JSON text) over <paramref name="paths"/>.</summary>
    private string Model(string weights, string paths = "[\"w.bin\"]", string extra = "")
    {
        var path = Path.Combine(_dir, "model.json");
        File.WriteAllText(path, $"{{\"format\": \"graph-model\", \"modelTopology\": {{}}, {extra}\"weightsManifest\": [{{\"paths\": {paths}, \"weights\": {weights}}}]}}");
        return path;
    }

    private void Shard(string name, params byte[] bytes) => File.WriteAllBytes(Path.Combine(_dir, name), bytes);

    private static byte[] Floats(params float[] v) => [.. v.SelectMany(BitConverter.GetBytes)];

    private static T Fails<T>(string path, string fragment) where T : ModelFormatException
    {
        var e = Assert.Throws<T>(() => { using var m = ModelFile.Open(path); foreach (var t in m.Tensors) t.ReadBytes(); });
        Assert.Contains(fragment, e.Message);
        Assert.Equal("tfjs", e.Format);
        return e;
    }

    [Fact]
    public void A_well_formed_model_opens()
    {
        Shard("w.bin", Floats(1, 2, 3));
        using var m = ModelFile.Open(Model("[{\"name\": \"a\", \"shape\": [3], \"dtype\": \"float32\"}]"));
        Assert.Equal([1f, 2f, 3f], m.Tensors["a"].ToFloat32());
    }

    [Fact]
    public void Missing_shard() =>
        Fails<InvalidModelContentException>(Model("[{\"name\": \"a\", \"shape\": [3], \"dtype\": \"float32\"}]"), "does not exist");

    [Fact]
    public void Shard_too_short()
    {
        Shard("w.bin", Floats(1, 2)); // 8 bytes for a float32[3] (12 bytes)
        Fails<InvalidModelContentException>(Model("[{\"name\": \"a\", \"shape\": [3], \"dtype\": \"float32\"}]"), "needs 12 bytes");
    }

    [Fact]
    public void Shard_longer_than_its_weights()
    {
        Shard("w.bin", Floats(1, 2, 3, 4));
        Fails<InvalidModelContentException>(Model("[{\"name\": \"a\", \"shape\": [3], \"dtype\": \"float32\"}]"), "hold 16 bytes but its weights take 12");
    }

    [Theory]
    [InlineData("../w.bin")]
    [InlineData("sub/../../w.bin")]
    [InlineData("/etc/passwd")]
    [InlineData("https://example.org/w.bin")]
    public void Path_outside_the_folder_is_refused(string path)
    {
        Shard("w.bin", Floats(1));
        Fails<InvalidModelContentException>(Model("[{\"name\": \"a\", \"shape\": [1], \"dtype\": \"float32\"}]", $"[\"{path}\"]"), "refused");
    }

    [Fact]
    public void A_symbolic_link_out_of_the_folder_is_refused_unless_the_option_lifts_it()
    {
        // IO/ContainedPath, the rule every format's companion files follow.
        var outside = Directory.CreateTempSubdirectory("ws-tfjs-outside-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(outside, "w.bin"), Floats(7));
            File.CreateSymbolicLink(Path.Combine(_dir, "w.bin"), Path.Combine(outside, "w.bin"));
            var model = Model("[{\"name\": \"a\", \"shape\": [1], \"dtype\": \"float32\"}]");
            Fails<InvalidModelContentException>(model, "'w.bin' passes through a symbolic link that leads out of the folder; refused");
            using var trusted = ModelFile.Open(model, new ReaderOptions { AllowExternalPaths = true });
            Assert.Equal([7f], trusted.Tensors["a"].ToFloat32());
        }
        finally { Directory.Delete(outside, true); }
    }

    [Theory]
    [InlineData("[4611686018427387904, 4]")] // 2^62 × 4 elements: the element count overflows
    [InlineData("[2305843009213693952]")] // 2^61 float32 elements: 2^63 bytes overflows
    public void Shape_times_dtype_size_overflow(string shape)
    {
        Shard("w.bin", Floats(1));
        Fails<InvalidModelContentException>(Model($"[{{\"name\": \"a\", \"shape\": {shape}, \"dtype\": \"float32\"}}]"), "overflows");
    }

    [Fact]
    public void Unknown_dtype()
    {
        Shard("w.bin", Floats(1, 2));
        Fails<UnsupportedModelFeatureException>(Model("[{\"name\": \"a\", \"shape\": [1], \"dtype\": \"float64\"}]"), "float64");
    }

    [Fact]
    public void Unknown_quantization_dtype()
    {
        Shard("w.bin", 1);
        Fails<UnsupportedModelFeatureException>(Model("[{\"name\": \"a\", \"shape\": [1], \"dtype\": \"float32\", \"quantization\": {\"dtype\": \"int4\"}}]"), "int4");
    }

    [Fact]
    public void Affine_quantization_without_scale_and_min()
    {
        Shard("w.bin", 1);
        Fails<InvalidModelContentException>(Model("[{\"name\": \"a\", \"shape\": [1], \"dtype\": \"float32\", \"quantization\": {\"dtype\": \"uint8\", \"min\": 0}}]"), "scale");
    }

    [Fact]
    public void Float16_quantization_of_an_int32_weight()
    {
        Shard("w.bin", 0, 0x3C);
        Fails<InvalidModelContentException>(Model("[{\"name\": \"a\", \"shape\": [1], \"dtype\": \"int32\", \"quantization\": {\"dtype\": \"float16\"}}]"), "float32 weights only");
    }

    [Fact]
    public void Negative_dimension()
    {
        Shard("w.bin", Floats(1));
        Fails<InvalidModelContentException>(Model("[{\"name\": \"a\", \"shape\": [-1], \"dtype\": \"float32\"}]"), "non-negative");
    }

    [Fact]
    public void Duplicate_weight_name()
    {
        Shard("w.bin", Floats(1, 2));
        Fails<InvalidModelContentException>(Model("[{\"name\": \"a\", \"shape\": [1], \"dtype\": \"float32\"}, {\"name\": \"a\", \"shape\": [1], \"dtype\": \"float32\"}]"), "appears twice");
    }

    [Fact]
    public void String_length_beyond_the_shards()
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 1000); // element 0 claims 1000 bytes; 4 remain
        Shard("w.bin", bytes);
        Fails<InvalidModelContentException>(Model("[{\"name\": \"s\", \"shape\": [1], \"dtype\": \"string\"}]"), "claims 1000 bytes");
    }

    [Fact]
    public void String_count_beyond_what_the_shards_can_hold()
    {
        Shard("w.bin", new byte[8]); // room for two empty strings, not a billion
        Fails<InvalidModelContentException>(Model("[{\"name\": \"s\", \"shape\": [1000000000], \"dtype\": \"string\"}]"), "string weight 's'");
    }

    [Fact]
    public void Weights_manifest_that_is_not_an_array()
    {
        var path = Path.Combine(_dir, "model.json");
        File.WriteAllText(path, "{\"format\": \"layers-model\", \"weightsManifest\": {\"paths\": []}}");
        Fails<InvalidModelContentException>(path, "no 'weightsManifest' array");
    }

    [Fact]
    public void Broken_json_reports_where()
    {
        var path = Path.Combine(_dir, "model.json");
        File.WriteAllText(path, "{\"format\": \"layers-model\", \"weightsManifest\": [}");
        var e = Fails<InvalidModelContentException>(path, "not valid JSON");
        Assert.NotNull(e.Offset);
    }

    [Fact]
    public void Json_that_is_not_an_object_is_not_detected_as_tfjs()
    {
        var path = Path.Combine(_dir, "model.json");
        File.WriteAllText(path, "[{\"format\": \"layers-model\", \"weightsManifest\": []}]");
        Assert.Throws<UnknownModelFormatException>(() => ModelFile.Open(path));
        Assert.False(new WeightScope.Formats.TfJs.TfJsFormat().TryDetect(new WeightScope.Formats.DetectionContext(_dir, null, null, isDirectory: true)));
    }

    [Fact]
    public void From_a_stream_is_unsupported_after_the_json_is_recognised()
    {
        var json = Encoding.UTF8.GetBytes("{\"format\": \"graph-model\", \"weightsManifest\": []}");
        var e = Assert.Throws<UnsupportedModelFeatureException>(() => ModelFile.Open(new MemoryStream(json)));
        Assert.Contains("open the path instead", e.Message);
    }

    [Fact]
    public void String_weights_by_the_encodeWeights_layout()
    {
        // "format" (scalar string): length 2, "ok"; "raw" ([2]): length 1, 0xFF (not UTF-8), then length 0.
        byte[] bytes = [2, 0, 0, 0, (byte)'o', (byte)'k', 1, 0, 0, 0, 0xFF, 0, 0, 0, 0];
        Shard("w.bin", bytes);
        using var m = ModelFile.Open(Model("[{\"name\": \"format\", \"shape\": [], \"dtype\": \"string\"}, {\"name\": \"raw\", \"shape\": [2], \"dtype\": \"string\"}]"));
        Assert.Equal("graph-model", m.Metadata["format"]); // the model.json field keeps its key
        Assert.Equal("ok", m.Metadata["weight:format"]);
        var raw = Assert.IsType<List<object?>>(m.Metadata["raw"]);
        Assert.Equal(new byte[] { 0xFF }, Assert.IsType<byte[]>(raw[0]));
        Assert.Equal("", raw[1]);
        Assert.Empty(m.Tensors);
    }

    [Fact]
    public void Empty_weights_and_zero_sized_tensors()
    {
        Shard("w.bin");
        using var m = ModelFile.Open(Model("[{\"name\": \"e\", \"shape\": [0, 3], \"dtype\": \"float32\"}]"));
        Assert.Empty(m.Tensors["e"].ToFloat32());
    }
}
