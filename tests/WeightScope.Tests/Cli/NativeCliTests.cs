using System.Diagnostics;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary>
/// The Native AOT build that <c>./weightscope</c> makes must behave exactly like the managed CLI the other tests run:
/// AOT drops code reached only by reflection and compiles the vector kernels for this CPU, so each verb is run both
/// ways on files of every format and the exit code, stdout, stderr and written figures compared byte for byte.
/// </summary>
public sealed class NativeCliTests : IClassFixture<NativeCliTests.NativeBuild>
{
    private readonly NativeBuild _build;

    public NativeCliTests(NativeBuild build) => _build = build;

    /// <summary>Builds the native CLI once through the wrapper with <c>WEIGHTSCOPE_BUILD=native</c> (a no-op when it is up to date).</summary>
    public sealed class NativeBuild
    {
        public string Exe { get; } = Path.Combine(TestPaths.RepoRoot, "artifacts", "cli", "weightscope");

        public NativeBuild()
        {
            if (NativeFactAttribute.SkipReason is not null) return;
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(Path.Combine(TestPaths.RepoRoot, "weightscope"));
            psi.ArgumentList.Add("--version");
            psi.Environment["WEIGHTSCOPE_BUILD"] = "native"; // the wrapper's first build is the managed one; this asks for the native one
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(900_000)) { p.Kill(entireProcessTree: true); throw new TimeoutException("./weightscope did not build in 15 min"); }
            if (p.ExitCode != 0 || !File.Exists(Exe))
                throw new InvalidOperationException(
                    $"./weightscope made no native build at {Exe} (exit {p.ExitCode}); set WEIGHTSCOPE_BUILD=r2r to skip these tests where Native AOT cannot build.\n{stderr.Result}");
        }
    }

    private static string F(params string[] parts) => TestPaths.Fixture(parts);
    private static string Sample => Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth");
    private static string C(string relative) => TestPaths.CorpusFile(relative);

    public static TheoryData<string[]> FixtureCommands => new()
    {
        new[] { "--help" },
        new[] { "--version" },
        new[] { "stats", "--help" },
        new[] { "export", "--help" },
        new[] { "list", Sample },
        new[] { "list", "--json", Sample },
        new[] { "show", Sample, "fc1.weight", "--precision", "2" },
        new[] { "show", Sample, "fc1.weight[0,:]", "--reshape", "-1,1", "--sci-mode", "true" },
        new[] { "info", "--json", Sample },
        new[] { "tree", F("pytorch", "whole_model_linear_conv.pt") },
        new[] { "tree", F("pytorch", "torchscript_model.pt") },
        new[] { "list", "--json", F("pytorch", "legacy_whole_model.pt") },
        new[] { "list", "--json", F("pytorch", "quantized.pt") },
        new[] { "list", "--json", F("pytorch", "every_dtype.pt") },
        new[] { "list", "--type", "GRU", F("pytorch", "gru_whole.pt") },
        new[] { "tree", F("keras", "nested_full_model.h5") },
        new[] { "info", "--json", F("keras", "nested_full_model.h5") },
        new[] { "list", "--json", F("keras", "keras3_deflated.keras") },
        new[] { "list", "--json", F("hdf5", "mixed_latest.h5") },
        new[] { "list", "--json", F("onnx", "tiny_graph.onnx") },
        new[] { "list", "--json", F("onnx", "float8.onnx") },
        new[] { "tree", F("onnx", "tiny_graph.onnx") },
        new[] { "list", "--json", F("tfjs", "layers", "model.json") },
        new[] { "list", "--json", F("torchsharp", "state_dict.dat") },
        new[] { "list", "--json", F("numpy", "float32_big_endian.npy") },
        new[] { "stats", "--json", F("analysis", "stats_mixed.pt") },
        new[] { "stats", F("analysis", "stats_bn_like.npy") },
        new[] { "health", "--json", F("analysis", "health_model.pt") },
        new[] { "health", F("analysis", "health_clean.pt") },
        new[] { "hist", F("numpy", "random_64x64.npy"), "random_64x64", "--bins", "20" },
        new[] { "hist", "--json", F("numpy", "random_64x64.npy"), "random_64x64", "--bins", "50" },
        new[] { "diff", "--json", F("diff", "base.pt"), F("diff", "base.onnx") },
        new[] { "diff", F("diff", "base.pt"), F("diff", "tuned.pt") },
        new[] { "diff", F("diff", "dp.pt"), F("diff", "base.npz") },
        // Errors: the same exit code and message.
        new[] { "list", F("keras", "bad_model_config.h5") },
        new[] { "list", F("keras", "bad_keras3_no_config.keras") },
        new[] { "show", Sample, "nope" },
        new[] { "export", Sample, "--to", "mem", "--out", "never-written" },
        new[] { "list", "--no-such-option", Sample },
    };

    public static TheoryData<string[]> CorpusCommands => new()
    {
        new[] { "list", "--json", C("gguf/ggml-superpoint/superpoint.gguf") },
        new[] { "info", "--json", C("gguf/llama.cpp-vocab/ggml-vocab-llama-spm.gguf") },
        new[] { "list", "--json", C("tf-checkpoint/tf2onnx-regression-tf1saver/model.index") },
        new[] { "list", "--json", C("tf-checkpoint/tf-serving/session_bundle_half_plus_two_v1ckpt/export.meta") },
        new[] { "tree", C("tf-savedmodel/tfnet/simple_model_from_auto_compile") },
        new[] { "info", "--json", C("tf-savedmodel/tf-serving/saved_model_half_plus_two_tf2_cpu") },
        new[] { "list", "--json", C("tfjs/digits-cnn-keras2.12") },
        new[] { "tree", C("keras-h5/digits-cnn-keras2.12") },
        new[] { "stats", "--json", C("onnx/external-data-cartpole-torch2.13") },
    };

    [NativeTheory]
    [MemberData(nameof(FixtureCommands))]
    public void Fixture_command_matches_the_managed_cli(string[] args) => AssertSame(args);

    [NativeTheory(NeedsCorpus = true)]
    [MemberData(nameof(CorpusCommands))]
    public void Corpus_command_matches_the_managed_cli(string[] args)
    {
        var existing = args.Where(a => a.StartsWith(TestPaths.Corpus, StringComparison.Ordinal)).ToList();
        Assert.All(existing, p => Assert.True(File.Exists(p) || Directory.Exists(p), $"corpus path missing: {p}"));
        AssertSame(args);
    }

    [NativeFact]
    public void Figures_are_byte_identical()
    {
        var dir = Directory.CreateTempSubdirectory("ws-native-").FullName;
        try
        {
            foreach (var (verb, file, name, ext) in new[]
            {
                ("hist", F("numpy", "random_64x64.npy"), "random_64x64", "png"),
                ("hist", F("numpy", "random_64x64.npy"), "random_64x64", "svg"),
                ("heatmap", F("analysis", "health_model.pt"), "conv.weight", "png"),
                ("heatmap", Sample, "fc1.weight", "svg"),
            })
            {
                string managed = Path.Combine(dir, $"{verb}-managed.{ext}"), native = Path.Combine(dir, $"{verb}-native.{ext}");
                Assert.Equal(0, CliRunner.Run(verb, file, name, "--out", managed).ExitCode);
                Assert.Equal(0, CliRunner.RunProgram(_build.Exe, [], null, verb, file, name, "--out", native).ExitCode);
                Assert.True(new FileInfo(managed).Length > 100, $"{managed} is too small to be a figure");
                Assert.Equal(File.ReadAllBytes(managed), File.ReadAllBytes(native));
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [NativeFact]
    public void Exports_are_byte_identical()
    {
        // Quantization runs float32 arithmetic (torch's x * (1f / scale)): native code must round exactly as the JIT does.
        var dir = Directory.CreateTempSubdirectory("ws-native-export-").FullName;
        try
        {
            var resnet = F("pytorch", "resnet_tiny_state_dict.pth");
            foreach (var args in new[]
            {
                new[] { resnet, "--to", "c", "--single", "--align", "16" },
                new[] { resnet, "--to", "mem", "--int8", "--per-channel", "0", "--asymmetric" },
                new[] { resnet, "conv1.weight", "--to", "mif", "--fixed", "Q1.14", "--rounding", "truncate" },
                new[] { resnet, "conv1.weight", "--to", "coe", "--int16", "--order", "col", "--radix", "bin" },
                new[] { F("pytorch", "special_values.pt"), "--to", "txt", "--per-line", "row", "--precision", "6" },
                new[] { F("pytorch", "quantized.pt"), "--to", "csv" },
            })
            {
                string managed = Path.Combine(dir, "managed"), native = Path.Combine(dir, "native");
                var m = CliRunner.Run(["export", .. args, "--out", managed, "--json"]);
                var n = CliRunner.RunProgram(_build.Exe, [], null, ["export", .. args, "--out", native, "--json"]);
                Assert.True(m.ExitCode == 0, m.Stderr);
                Assert.Equal(m.ExitCode, n.ExitCode);
                Assert.Equal(m.Stdout.Replace(managed, native, StringComparison.Ordinal), n.Stdout);
                var files = Directory.GetFiles(managed).Select(Path.GetFileName).Order().ToList();
                Assert.Equal(files, Directory.GetFiles(native).Select(Path.GetFileName).Order().ToList());
                foreach (var f in files) Assert.Equal(File.ReadAllBytes(Path.Combine(managed, f!)), File.ReadAllBytes(Path.Combine(native, f!)));
                Directory.Delete(managed, true);
                Directory.Delete(native, true);
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private void AssertSame(string[] args)
    {
        var managed = CliRunner.Run(args);
        var native = CliRunner.RunProgram(_build.Exe, [], null, args);
        Assert.Equal(managed.ExitCode, native.ExitCode);
        Assert.Equal(managed.Stdout, native.Stdout);
        Assert.Equal(managed.Stderr, native.Stderr);
        Assert.True(managed.Stdout.Length + managed.Stderr.Length > 0, "the command printed nothing to compare");
    }
}

/// <summary>Why the native-build tests are skipped, or null: WEIGHTSCOPE_BUILD=r2r says this machine cannot build Native AOT.</summary>
public sealed class NativeFactAttribute : FactAttribute
{
    internal static string? SkipReason =>
        Environment.GetEnvironmentVariable("WEIGHTSCOPE_BUILD") == "r2r" ? "WEIGHTSCOPE_BUILD=r2r: no Native AOT build to compare" : null;

    /// <summary>Sets <see cref="FactAttribute.Skip"/> when there is no native build.</summary>
    public NativeFactAttribute() => Skip = SkipReason;
}

/// <summary>A theory over the native build; skipped as <see cref="NativeFactAttribute"/> is, and without the corpus when it needs it.</summary>
public sealed class NativeTheoryAttribute : TheoryAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when there is no native build.</summary>
    public NativeTheoryAttribute() => Skip = NativeFactAttribute.SkipReason;

    /// <summary>True for cases on corpus files: skipped, with the reason, when the shared corpus is absent.</summary>
    public bool NeedsCorpus
    {
        get => false;
        init
        {
            if (value && Skip is null && !TestPaths.CorpusAvailable)
                Skip = $"shared corpus not found at {TestPaths.Corpus} (set WEIGHTSCOPE_CORPUS)";
        }
    }
}
