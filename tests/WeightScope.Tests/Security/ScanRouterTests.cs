using System.Text.Json.Nodes;
using WeightScope.Security;
using WeightScope.Tests.Cli;
using WeightScope.Tests.Interop;
using Xunit;

namespace WeightScope.Tests.Security;

/// <summary>
/// <c>scan</c> routes by content with the readers' own detection: non-pickle formats get their own checks and a
/// "no code-bearing content" note, never a pickle walk. Fixtures: tests/fixtures/scan-formats (scan_format_fixtures.py,
/// whose expected.json says what scan must answer); the corpus verdict table (CorpusScanVerdicts.tsv).
/// </summary>
public class ScanRouterTests
{
    private static string Fixture(string name) => TestPaths.Fixture("scan-formats", name);

    private static readonly JsonObject Expected = JsonNode.Parse(File.ReadAllText(Fixture("expected.json")))!.AsObject();

    public static TheoryData<string> Files() => [.. Expected.Select(kv => kv.Key)];

    [Theory]
    [MemberData(nameof(Files))]
    public void ScanAnswersWhatTheFixtureExpects(string name)
    {
        var e = Expected[name]!;
        var r = CliRunner.Run("scan", Fixture(name));
        if (e["exit"] is { } exit) Assert.True(exit.GetValue<int>() == r.ExitCode, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        if (e["kind"] is { } kind)
        {
            string verdict = e["verdict"]?.GetValue<string>() ?? "dangerous";
            Assert.Matches($@"(?m)^\s+{verdict}\s+{kind.GetValue<string>()}\s", r.Stdout);
            var report = PickleScanner.Scan(Fixture(name));
            Assert.Equal(verdict == "dangerous" ? ScanVerdict.Dangerous : ScanVerdict.Suspicious, report.Worst);
        }
        if (e["global"] is { } global) Assert.Matches($@"(?m)^\s+dangerous\s+{global.GetValue<string>()}\s", r.Stdout);
        if (e["exit"]?.GetValue<int>() == 0 && !name.EndsWith(".zip", StringComparison.Ordinal))
            Assert.Contains("no code-bearing content", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void AHeaderLengthThatStartsLikePickleProtocol2IsStillSafetensors()
    {
        // 0x280 = 640: the little-endian header size starts the file with 0x80 0x02, pickle's PROTO 2.
        var report = PickleScanner.Scan(Fixture("safetensors_proto_lookalike.safetensors"));
        Assert.Equal("safetensors", report.Container);
        Assert.Empty(report.Errors);
        Assert.Empty(report.Pickles);
    }

    [Fact]
    public void AConfigNestedDeeperThanSystemTextJsonsDefaultIsWalkedToTheEnd()
    {
        // 300 arrays around the Lambda: past JsonDocument's default MaxDepth (64) and the old walk's 256.
        var report = PickleScanner.Scan(Fixture("keras_lambda_300_deep.json"));
        Assert.Contains(report.Code, c => c.Kind == "keras-lambda" && c.Detail.Contains("'deep'", StringComparison.Ordinal));
    }

    [Fact]
    public void AThirdPartyModuleIsNotedNotFlagged()
    {
        var report = PickleScanner.Scan(Fixture("keras_third_party.json"));
        Assert.Empty(report.Code);
        Assert.Contains(report.Notes, n => n.Contains("qkeras.qlayers", StringComparison.Ordinal));
    }

    [Fact]
    public void AnOnnxRuntimeContribOpIsNotedNotFlagged()
    {
        var report = PickleScanner.Scan(Fixture("onnx_contrib.onnx"));
        Assert.Empty(report.Code);
        Assert.Contains(report.Notes, n => n.Contains("com.microsoft.FusedMatMul", StringComparison.Ordinal));
    }

    [Fact]
    public void AFileNoReaderRecognisesIsExit3WithTheReadersMessage()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("scan-formats-unknown-").FullName, "blob.bin");
        File.WriteAllBytes(path, [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]); // 0x01 is no pickle opcode
        try
        {
            var r = CliRunner.Run("scan", path);
            Assert.Equal(3, r.ExitCode);
            Assert.Contains("unrecognised content (first bytes 0102030405060708)", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("corrupt pickle", r.Stderr, StringComparison.Ordinal);
        }
        finally { Directory.Delete(Path.GetDirectoryName(path)!, recursive: true); }
    }

    // The payloads run in the real loaders: what makes exit 1 right.
    [PythonFact("torch")]
    public void TheUserBlockPickleRunsInTorchLoad()
    {
        string marker = Expected["hdf5_userblock_pickle.h5"]!["marker"]!.GetValue<string>();
        File.Delete(marker);
        Python.Run("import sys, torch\ntry: torch.load(sys.argv[1])\nexcept Exception: pass", Fixture("hdf5_userblock_pickle.h5"));
        Assert.True(File.Exists(marker), "torch.load did not run the user block's pickle");
        File.Delete(marker);
    }

    [PythonFact("zipfile")]
    public void ThePrefixedZipOpensInZipfileAndItsMemberRuns()
    {
        string marker = Expected["prefixed_zip_payload.zip"]!["marker"]!.GetValue<string>();
        File.Delete(marker);
        Python.Run("import sys, zipfile, pickle\npickle.loads(zipfile.ZipFile(sys.argv[1]).read('payload.pkl'))", Fixture("prefixed_zip_payload.zip"));
        Assert.True(File.Exists(marker), "the member of the prefixed zip did not run");
        File.Delete(marker);
    }

    [PythonFact("onnx")]
    public void OnnxLoadFollowsASymlinkOutOfTheFolderAndScanFlagsIt()
    {
        // location "weights.bin" passes onnx's _sanitize_path; weights.bin is a symbolic link to a file outside.
        var root = Directory.CreateTempSubdirectory("scan-formats-onnx-").FullName;
        try
        {
            string model = Path.Combine(root, "model", "m.onnx");
            Directory.CreateDirectory(Path.GetDirectoryName(model)!);
            File.Copy(Fixture("onnx_external_plain.onnx"), model);
            File.WriteAllBytes(Path.Combine(root, "outside.bin"), [1, 2, 3, 4, 5, 6, 7]);
            File.CreateSymbolicLink(Path.Combine(root, "model", "weights.bin"), Path.Combine(root, "outside.bin"));
            var read = Python.Run("import sys, onnx\nm = onnx.load(sys.argv[1])\nprint(len(m.graph.initializer[0].raw_data))", model);
            Assert.Equal("7", read.Trim());
            var r = CliRunner.Run("scan", model);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("passes through a symbolic link that leads out of the folder", r.Stdout, StringComparison.Ordinal);
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [PythonFact("json")]
    public void PythonsJsonReadsTheLambda300Deep()
    {
        var depth = Python.Run("import sys, json\nx = json.load(open(sys.argv[1]))['extra']\nd = 0\nwhile isinstance(x, list): x, d = x[0], d + 1\nprint(d, x['class_name'])",
                               Fixture("keras_lambda_300_deep.json"));
        Assert.Equal("300 Lambda", depth.Trim());
    }

    [PythonFact("numpy")]
    public void ABenign120MBSavezIsExit0()
    {
        var dir = Directory.CreateTempSubdirectory("scan-formats-savez-").FullName;
        try
        {
            var path = Path.Combine(dir, "big.npz");
            Python.Run("import sys, numpy as np\nnp.savez(sys.argv[1], a=np.zeros(30_000_000, np.float32), b=np.arange(10))", path);
            Assert.True(new FileInfo(path).Length > 120_000_000);
            var r = CliRunner.Run("scan", path);
            Assert.True(r.ExitCode == 0, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>One row of CorpusScanVerdicts.tsv.</summary>
    public sealed record CorpusRow(string Path, string Container, string Verdict, string Reason);

    private static List<CorpusRow> Table() =>
        [.. File.ReadLines(Path.Combine(TestPaths.RepoRoot, "tests", "WeightScope.Tests", "Security", "CorpusScanVerdicts.tsv"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('\t'))
            .Select(c => new CorpusRow(c[0], c[1], c[2], c[3]))];

    [CorpusFact]
    public void EveryCorpusFileGetsTheVerdictOfTheTable()
    {
        var table = Table();
        var files = Directory.EnumerateFiles(TestPaths.Corpus, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(TestPaths.Corpus, f).Replace('\\', '/'))
            .Where(f => f != "MANIFEST.md").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(files, table.Select(r => r.Path).Order(StringComparer.Ordinal).ToList());
        var wrong = new List<string>();
        foreach (var row in table)
        {
            string? got = Verdict(TestPaths.CorpusFile(row.Path), out string container);
            if (got != row.Verdict || (row.Verdict != "unreadable" && container != row.Container))
                wrong.Add($"{row.Path}: {container} {got}, table says {row.Container} {row.Verdict} ({row.Reason})");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    private static string Verdict(string path, out string container)
    {
        container = "-";
        ScanReport report;
        try { report = PickleScanner.Scan(path); }
        catch (ModelFormatException) { return "unreadable"; }
        container = report.Container;
        // The CLI's exit: 1 for dangerous or suspicious (a global outside the allow-list), then 3 for errors, else 0.
        if (report.Worst == ScanVerdict.Dangerous) return "dangerous";
        if (report.Worst == ScanVerdict.Suspicious) return "suspicious";
        if (report.Errors.Count > 0) return "unreadable";
        bool pickleBearing = report.Container is "zip" or "keras" or "npy" or "pytorch-zip" or "pytorch-legacy" or "torchscript";
        if (pickleBearing) return "pickle";
        return report.Globals.Count == 0 && report.Code.Count == 0 && report.Notes.Count > 0 ? "clean" : "findings";
    }
}
