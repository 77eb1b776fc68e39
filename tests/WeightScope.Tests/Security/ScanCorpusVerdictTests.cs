using System.Text.Json.Nodes;
using WeightScope.Security;
using Xunit;

namespace WeightScope.Tests.Security;

/// <summary>
/// The allow-list verdict against torch's own: for every PyTorch file of the shared corpus,
/// tests/fixtures/scan-payloads/corpus_weights_only.json holds what torch 1.13's <c>torch.load(f, weights_only=True)</c>
/// did (tests/fixtures/generate/corpus_weights_only.py). A file torch loads scans safe (no false exit 1); a file torch
/// refuses for a class scans with that class outside the allow-list (scan is never weaker), except numpy's array
/// reconstruction, which scan allows by design; a TorchScript archive (torch hands it to torch.jit.load, whose C++
/// unpickler imports nothing: its __torch__ classes are compiled from the archive's own TorchScript code/) scans safe
/// with a note saying so.
/// </summary>
public class ScanCorpusVerdictTests
{
    private static readonly Lazy<JsonObject> Answers =
        new(() => JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("scan-payloads", "corpus_weights_only.json")))!.AsObject());

    public static TheoryData<string> TorchFiles() =>
        [.. Answers.Value.Where(kv => kv.Value!["torch"] is not null).Select(kv => kv.Key)];

    [CorpusTheory]
    [MemberData(nameof(TorchFiles))]
    public void ScanAgreesWithTorchsWeightsOnlyLoad(string relative)
    {
        string torch = Answers.Value[relative]!["torch"]!.GetValue<string>();
        var report = PickleScanner.Scan(TestPaths.CorpusFile(relative));
        var outside = report.Globals.Where(g => g.Verdict != ScanVerdict.Safe).Select(g => g.ResolvedName).Distinct().ToList();
        const string UnsupportedClass = "WeightsUnpickler error: Unsupported class ";
        if (torch == "loads")
            Assert.True(outside.Count == 0, $"{relative}: torch loads it with weights_only=True, scan names {string.Join(", ", outside)}");
        else if (torch.Contains(UnsupportedClass, StringComparison.Ordinal))
        {
            string cls = torch[(torch.IndexOf(UnsupportedClass, StringComparison.Ordinal) + UnsupportedClass.Length)..].Trim();
            if (GlobalClassifier.SafeReason(cls[..cls.LastIndexOf('.')], cls[(cls.LastIndexOf('.') + 1)..]) is { } why)
                Assert.Contains("numpy", why, StringComparison.Ordinal); // the one documented divergence from torch 1.13
            else
                Assert.Contains(cls, outside);
        }
        else if (torch == "torchscript" && report.Globals.Any(g => g.Module.StartsWith("__torch__", StringComparison.Ordinal)))
        {
            Assert.True(outside.Count == 0, $"{relative}: a TorchScript archive, scan names {string.Join(", ", outside)}");
            Assert.Contains(report.Notes, n => n.Contains("TorchScript archive", StringComparison.Ordinal));
        }
    }
}
