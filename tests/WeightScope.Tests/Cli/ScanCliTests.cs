using System.Text.Json.Nodes;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary>
/// <c>weightscope scan</c> on the payloads of tests/fixtures/pytorch-crafted (each would run <c>touch MARKER</c> if
/// unpickled by Python), and every read verb on the same files: none creates its marker, and <c>list</c> still shows
/// the real tensors beside a payload.
/// </summary>
public class ScanCliTests
{
    private static string Crafted(string name) => TestPaths.Fixture("pytorch-crafted", name);

    private static JsonNode Expected(string file) =>
        JsonNode.Parse(File.ReadAllText(Crafted(Path.GetFileNameWithoutExtension(file) + ".expected.json")))!;

    private static readonly string[] PayloadFiles =
    [
        "evil_os_system_p0.pkl", "evil_exec_stack_global_p4.pkl", "evil_getattr_p2.pkl", "evil_data_pkl.pt",
        "scan_os_system_reduce_p2.pkl", "scan_exec_memo_p4.pkl", "scan_torch_nested.pt", "scan_object_array.npy",
        "scan_object_array_in.npz", "scan_keras_member.keras",
        "scan_joblib_payload_after_array.pkl", "scan_joblib_payload_object_array.pkl", "scan_joblib_payload_zlib.z",
    ];

    public static TheoryData<string> Payloads() => [.. PayloadFiles];

    private static string Marker(string file) =>
        file == "evil_data_pkl.pt" ? "/tmp/weightscope-pickle-marker-torch" : Expected(file)["marker"]!.GetValue<string>();

    [Theory]
    [MemberData(nameof(Payloads))]
    public void ScanFindsThePayloadAndExitsOne(string file)
    {
        var r = CliRunner.Run("scan", Crafted(file));
        Assert.Equal(1, r.ExitCode);
        Assert.Matches(@"(?m)^\s+dangerous\s+\S+\s+(GLOBAL|STACK_GLOBAL)@\d+ in .*REDUCE@\d+", r.Stdout);
        Assert.Contains("DO NOT load", r.Stdout, StringComparison.Ordinal);

        var j = CliRunner.Run("scan", Crafted(file), "--json");
        Assert.Equal(1, j.ExitCode);
        var doc = JsonNode.Parse(j.Stdout)!;
        Assert.Equal("dangerous", doc["verdict"]!.GetValue<string>());
        var dangerous = doc["globals"]!.AsArray().Where(g => g!["verdict"]!.GetValue<string>() == "dangerous").ToList();
        Assert.NotEmpty(dangerous);
        if (Expected(file)["dangerous"] is { } name)
            Assert.Contains(dangerous, g => $"{g!["module"]}.{g["name"]}" == name.GetValue<string>()
                                            && g["uses"]!.AsArray().Any(u => u!["opcode"]!.GetValue<string>() == "REDUCE"));
    }

    public static TheoryData<string, string> PayloadsAndVerbs()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in PayloadFiles)
            foreach (var verb in new[] { "list", "show", "info", "tree", "stats", "scan" })
                data.Add(file, verb);
        return data;
    }

    [Theory]
    [MemberData(nameof(PayloadsAndVerbs))]
    public void NoVerbRunsThePayload(string file, string verb)
    {
        string marker = Marker(file);
        if (File.Exists(marker)) File.Delete(marker);
        string[] args = verb == "show" ? [verb, Crafted(file), "w"] : [verb, Crafted(file)];
        var r = CliRunner.Run(args);
        Assert.False(File.Exists(marker), $"weightscope {verb} ran the payload of {file} (exit {r.ExitCode}: {r.Stderr})");
        Assert.NotEqual(ExitCodeCrash, r.ExitCode);
    }

    private const int ExitCodeCrash = 134; // an abort, not one of weightscope's exit codes

    [Theory]
    [InlineData("scan_torch_nested.pt")]
    [InlineData("evil_data_pkl.pt")]
    public void ListStillShowsTheTensorsBesideAPayload(string file)
    {
        var r = CliRunner.Run("list", Crafted(file), "--json");
        Assert.Equal(0, r.ExitCode);
        var names = JsonNode.Parse(r.Stdout)!["tensors"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(Expected(file)["tensors"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()), names);
    }

    [Fact]
    public void KerasLambdaInH5ExitsOneAndNoVerbRunsIt()
    {
        string marker = Expected("scan_keras_lambda.h5")["marker"]!.GetValue<string>();
        if (File.Exists(marker)) File.Delete(marker);
        var r = CliRunner.Run("scan", Crafted("scan_keras_lambda.h5"));
        Assert.Equal(1, r.ExitCode);
        Assert.Matches(@"(?m)^\s+dangerous\s+keras-lambda\s+in model_config: Lambda layer 'lambda'", r.Stdout);
        foreach (var verb in new[] { "list", "show", "info", "tree", "stats" })
            CliRunner.Run(verb, Crafted("scan_keras_lambda.h5"), "dense/kernel:0");
        Assert.False(File.Exists(marker));
        var list = CliRunner.Run("list", Crafted("scan_keras_lambda.h5"), "--json");
        Assert.Equal(0, list.ExitCode);
        Assert.Equal(Expected("scan_keras_lambda.h5")["tensors"]!.AsArray().Select(t => t!.GetValue<string>()),
                     JsonNode.Parse(list.Stdout)!["tensors"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("scan_object_array_in.npz", "plain")]
    [InlineData("scan_keras_member.keras", "kernel")]
    public void ListStillReadsTheArchiveAroundAHiddenPickle(string file, string tensorNamePart)
    {
        var r = CliRunner.Run("list", Crafted(file));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(tensorNamePart, r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void AFileWithoutPicklesSaysSo()
    {
        var r = CliRunner.Run("scan", TestPaths.Fixture("numpy", "bool.npy"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("no code-bearing content", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void CleanStateDictScansSafeWithExitZero()
    {
        var r = CliRunner.Run("scan", TestPaths.Fixture("pytorch", "mymodel_state_dict.pt"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("0 dangerous, 0 suspicious", r.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^\s+safe\s+torch\._utils\._rebuild_tensor_v2\s", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void WholeModelIsOutsideTheAllowListWithExitOneAndSaysWhatToDoInstead()
    {
        // torch.save(model) pickles the module's classes: torch.load(weights_only=True) refuses them, and so does scan.
        var r = CliRunner.Run("scan", TestPaths.Fixture("pytorch", "whole_model_linear_conv.pt"));
        Assert.Equal(1, r.ExitCode);
        Assert.Matches(@"(?m)^\s+suspicious\s+torch\.nn\.modules\.linear\.Linear\s", r.Stdout);
        Assert.Contains("torch.nn.modules.linear.Linear", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("weights_only=True", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("state_dict", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnreadablePickleExitsThree()
    {
        var r = CliRunner.Run("scan", Crafted("unknown_opcode.pt"));
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("0xff", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void NotAPickleExitsThree()
    {
        var r = CliRunner.Run("scan", TestPaths.Fixture("generate", "README.md")); // JSON is now scanned as a config: text that is neither
        Assert.Equal(3, r.ExitCode);
    }
}
