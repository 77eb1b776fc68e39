using System.Text.Json;
using WeightScope.Tensors;
using WeightScope.Tests.Cli;
using Xunit;

namespace WeightScope.Tests.Formats.SafeTensors;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ws-st-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    // --- real files (written by safetensors.torch.save_file; values from the source repositories' tests) ---

    [CorpusFact]
    public void Reads_torch_written_int64_tensors_with_their_values()
    {
        // TorchSharp.PyBridge's test: arr = tensor([1,2,3,4,5,6]); arr_2d = arr.reshape(2,3)
        using var m = ModelFile.Open(TestPaths.CorpusFile("safetensors/PyBridge/tensors.safetensors"));
        Assert.Equal("safetensors", m.Format.Name);
        Assert.Equal(["arr", "arr_2d"], m.Tensors.Select(t => t.Name));
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6 }, m.Tensors["arr"].ToArray<long>());
        Assert.Equal(new Shape(2, 3), m.Tensors["arr_2d"].Shape);
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6 }, m.Tensors["arr_2d"].ToArray<long>());
        Assert.True(m.Tensors["arr"].TryGetSpan<long>(out _)); // zero-copy over the mapped file
    }

    [CorpusFact]
    public void Reads_a_state_dict_with_buffers_and_a_scalar()
    {
        using var m = ModelFile.Open(TestPaths.CorpusFile("safetensors/burn/multi_layer.safetensors"));
        Assert.Equal(9, m.Tensors.Count);
        Assert.Equal(new Shape(4, 3, 3, 3), m.Tensors["conv1.weight"].Shape);
        Assert.Equal(DType.Int64, m.Tensors["norm1.num_batches_tracked"].DType);
        Assert.Equal(Shape.Scalar, m.Tensors["norm1.num_batches_tracked"].Shape);
        // names come back in the order safe_open(...).keys() gives: sorted
        Assert.Equal(m.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), m.Tensors.Select(t => t.Name));
    }

    [CorpusFact]
    public void Sharded_index_opens_as_one_model_from_the_file_or_its_folder()
    {
        Directory.CreateDirectory(_dir);
        File.Copy(TestPaths.CorpusFile("safetensors/PyBridge/tensors.safetensors"), Path.Combine(_dir, "model-00001-of-00002.safetensors"));
        File.Copy(TestPaths.CorpusFile("safetensors/PyBridge/module_load.safetensors"), Path.Combine(_dir, "model-00002-of-00002.safetensors"));
        var index = new
        {
            metadata = new { total_size = 152 },
            weight_map = new Dictionary<string, string>
            {
                ["arr"] = "model-00001-of-00002.safetensors",
                ["arr_2d"] = "model-00001-of-00002.safetensors",
                ["lin1.weight"] = "model-00002-of-00002.safetensors",
                ["lin2.weight"] = "model-00002-of-00002.safetensors",
            },
        };
        var indexPath = Path.Combine(_dir, "model.safetensors.index.json");
        File.WriteAllText(indexPath, JsonSerializer.Serialize(index));

        foreach (var path in new[] { indexPath, _dir })
        {
            using var m = ModelFile.Open(path);
            Assert.Equal("safetensors-sharded", m.Format.Name);
            Assert.Equal(["arr", "arr_2d", "lin1.weight", "lin2.weight"], m.Tensors.Select(t => t.Name));
            Assert.Equal(6L, m.Tensors["arr"].ToArray<long>()[5]);
            Assert.Equal(152L, m.Metadata["total_size"]);
            // Every file read, once: the index and both shards, whichever of the two paths was opened.
            Assert.Equal(new[] { indexPath, Path.Combine(_dir, "model-00001-of-00002.safetensors"), Path.Combine(_dir, "model-00002-of-00002.safetensors") }
                .Select(Path.GetFullPath), m.SourceFiles);
        }
        var info = CliRunner.Run("info", _dir, "--json");
        Assert.True(info.ExitCode == 0, info.Stderr);
        long onDisk = Directory.GetFiles(_dir).Sum(f => new FileInfo(f).Length);
        Assert.Equal(onDisk, JsonDocument.Parse(info.Stdout).RootElement.GetProperty("file_bytes").GetInt64());
    }

    [Fact]
    public void Sharded_index_refuses_paths_leaving_its_folder()
    {
        Directory.CreateDirectory(_dir);
        var p = Path.Combine(_dir, "x.safetensors.index.json");
        File.WriteAllText(p, """{"weight_map": {"a": "../../etc/passwd"}}""");
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(p));
        Assert.Contains("'../../etc/passwd' leads out of the folder; refused", e.Message);
        Assert.Equal(p, e.FilePath);
    }

    [Fact]
    public void Sharded_index_follows_the_one_containment_rule_and_the_option_that_lifts_it()
    {
        // IO/ContainedPath: absolute names and symbolic links that lead out are refused like '..';
        // ReaderOptions.AllowExternalPaths (--allow-external-paths) follows them for a trusted index.
        string inside = Path.Combine(_dir, "model"), outside = Path.Combine(_dir, "elsewhere");
        Directory.CreateDirectory(inside);
        Directory.CreateDirectory(outside);
        // A one-tensor shard laid out by the format's definition: u64 header length, JSON header, data.
        var header = System.Text.Encoding.UTF8.GetBytes("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""");
        File.WriteAllBytes(Path.Combine(outside, "w.safetensors"),
            [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. BitConverter.GetBytes(1.5f), .. BitConverter.GetBytes(-2f)]);
        using (var probe = ModelFile.Open(Path.Combine(outside, "w.safetensors")))
        {
            string name = probe.Tensors[0].Name;
            File.CreateSymbolicLink(Path.Combine(inside, "link.safetensors"), Path.Combine(outside, "w.safetensors"));
            foreach (var (target, why) in new[] { (Path.Combine(outside, "w.safetensors"), "is an absolute path"), ("link.safetensors", "passes through a symbolic link that leads out of the folder") })
            {
                var index = Path.Combine(inside, "m.safetensors.index.json");
                File.WriteAllText(index, System.Text.Json.JsonSerializer.Serialize(new { weight_map = new Dictionary<string, string> { [name] = target } }));
                var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(index));
                Assert.Contains(why, e.Message);
                Assert.Contains("--allow-external-paths", e.Message);
                using var trusted = ModelFile.Open(index, new ReaderOptions { AllowExternalPaths = true });
                Assert.Equal(probe.Tensors[0].ReadBytes(), trusted.Tensors[name].ReadBytes());
            }
        }
    }

    // --- every dtype of the format: raw bytes and expected values produced by torch (core/dtype_conversions.json) ---

    [Theory]
    [InlineData("F16", "float16")]
    [InlineData("BF16", "bfloat16")]
    [InlineData("F32", "float32")]
    [InlineData("F64", "float64")]
    [InlineData("I8", "int8")]
    [InlineData("I16", "int16")]
    [InlineData("I32", "int32")]
    [InlineData("I64", "int64")]
    [InlineData("U8", "uint8")]
    [InlineData("BOOL", "bool")]
    public void Every_dtype_reads_as_torch_converts_it(string stName, string torchName)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("core", "dtype_conversions.json")));
        var c = doc.RootElement.GetProperty("cases").EnumerateArray().First(x => x.GetProperty("dtype").GetString() == torchName);
        var data = Convert.FromHexString(c.GetProperty("hex").GetString()!);
        var expected = c.GetProperty("float32").EnumerateArray().Select(v => v.GetString()!).ToArray();
        Assert.True(DTypes.TryParse(torchName, out var dt));
        var file = SafeTensorsBuilder.Write(_dir, "t.safetensors", SafeTensorsBuilder.Build(
            $$$"""{"__metadata__":{"format":"pt"},"x":{"dtype":"{{{stName}}}","shape":[{{{data.Length / dt.ItemSize()}}}],"data_offsets":[0,{{{data.Length}}}]}}""", data));
        using var m = ModelFile.Open(file);
        Assert.Equal(dt, m.Tensors["x"].DType);
        Assert.Equal("pt", m.Metadata["format"]);
        var actual = m.Tensors["x"].ToFloat32();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
            Assert.Equal(expected[i], PythonRepr(actual[i]));
    }

    private static string PythonRepr(float f) => float.IsNaN(f) ? "nan" : float.IsPositiveInfinity(f) ? "inf" : float.IsNegativeInfinity(f) ? "-inf"
        : ((double)f).ToString("R", System.Globalization.CultureInfo.InvariantCulture) is var s && !s.Contains('.') && !s.Contains('E') ? s + ".0"
        : ((double)f).ToString("R", System.Globalization.CultureInfo.InvariantCulture).Replace("E-0", "e-0").Replace("E-", "e-").Replace("E+", "e+");

    [Fact]
    public void Float8_and_unsigned_dtypes_of_newer_writers_are_read()
    {
        byte[] data = [0x7E, 0x01, 0x7B, 0xC0, 0xFF, 0xFF, 0x01, 0x00];
        var file = SafeTensorsBuilder.Write(_dir, "f8.safetensors", SafeTensorsBuilder.Build(
            """{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"F8_E5M2","shape":[2],"data_offsets":[2,4]},"c":{"dtype":"U16","shape":[2],"data_offsets":[4,8]}}""", data));
        using var m = ModelFile.Open(file);
        Assert.Equal(DType.Float8E4M3FN, m.Tensors["a"].DType);
        Assert.Equal([448f, 0.001953125f], m.Tensors["a"].ToFloat32());
        Assert.Equal([57344f, -2f], m.Tensors["b"].ToFloat32());
        Assert.Equal(new ushort[] { 65535, 1 }, m.Tensors["c"].ToArray<ushort>());
    }

    [Fact]
    public void Header_order_does_not_matter_but_offsets_must_tile_the_data()
    {
        var data = new byte[12];
        var file = SafeTensorsBuilder.Write(_dir, "o.safetensors", SafeTensorsBuilder.Build(
            """{"z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", data));
        using var m = ModelFile.Open(file);
        Assert.Equal(["a", "z"], m.Tensors.Select(t => t.Name));
    }

    // --- the format's own validation: one crafted file per error kind ---

    public static TheoryData<string, string, string> BadHeaders() => new()
    {
        // name, header JSON, text the message must contain
        { "gap", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "contiguously" },
        { "overlap", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "contiguously" },
        { "size mismatch", """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", "needs 12 bytes" },
        { "end before begin", """{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}""", "contiguously" },
        { "unknown dtype", """{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}""", "dtype 'Q4'" },
        { "negative dim", """{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "non-negative" },
        { "overflowing shape", """{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}""", "overflows" },
        { "metadata not strings", """{"__metadata__":{"epoch":3},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "only strings" },
        { "duplicate key", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "twice" },
        { "not json", """{"a": nope}""", "invalid JSON" },
        { "missing offsets", """{"a":{"dtype":"F32","shape":[2]}}""", "data_offsets" },
        { "data too long", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "trailing" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void Invalid_headers_are_reported_with_file_format_and_offset(string name, string header, string expected)
    {
        var file = SafeTensorsBuilder.Write(_dir, "bad.safetensors", SafeTensorsBuilder.Build(header, new byte[8]));
        var e = Assert.ThrowsAny<ModelFormatException>(() => ModelFile.Open(file));
        Assert.Equal("safetensors", e.Format);
        Assert.Equal(file, e.FilePath);
        Assert.NotNull(e.Offset);
        Assert.Contains(expected, e.Message);
        Assert.Contains(file, e.Message);
        Assert.False(string.IsNullOrEmpty(name));
    }

    // The header is parsed in one streaming pass; what a document parser would report first stays first.
    public static TheoryData<string, string> PrecedenceHeaders() => new()
    {
        // a syntax error after an entry's content error: the syntax error
        { """{"a":{"dtype":"Q9","shape":[1],"data_offsets":[0,4]}, "b": [1,}""", "invalid JSON header: " },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":1, x}""", "invalid JSON header: " },
        // no syntax error: the first entry's content error, in header order
        { """{"a":{"dtype":"Q9"},"b":{"dtype":"Z"}}""", "dtype 'Q9'" },
        // within an entry: dtype, then shape, then data_offsets, whatever the keys' order
        { """{"a":{"data_offsets":[0],"shape":["x"],"dtype":"F32"}}""", "shape entry x is not" },
        { """{"a":{"shape":[1],"data_offsets":[0,4,5],"dtype":"F32"}}""", "missing 'data_offsets'" },
        // values named as JsonElement.ToString() names them
        { """{"a":{"dtype":"F32","shape":[ {"k" : 1} ],"data_offsets":[0,4]}}""", """shape entry {"k" : 1} is not""" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[false,4]}}""", "data offset False is not" },
        { """{"__metadata__":{"format":[1]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "'format' is Array" },
    };

    [Theory]
    [MemberData(nameof(PrecedenceHeaders))]
    public void Errors_keep_the_precedence_of_a_whole_document_parse(string header, string expected)
    {
        var file = SafeTensorsBuilder.Write(_dir, "order.safetensors", SafeTensorsBuilder.Build(header, new byte[4], pad: false));
        var e = Assert.ThrowsAny<ModelFormatException>(() => ModelFile.Open(file));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_key_given_twice_inside_an_entry_counts_its_last_value()
    {
        const string header = """{"a":{"dtype":"F64","dtype":"F32","shape":[2],"shape":[1],"data_offsets":[9,9],"data_offsets":[0,4]}}""";
        var file = SafeTensorsBuilder.Write(_dir, "last.safetensors", SafeTensorsBuilder.Build(header, new byte[4], pad: false));
        using var model = ModelFile.Open(file);
        Assert.Equal(DType.Float32, model.Tensors["a"].DType);
        Assert.Equal([1L], model.Tensors["a"].Shape.ToArray());
    }

    [Fact]
    public void Invalid_utf8_in_a_tensor_name_is_a_header_error()
    {
        // Found by MutationTests: the name bytes "a\xFF" made System.Text.Json throw InvalidOperationException when read.
        var bytes = SafeTensorsBuilder.Build("{\"a\u00FF\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]);
        int at = Array.IndexOf(bytes, (byte)0xC3);  // UTF-8 of U+00FF is C3 BF: make it a lone FF
        bytes[at] = (byte)'a';
        bytes[at + 1] = 0xFF;
        var file = SafeTensorsBuilder.Write(_dir, "utf8.safetensors", bytes);
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(file));
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void Json_errors_on_later_lines_give_the_byte_offset_in_the_file()
    {
        const string header = "{\n  \"a\": nope}";
        var file = SafeTensorsBuilder.Write(_dir, "lines.safetensors", SafeTensorsBuilder.Build(header, []));
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(file));
        // the first byte that cannot continue a JSON literal is the "o" of "nope" ("n" could start "null")
        Assert.Equal(8 + header.IndexOf("ope", StringComparison.Ordinal), e.Offset);
    }

    [Fact]
    public void Header_length_beyond_the_file_is_reported()
    {
        var bytes = SafeTensorsBuilder.Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", new byte[8]);
        bytes[0] = 0xF0; bytes[1] = 0xFF; // declares a ~65 KB header in a ~70-byte file
        var file = SafeTensorsBuilder.Write(_dir, "long.safetensors", bytes);
        // Detection refuses a header longer than the file, so the content is unknown rather than a broken safetensors.
        var e = Assert.ThrowsAny<ModelFormatException>(() => ModelFile.Open(file));
        Assert.Equal(0, e.Offset ?? 0);
    }

    [Fact]
    public void Header_size_limit_is_a_named_limit()
    {
        var file = SafeTensorsBuilder.Write(_dir, "big.safetensors", SafeTensorsBuilder.Build(
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", new byte[8]));
        var e = Assert.Throws<ReaderLimitException>(() => ModelFile.Open(file, new ReaderOptions { Limits = new ReaderLimits { MaxHeaderBytes = 16 } }));
        Assert.Equal(nameof(ReaderLimits.MaxHeaderBytes), e.Limit);
        Assert.Contains("raise", e.Message);
    }

    [Fact]
    public void Truncated_data_is_reported_not_mapped()
    {
        var bytes = SafeTensorsBuilder.Build("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", new byte[16]);
        var file = SafeTensorsBuilder.Write(_dir, "trunc.safetensors", bytes[..^5]);
        var e = Assert.ThrowsAny<ModelFormatException>(() => ModelFile.Open(file));
        Assert.Contains("truncated", e.Message);
    }
}
