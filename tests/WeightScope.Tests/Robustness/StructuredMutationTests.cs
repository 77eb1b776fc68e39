using System.IO.Compression;
using Xunit;

namespace WeightScope.Tests.Robustness;

/// <summary>
/// The structure-aware fuzzer (<see cref="StructuredMutations"/>: truncation at every likely boundary, inflated length
/// and count fields, chunks spliced between boundaries, zip entries duplicated and reordered) applied to every fixture
/// and small corpus file of every format, and to each file of multi-file models (tfjs folders, TensorFlow checkpoints and
/// SavedModels, ONNX with external data, sharded safetensors) opened by path. <see cref="FuzzCheck"/> asserts that only
/// <see cref="ModelFormatException"/> escapes, that each input finishes in 2 s and that allocation stays bounded.
/// The quick setting samples <see cref="PerKind"/> mutations of each kind per file; the long setting takes
/// WEIGHTSCOPE_FUZZ_ITERATIONS of each (a large value, e.g. 100000, runs every candidate), and
/// WEIGHTSCOPE_FUZZ_ITERATIONS_LARGE of each for files of <see cref="LargeFile"/> bytes or more (whose candidates number
/// in the hundreds of thousands); run it in slices, a format at a time, so a run can be stopped:
/// WEIGHTSCOPE_FUZZ_ITERATIONS=100000 WEIGHTSCOPE_FUZZ_ITERATIONS_LARGE=2000 dotnet test --filter "FullyQualifiedName~StructuredMutationTests&amp;DisplayName~fixtures/onnx/".
/// </summary>
public sealed class StructuredMutationTests
{
    /// <summary>Mutations of each kind per file.</summary>
    public static readonly int PerKind = int.TryParse(Environment.GetEnvironmentVariable("WEIGHTSCOPE_FUZZ_ITERATIONS"), out var n) ? n : 10;

    /// <summary>Mutations of each kind per file of <see cref="LargeFile"/> bytes or more (<see cref="PerKind"/> unless set).</summary>
    public static readonly int PerKindLarge = int.TryParse(Environment.GetEnvironmentVariable("WEIGHTSCOPE_FUZZ_ITERATIONS_LARGE"), out var l) ? l : PerKind;

    /// <summary>From this size on a file gets <see cref="PerKindLarge"/> mutations of each kind.</summary>
    public const long LargeFile = 20_000;

    /// <summary>Mutations of each kind for a file of <paramref name="length"/> bytes.</summary>
    public static int PerKindFor(long length) => length >= LargeFile ? PerKindLarge : PerKind;

    /// <summary>Every single-file input of <see cref="MutationTests"/> (fixtures and small corpus files of each format).</summary>
    public static TheoryData<string> Files() => MutationTests.Inputs();

