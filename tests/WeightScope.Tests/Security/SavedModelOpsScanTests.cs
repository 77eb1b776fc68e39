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
        return Save(graph);
    }

    // One meta graph tagged "serve", as tf.saved_model.save writes.
    private string Save(GraphDef graph)
    {
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

    // Graphs laid out with the protobuf classes TensorFlow's own saved_model.proto generates (the subset in
    // Formats/TensorFlow/Proto); op names, input order and attribute names as registered in tensorflow/core/ops/
    // (io_ops.cc: SaveV2(prefix, tensor_names, shape_and_slices, tensors), RestoreV2(prefix, …), Save(filename, …),
    // MergeV2Checkpoints(checkpoint_prefixes, destination_prefix); lookup_ops.cc: InitializeTableFromTextFileV2(
    // table_handle, filename); logging_ops.cc: PrintV2 attr output_stream = 'stderr').
    private static NodeDef Node(string name, string op, params string[] inputs)
    {
        var n = new NodeDef { Name = name, Op = op };
        n.Input.AddRange(inputs);
        return n;
    }

    private static NodeDef StringConst(string name, string value)
    {
        var n = Node(name, "Const");
        var t = new TensorProto { Dtype = DataType.DtString };
        t.StringVal.Add(ByteString.CopyFromUtf8(value));
        n.Attr["value"] = new AttrValue { Tensor = t };
        return n;
    }

    private string WriteGraph(params NodeDef[] nodes)
    {
        var graph = new GraphDef { Library = new FunctionDefLibrary() };
        graph.Node.AddRange(nodes);
        return Save(graph);
    }

    public static TheoryData<string> AlwaysDangerousOps() =>
    [
        "WholeFileReaderV2", "ReaderReadV2", "LoadAndRemapMatrix", "RecordInput", "TextLineDataset", "TFRecordDataset",
        "FixedLengthRecordDatasetV2", "DatasetToTFRecord", "SaveDatasetV2", "CreateSummaryFileWriter", "WriteSummary",
        "DebugIdentity", "DebugIdentityV2", "PyFunc", "EagerPyFunc", "ReadFile", "WriteFile",
    ];

    [Theory]
    [MemberData(nameof(AlwaysDangerousOps))]
    public void Every_file_process_and_python_op_is_dangerous(string op)
    {
        var report = PickleScanner.Scan(WriteGraph(Node("x", op)));
        var c = Assert.Single(report.Code);
        Assert.Equal(ScanVerdict.Dangerous, c.Verdict);
        Assert.StartsWith(op + ":", c.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void PrintV2_to_a_file_is_dangerous_and_to_stderr_is_not()
    {
        var toFile = Node("p", "PrintV2", "s");
        toFile.Attr["output_stream"] = new AttrValue { S = ByteString.CopyFromUtf8("file:///home/u/.bashrc") };
        Assert.Contains("prints to file:///home/u/.bashrc", Assert.Single(PickleScanner.Scan(WriteGraph(toFile)).Code).Detail, StringComparison.Ordinal);
        var toStderr = Node("p", "PrintV2", "s");
        toStderr.Attr["output_stream"] = new AttrValue { S = ByteString.CopyFromUtf8("stderr") };
        Assert.Empty(PickleScanner.Scan(WriteGraph(toStderr)).Code);
    }

    [Fact]
    public void The_tf1_savers_path_chain_is_not_reported()
    {
        // tf.train.Saver: save/Const ("model", fed at run time) → save/SaveV2; sharded: StringJoin + ShardedFilename.
        var report = PickleScanner.Scan(WriteGraph(
            StringConst("save/Const", "model"), StringConst("save/StringJoin/inputs_1", "_temp/part"),
            Node("save/StringJoin", "StringJoin", "save/Const", "save/StringJoin/inputs_1"),
            Node("save/num_shards", "Const"), Node("save/ShardedFilename/shard", "Const"),
            Node("save/ShardedFilename", "ShardedFilename", "save/StringJoin", "save/ShardedFilename/shard", "save/num_shards"),
            Node("save/SaveV2", "SaveV2", "save/ShardedFilename", "save/SaveV2/tensor_names", "save/SaveV2/shape_and_slices", "w", "^save/Const"),
            Node("save/filename", "PlaceholderWithDefault", "save/Const"),
            Node("save/RestoreV2", "RestoreV2", "save/filename:0", "n", "s"),
            Node("save/MergeV2Checkpoints", "MergeV2Checkpoints", "save/Pack", "save/Const"),
            Node("save/Pack", "Pack", "save/ShardedFilename")));
        Assert.Empty(report.Code);
    }

    [Theory]
    [InlineData("/etc/cron.d/job", "an absolute path")]
    [InlineData("../../outside/ckpt", "a path leading out with ..")]
    [InlineData("gs://bucket/ckpt", "a remote file system")]
    public void A_checkpoint_op_with_a_constant_path_outside_is_dangerous(string path, string why)
    {
        var report = PickleScanner.Scan(WriteGraph(StringConst("p", path), Node("j", "StringJoin", "p"), Node("s", "SaveV2", "j", "n", "sl", "w")));
        var c = Assert.Single(report.Code);
        Assert.Contains($"SaveV2: its path has the constant '{path}' (p), {why}", c.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_path_computed_by_another_op_is_dangerous()
    {
        var report = PickleScanner.Scan(WriteGraph(Node("f", "Placeholder"), Node("r", "ReadFile", "f"),
                                                   Node("m", "MergeV2Checkpoints", "f", "r"), Node("t", "InitializeTableFromTextFileV2", "h", "r")));
        Assert.Contains(report.Code, c => c.Detail == "MergeV2Checkpoints: its path is computed at run time by ReadFile (r)");
        Assert.Contains(report.Code, c => c.Detail == "InitializeTableFromTextFileV2: its path is computed at run time by ReadFile (r)");
    }

    [Fact]
    public void A_tf1_meta_graph_is_checked_alone_and_beside_its_checkpoint()
    {
        var graph = new GraphDef();
        graph.Node.Add(Node("w", "WriteFile", "f", "c"));
        var meta = Path.Combine(_dir, "model.ckpt.meta");
        File.WriteAllBytes(meta, new MetaGraphDef { GraphDef = graph, MetaInfoDef = new MetaGraphDef.Types.MetaInfoDef() }.ToByteArray());
        var report = PickleScanner.Scan(meta);
        Assert.Equal("tf-metagraph", report.Container);
        Assert.Contains(report.Code, c => c.Detail.StartsWith("WriteFile", StringComparison.Ordinal));
        Assert.Equal(1, CliRunner.Run("scan", meta).ExitCode);
    }

    [CorpusFact]
    public void The_corpus_checkpoints_meta_graphs_are_checked_and_clean()
    {
        var report = PickleScanner.Scan(TestPaths.CorpusFile("tf-checkpoint/tf-serving/half_plus_two_v2ckpt_export/export.index"));
        Assert.Empty(report.Code);
        Assert.Contains(report.Notes, n => n.Contains("export.meta: a meta graph holds no pickles", StringComparison.Ordinal));
    }
}
