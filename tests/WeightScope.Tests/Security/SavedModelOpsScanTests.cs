using Google.Protobuf;
using WeightScope.Formats.TensorFlow.Proto;
using WeightScope.Security;
using WeightScope.Tests.Cli;
using Xunit;

namespace WeightScope.Tests.Security;

/// <summary>
/// <c>scan</c> on TensorFlow SavedModels: file-reading/-writing and Python ops in the graph or its function library are
/// dangerous; the real SavedModels of the corpus (which use only the saver's own checkpoint ops) are not flagged.
/// The crafted SavedModel is built with the same protobuf schema TensorFlow writes (saved_model.proto's subset).
/// </summary>
public sealed class SavedModelOpsScanTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-scan-savedmodel-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(params (string Function, string Op)[] nodes)
    {
        var graph = new GraphDef { Library = new FunctionDefLibrary() };
        graph.Node.Add(new NodeDef { Name = "x", Op = "Const" });
        graph.Node.Add(new NodeDef { Name = "save/SaveV2", Op = "SaveV2" });
        foreach (var (function, op) in nodes)
        {
            if (function.Length == 0) { graph.Node.Add(new NodeDef { Name = op.ToLowerInvariant(), Op = op }); continue; }
            var f = new FunctionDef { Signature = new OpDef { Name = function } };
            f.NodeDef.Add(new NodeDef { Name = "inner_" + op, Op = op });
            graph.Library.Function.Add(f);
        }
        var meta = new MetaGraphDef { GraphDef = graph, MetaInfoDef = new MetaGraphDef.Types.MetaInfoDef() };
        meta.MetaInfoDef.Tags.Add("serve");
        var sm = new SavedModel { SavedModelSchemaVersion = 1 };
        sm.MetaGraphs.Add(meta);
        File.WriteAllBytes(Path.Combine(_dir, "saved_model.pb"), sm.ToByteArray());
        return _dir;
    }

    [Fact]
    public void File_and_python_ops_in_functions_and_the_graph_are_dangerous()
    {
        var dir = Write(("__inference_call_42", "ReadFile"), ("", "WriteFile"), ("__inference_f_7", "EagerPyFunc"));
        var report = PickleScanner.Scan(dir);
        Assert.Equal(ScanVerdict.Dangerous, report.Worst);
        Assert.Equal(3, report.Code.Count);
        Assert.Contains(report.Code, c => c.Detail.StartsWith("ReadFile", StringComparison.Ordinal) && c.Source.Contains("function __inference_call_42", StringComparison.Ordinal));
        Assert.Contains(report.Code, c => c.Detail.StartsWith("WriteFile", StringComparison.Ordinal) && c.Source.Contains("node writefile", StringComparison.Ordinal));
        Assert.Contains(report.Code, c => c.Detail.StartsWith("EagerPyFunc", StringComparison.Ordinal));
        var cli = CliRunner.Run("scan", dir);
        Assert.Equal(1, cli.ExitCode);
        Assert.Contains("ReadFile", cli.Stdout);
        Assert.Equal(1, CliRunner.Run("scan", Path.Combine(dir, "saved_model.pb")).ExitCode);
    }

    [Fact]
    public void The_savers_own_checkpoint_ops_are_not_flagged()
    {
        var report = PickleScanner.Scan(Write(("__inference_restore", "RestoreV2"), ("", "MergeV2Checkpoints")));
        Assert.Equal(ScanVerdict.Safe, report.Worst);
        Assert.Empty(report.Code);
        Assert.Contains(report.Notes, n => n.Contains("graph nodes", StringComparison.Ordinal));
    }

    [CorpusFact]
    public void Real_savedmodels_have_no_dangerous_ops()
    {
        var folders = Directory.GetFiles(TestPaths.CorpusFile("tf-savedmodel"), "saved_model.pb", SearchOption.AllDirectories)
            .Select(Path.GetDirectoryName).ToList();
        Assert.True(folders.Count >= 5, $"expected the corpus SavedModels, found {folders.Count}");
        foreach (var folder in folders)
        {
            var report = PickleScanner.Scan(folder!);
            Assert.True(report.Worst == ScanVerdict.Safe, $"{folder}: {string.Join("; ", report.Code.Select(c => c.Detail))}");
            Assert.Contains(report.Notes, n => n.Contains("graph nodes", StringComparison.Ordinal));
        }
    }
}