    [Theory]
    [MemberData(nameof(Files))]
    public void Mutated_file_fails_only_with_ModelFormatException(string relativePath)
    {
        var original = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, relativePath));
        var rng = new Random(StructuredMutations.StableSeed(relativePath));
        foreach (var (bytes, how) in StructuredMutations.All(original, rng, PerKindFor(original.Length)))
            FuzzCheck.OpenBytes(bytes, $"{relativePath}: {how}");
    }

    /// <summary>
    /// Multi-file models: a folder to copy (relative to the repository, "corpus:" + corpus path, or "generated:" + what
    /// <see cref="Generate"/> writes), the files in it to copy, and what to open.
    /// </summary>
    private static readonly Dictionary<string, (string Folder, Func<string, bool> Take, string Open)> s_folders = new()
    {
        ["tfjs layers"] = ("tests/fixtures/tfjs/layers", f => !f.EndsWith("answers.json", StringComparison.Ordinal), ""),
        ["tfjs mixed"] = ("tests/fixtures/tfjs/mixed", f => !f.EndsWith("answers.json", StringComparison.Ordinal), ""),
        ["onnx external data"] = ("tests/fixtures/onnx", f => Path.GetFileName(f).StartsWith("external.onnx", StringComparison.Ordinal), "external.onnx"),
        ["tfjs celsius"] = ("corpus:tfjs/celsius-dense-keras2.12", _ => true, ""),
        ["tfjs graph model"] = ("corpus:tfjs/tfjs-graph-model-dense", _ => true, ""),
        ["tfjs rn bundle"] = ("corpus:tfjs/tfjs-rn-bundle-dense", _ => true, "bundle_model_test.json"),
        ["tf checkpoint v2"] = ("corpus:tf-checkpoint/tf-serving/half_plus_two_v2ckpt_export", f => !f.EndsWith(".meta", StringComparison.Ordinal), "export.index"),
        ["tf checkpoint tf1 saver"] = ("corpus:tf-checkpoint/tf2onnx-regression-tf1saver", f => !f.EndsWith(".meta", StringComparison.Ordinal), "model.index"),
        ["tf savedmodel counter"] = ("corpus:tf-savedmodel/tf-serving/saved_model_counter", _ => true, ""),
        ["tf savedmodel half plus two"] = ("corpus:tf-savedmodel/tf-serving/saved_model_half_plus_two_cpu", _ => true, ""),
        ["tf savedmodel tf2onnx"] = ("corpus:tf-savedmodel/tf2onnx-regression", _ => true, ""),
        ["safetensors sharded"] = ("generated:sharded", _ => true, ""),
        ["safetensors single"] = ("generated:single", _ => true, "model.safetensors"),
        // Keras 3 weights with the model.to_json() config beside them, read as a pair (Keras3Files.ReadWeights): the
        // JSON and the h5 are each mutated. One pair made from a fixture's .keras members, one from the corpus.
        ["keras3 json + weights pair"] = ("generated:keras3 pair", _ => true, "model.weights.h5"),
        ["keras3 json + weights pair emoji lstm"] = ("corpus:keras3/emoji-lstm", _ => true, "emoji_lstm_model.weights.h5"),
    };

    /// <summary>For a Keras 3 pair, the config the unmutated weights must be read with (else the JSON would not be fuzzed).</summary>
    private static string? ExpectedConfigSource(string open) =>
        open.EndsWith(".weights.h5", StringComparison.Ordinal) ? open[..^".weights.h5".Length] + ".json" : null;

    public static TheoryData<string> Folders()
    {
        var data = new TheoryData<string>();
        foreach (var (name, c) in s_folders)
            if (!c.Folder.StartsWith("corpus:", StringComparison.Ordinal) || TestPaths.CorpusAvailable) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void Mutated_file_of_a_multi_file_model_fails_only_with_ModelFormatException(string name)
    {
        var (folder, take, open) = s_folders[name];
        var source = Directory.CreateTempSubdirectory("weightscope-fuzz-src-").FullName;
        var work = Directory.CreateTempSubdirectory("weightscope-fuzz-").FullName;
        try
        {
            if (folder.StartsWith("generated:", StringComparison.Ordinal)) Generate(folder["generated:".Length..], source);
            else
            {
                var from = folder.StartsWith("corpus:", StringComparison.Ordinal) ? TestPaths.CorpusFile(folder["corpus:".Length..]) : Path.Combine(TestPaths.RepoRoot, folder);
                foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories).Where(take))
                {
                    var to = Path.Combine(source, Path.GetRelativePath(from, f));
                    Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                    File.Copy(f, to);
                }
            }
            var files = Directory.GetFiles(source, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(source, f)).Order(StringComparer.Ordinal).ToArray();
            void Reset()
            {
                foreach (var f in files)
                {
                    var to = Path.Combine(work, f);
                    Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                    File.Copy(Path.Combine(source, f), to, overwrite: true);
                }
            }
            var target = open == "" ? work : Path.Combine(work, open);
            Reset();
            Assert.True(FuzzCheck.OpenPath(target, $"{name} unmutated"), $"{name} must open unmutated, or mutations only reach its first error");
            if (ExpectedConfigSource(open) is { } config)
                using (var model = ModelFile.Open(target))
                    Assert.Equal(config, model.Metadata[global::WeightScope.Formats.Keras.Keras3Files.ConfigSourceKey]);
            var rng = new Random(StructuredMutations.StableSeed(name));
            foreach (var f in files)
                foreach (var (bytes, how) in StructuredMutations.All(File.ReadAllBytes(Path.Combine(source, f)), rng, PerKindFor(new FileInfo(Path.Combine(source, f)).Length)))
                {
                    Reset();
                    File.WriteAllBytes(Path.Combine(work, f), bytes);
                    FuzzCheck.OpenPath(target, $"{name}: {f}: {how}");
                }
        }
        finally
        {
            Directory.Delete(source, recursive: true);
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Writes the "generated:" models: safetensors whole or sharded, and a Keras 3 pair.</summary>
    private static void Generate(string what, string dir)
    {
        switch (what)
        {
            case "single": WriteSafeTensors(dir, sharded: false); break;
            case "sharded": WriteSafeTensors(dir, sharded: true); break;
            case "keras3 pair": WriteKeras3Pair(dir); break;
            default: throw new ArgumentException($"no generated model {what}", nameof(what));
        }
    }

    /// <summary>
    /// A Keras 3 json + weights pair from a .keras fixture's own members: its <c>model.weights.h5</c>, and its
    /// <c>config.json</c> (what <c>model.to_json()</c> writes: the same serialized model, less the build info) as <c>model.json</c>.
    /// </summary>
    private static void WriteKeras3Pair(string dir)
    {
        using var zip = ZipFile.OpenRead(TestPaths.Fixture("keras", "keras3_functional.keras"));
        zip.GetEntry("model.weights.h5")!.ExtractToFile(Path.Combine(dir, "model.weights.h5"));
        zip.GetEntry("config.json")!.ExtractToFile(Path.Combine(dir, "model.json"));
    }

    /// <summary>A small safetensors model (the tensors of a PyTorch fixture), whole or as two shards and an index.</summary>
    private static void WriteSafeTensors(string dir, bool sharded)
    {
        using var model = ModelFile.Open(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth"));
        var tensors = model.Tensors.ToList();
        if (!sharded)
        {
            ModelFile.Save(tensors, Path.Combine(dir, "model.safetensors"), "safetensors");
            return;
        }
        int half = tensors.Count / 2;
        ModelFile.Save(tensors.Take(half), Path.Combine(dir, "model-00001-of-00002.safetensors"), "safetensors");
        ModelFile.Save(tensors.Skip(half), Path.Combine(dir, "model-00002-of-00002.safetensors"), "safetensors");
        var map = string.Join(",", tensors.Select((t, i) => $"\"{t.Name}\": \"model-0000{(i < half ? 1 : 2)}-of-00002.safetensors\""));
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), $"{{\"metadata\": {{\"total_size\": 0}}, \"weight_map\": {{{map}}}}}");
    }
}
