using Xunit;

namespace WeightScope.Tests.Robustness;

/// <summary>
/// The structure-aware fuzzer (<see cref="StructuredMutations"/>: truncation at every likely boundary, inflated length
/// and count fields, chunks spliced between boundaries, zip entries duplicated and reordered) applied to every fixture
/// and small corpus file of every format, and to each file of multi-file models (tfjs folders, TensorFlow checkpoints and
/// SavedModels, ONNX with external data, sharded safetensors) opened by path. <see cref="FuzzCheck"/> asserts that only
/// <see cref="ModelFormatException"/> escapes, that each input finishes in 2 s and that allocation stays bounded.
/// The quick setting samples <see cref="PerKind"/> mutations of each kind per file; the long setting takes
/// WEIGHTSCOPE_FUZZ_ITERATIONS of each (a large value, e.g. 100000, runs every candidate):
/// WEIGHTSCOPE_FUZZ_ITERATIONS=100000 dotnet test --filter "FullyQualifiedName~Robustness".
/// </summary>
public sealed class StructuredMutationTests
{
    /// <summary>Mutations of each kind per file.</summary>
    public static readonly int PerKind = int.TryParse(Environment.GetEnvironmentVariable("WEIGHTSCOPE_FUZZ_ITERATIONS"), out var n) ? n : 10;

    /// <summary>Every single-file input of <see cref="MutationTests"/> (fixtures and small corpus files of each format).</summary>
    public static TheoryData<string> Files() => MutationTests.Inputs();

    [Theory]
    [MemberData(nameof(Files))]
    public void Mutated_file_fails_only_with_ModelFormatException(string relativePath)
    {
        var original = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, relativePath));
        var rng = new Random(StructuredMutations.StableSeed(relativePath));
        foreach (var (bytes, how) in StructuredMutations.All(original, rng, PerKind))
            FuzzCheck.OpenBytes(bytes, $"{relativePath}: {how}");
    }

    /// <summary>Multi-file models: a folder to copy (relative to the repository, or "corpus:" + corpus path), the files in it to copy, and what to open.</summary>
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
    };

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
            if (folder.StartsWith("generated:", StringComparison.Ordinal)) WriteSafeTensors(source, sharded: folder.EndsWith("sharded", StringComparison.Ordinal));
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
            var rng = new Random(StructuredMutations.StableSeed(name));
            foreach (var f in files)
                foreach (var (bytes, how) in StructuredMutations.All(File.ReadAllBytes(Path.Combine(source, f)), rng, PerKind))
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
