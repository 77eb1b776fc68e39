using System.Text.Json.Nodes;
using WeightScope.Security;
using WeightScope.Tests.Cli;
using WeightScope.Tests.Interop;
using Xunit;

namespace WeightScope.Tests.Security;

/// <summary>
/// The payload suite of issue 17 (tests/fixtures/scan-payloads/, written by tests/fixtures/generate/scan_payloads.py with
/// the real pickle, torch, numpy and joblib): each file is first proven to run code in its real Python loader — Debian's
/// python3 loads it in a temporary folder and the payload creates a marker file there — and <c>scan</c> must flag every
/// one (exit 1, naming the global, or the path of the nested pickle).
/// </summary>
public class ScanPayloadTests
{
    private const string Marker = "ws-marker";

    private static readonly Lazy<JsonArray> Manifest =
        new(() => JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("scan-payloads", "manifest.json")))!.AsArray());

    private static JsonNode Entry(string file) => Manifest.Value.Single(e => e!["file"]!.GetValue<string>() == file)!;

    public static TheoryData<string> Payloads() => [.. Manifest.Value.Select(e => e!["file"]!.GetValue<string>())];

    [PythonTheory("torch", "numpy", "joblib")]
    [MemberData(nameof(Payloads))]
    public void PayloadRunsInPythonsOwnLoader(string file)
    {
        string folder = Directory.CreateTempSubdirectory("scan-pickle-payload-").FullName;
        try
        {
            string script = "import sys, os, io, pickle, zipfile, numpy as np, torch, joblib\nf = sys.argv[1]\n" + Entry(file)["load"]!.GetValue<string>();
            var r = CliRunner.RunProgram(Python.Interpreter, ["-c", script], folder, TestPaths.Fixture("scan-payloads", file));
            // Some loaders fail after the payload ran (torch's tar reader wants more pickles): the marker is the proof.
            Assert.True(File.Exists(Path.Combine(folder, Marker)), $"{file} did not run in Python's loader (exit {r.ExitCode}):\n{r.Stderr}");
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void ScanFlagsThePayloadByName(string file)
    {
        string flags = Entry(file)["flags"]!.GetValue<string>();
        var report = PickleScanner.Scan(TestPaths.Fixture("scan-payloads", file));
        Assert.NotEqual(ScanVerdict.Safe, report.Worst);
        Assert.True(report.Globals.Any(g => g.Verdict != ScanVerdict.Safe
                                            && (g.FullName.Contains(flags, StringComparison.Ordinal) || g.ResolvedName.Contains(flags, StringComparison.Ordinal)
                                                || g.Source.Contains(flags, StringComparison.Ordinal))),
                    $"{file}: nothing outside the allow-list names '{flags}':\n" +
                    string.Join("\n", report.Globals.Select(g => $"{g.Verdict} {g.FullName} in {g.Source}")));
    }

    [Theory]
    [MemberData(nameof(Payloads))]
    public void ScanExitsOne(string file)
    {
        var r = CliRunner.Run("scan", TestPaths.Fixture("scan-payloads", file));
        Assert.True(r.ExitCode == 1, $"{file}: exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
    }

    [Fact]
    public void AComputedStackGlobalIsDangerousAtItsOffset()
    {
        // computed_stack_global_p4.pkl: PROTO 4 (0-1), 'builtins' (2-11), 'str' (12-16), STACK_GLOBAL (17), 'os' (18-21),
        // TUPLE1 (22), REDUCE (23), 'system' (24-31), STACK_GLOBAL (32): its module is what str('os') returned.
        var report = PickleScanner.Scan(TestPaths.Fixture("scan-payloads", "computed_stack_global_p4.pkl"));
        var g = Assert.Single(report.Globals, g => g.Offset == 32);
        Assert.Equal(ScanVerdict.Dangerous, g.Verdict);
        Assert.Equal("STACK_GLOBAL", g.Opcode);
        Assert.Contains("not a constant string", g.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void APythonTwoNameIsJudgedAsPythonThreeImportsIt()
    {
        var report = PickleScanner.Scan(TestPaths.Fixture("scan-payloads", "fix_imports_commands_p0.pkl"));
        var g = Assert.Single(report.Globals);
        Assert.Equal("commands.getoutput", g.FullName);
        Assert.Equal("subprocess.getoutput", g.ImportedAs);
        Assert.Equal(ScanVerdict.Dangerous, g.Verdict);
    }

    [Fact]
    public void NestedPickleFindingsNameTheLoaderAndWhereTheBytesLie()
    {
        // nested_pickle_loads_p4.pkl: the inner protocol 2 pickle is a BINBYTES argument of _pickle.loads.
        var report = PickleScanner.Scan(TestPaths.Fixture("scan-payloads", "nested_pickle_loads_p4.pkl"));
        var inner = Assert.Single(report.Globals, g => g.FullName == "posix.system");
        Assert.StartsWith("_pickle.loads(…) at ", inner.Source, StringComparison.Ordinal);
        Assert.Contains(", bytes at ", inner.Source, StringComparison.Ordinal);
        Assert.Equal(ScanVerdict.Dangerous, inner.Verdict);
    }

    [Fact]
    public void AMemberPastTheInMemoryBufferIsScannedThroughATemporaryFileThatIsGoneAfterwards()
    {
        // 80 MiB inflated, past ZipMemberContent.SpillBytes: the scan reads the object array's pickle from a temporary
        // file (unlinked once mapped), and finds the payload after the 80 MiB of bytes.
        Assert.True(new FileInfo(TestPaths.Fixture("scan-payloads", "npz_deflated_spilled_member.npz")).Length < ZipMemberContent.SpillBytes);
        string tmp = Directory.CreateTempSubdirectory("scan-spill-").FullName;
        try
        {
            var r = CliRunner.RunWithEnvironment(new Dictionary<string, string> { ["TMPDIR"] = tmp + "/" },
                "scan", TestPaths.Fixture("scan-payloads", "npz_deflated_spilled_member.npz"));
            Assert.True(r.ExitCode == 1, $"exit {r.ExitCode}\n{r.Stdout}\n{r.Stderr}");
            Assert.Contains("posix.system", r.Stdout, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFileSystemEntries(tmp));
            // And the temporary file is where the bytes went: with nowhere to write, the scan says so (never exit 0).
            var none = CliRunner.RunWithEnvironment(new Dictionary<string, string> { ["TMPDIR"] = Path.Combine(tmp, "missing") + "/" },
                "scan", TestPaths.Fixture("scan-payloads", "npz_deflated_spilled_member.npz"));
            Assert.True(none.ExitCode == 3, $"exit {none.ExitCode}\n{none.Stdout}\n{none.Stderr}");
            Assert.Contains("TMPDIR", none.Stderr, StringComparison.Ordinal);
        }
        finally { Directory.Delete(tmp, recursive: true); }
    }
}
