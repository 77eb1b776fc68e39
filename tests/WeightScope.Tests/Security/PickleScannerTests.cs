using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using WeightScope.Security;
using WeightScope.Tests.Interop;
using Xunit;

namespace WeightScope.Tests.Security;

/// <summary>
/// <see cref="PickleScanner"/> against payloads written by Debian's pickle/torch/numpy
/// (tests/fixtures/generate/pickle_payloads.py): every global and call pickletools.genops sees is found at the same
/// offset, with the right verdict; clean torch.save files scan without anything dangerous.
/// </summary>
public class PickleScannerTests
{
    private static string Crafted(string name) => TestPaths.Fixture("pytorch-crafted", name);

    private static JsonNode Expected(string stem) => JsonNode.Parse(File.ReadAllText(Crafted(stem + ".expected.json")))!;

    private static readonly string[] CallOpcodes = ["REDUCE", "NEWOBJ", "NEWOBJ_EX", "OBJ", "INST"];

    // Every GLOBAL/INST (module, name, offset) and STACK_GLOBAL (offset) genops lists is a finding; every call genops
    // lists is a use of some finding, and no finding has a call genops did not list.
    private static void AssertMatchesGenops(ScanReport report, JsonNode expected, long baseOffset, string source)
    {
        var found = report.Globals.Where(g => g.Source == source).ToList();
        var calls = new List<long>();
        foreach (var e in expected["globals"]!.AsArray())
        {
            string op = e!["opcode"]!.GetValue<string>();
            long at = e["offset"]!.GetValue<long>() + baseOffset;
            if (op is "GLOBAL" or "INST" or "STACK_GLOBAL")
            {
                var g = Assert.Single(found, f => f.Offset == at);
                Assert.Equal(op, g.Opcode);
                if (e["module"] is { } module)
                {
                    Assert.Equal(module.GetValue<string>(), g.Module);
                    Assert.Equal(e["name"]!.GetValue<string>(), g.Name);
                }
            }
            if (CallOpcodes.Contains(op)) calls.Add(at);
        }
        var uses = found.SelectMany(f => f.Uses).Where(u => !u.Opcode.StartsWith("BUILD", StringComparison.Ordinal))
                        .Select(u => u.Offset).Order();
        Assert.Equal(calls.Order(), uses);
    }

    [Theory]
    [InlineData("evil_os_system_p0.pkl", "os.system")]
    [InlineData("evil_exec_stack_global_p4.pkl", "builtins.exec")]
    [InlineData("evil_getattr_p2.pkl", "__builtin__.getattr")]
    public void ExistingPayloadsMatchPickletools(string file, string dangerous)
    {
        var report = PickleScanner.Scan(Crafted(file));
        AssertMatchesGenops(report, Expected(Path.GetFileNameWithoutExtension(file)), 0, "");
        var g = Assert.Single(report.Globals, f => f.FullName == dangerous);
        Assert.Equal(ScanVerdict.Dangerous, g.Verdict);
        Assert.Contains(g.Uses, u => u.Opcode == "REDUCE");
        Assert.Empty(report.Errors);
    }

    [Fact]
    public void GetattrResultCalledIsAUseOfGetattr()
    {
        // getattr(__import__('os'), 'system')('touch …'): the third REDUCE calls what getattr returned.
        var report = PickleScanner.Scan(Crafted("evil_getattr_p2.pkl"));
        var getattr = report.Globals.Single(g => g.Name == "getattr");
        Assert.Equal(["REDUCE", "REDUCE result"], getattr.Uses.Select(u => u.Opcode));
        Assert.Equal(ScanVerdict.Dangerous, report.Globals.Single(g => g.Name == "__import__").Verdict);
    }

    [Fact]
    public void EvilDataPklBesideTensorsIsFound()
    {
        var report = PickleScanner.Scan(Crafted("evil_data_pkl.pt"));
        Assert.Equal("pytorch-zip", report.Container);
        var g = Assert.Single(report.Globals, f => f.FullName == "os.system");
        Assert.Equal(ScanVerdict.Dangerous, g.Verdict);
        Assert.EndsWith("/data.pkl", g.Source, StringComparison.Ordinal);
        Assert.All(report.Globals.Where(f => f != g), f => Assert.Equal(ScanVerdict.Safe, f.Verdict));
    }

    [Theory]
    [InlineData("scan_os_system_reduce_p2.pkl")]
    [InlineData("scan_exec_memo_p4.pkl")]
    [InlineData("scan_torch_nested.pt")]
    [InlineData("scan_object_array.npy")]
    [InlineData("scan_object_array_in.npz")]
    [InlineData("scan_keras_member.keras")]
    public void ScanPayloadsMatchPickletools(string file)
    {
        var expected = Expected(Path.GetFileNameWithoutExtension(file));
        var report = PickleScanner.Scan(Crafted(file));
        string source = expected["source"]!.GetValue<string>();
        AssertMatchesGenops(report, expected, expected["base"]!.GetValue<long>(), source);
        string dangerous = expected["dangerous"]!.GetValue<string>();
        var g = Assert.Single(report.Globals, f => f.FullName == dangerous);
        Assert.Equal(ScanVerdict.Dangerous, g.Verdict);
        Assert.Equal(source, g.Source);
        Assert.Contains(g.Uses, u => u.Opcode == "REDUCE");
        Assert.Equal(ScanVerdict.Dangerous, report.Worst);
        Assert.Empty(report.Errors);
    }

    // joblib.dump files (tests/fixtures/generate/joblib_dumps.py): raw array bytes after each NumpyArrayWrapper, nested
    // pickles for object arrays, zlib/gzip compression. Expected: the globals joblib's own unpickler looked up, in order.
    public static TheoryData<string> JoblibDumps() =>
    [
        "scan_joblib_arrays.pkl", "scan_joblib_arrays_p2.pkl", "scan_joblib_arrays_p0.pkl", "scan_joblib_arrays_zlib.z",
        "scan_joblib_arrays_gzip.gz", "scan_joblib_payload_after_array.pkl", "scan_joblib_payload_object_array.pkl",
        "scan_joblib_payload_zlib.z",
    ];

    [Theory]
    [MemberData(nameof(JoblibDumps))]
    public void JoblibDumpsListEveryGlobalJoblibLoadLooksUp(string file)
    {
        var expected = Expected(Path.GetFileNameWithoutExtension(file));
        var report = PickleScanner.Scan(Crafted(file));
        Assert.Empty(report.Errors);
        Assert.Single(report.Pickles); // one pickle stream, walked to its STOP past every array
        var names = expected["globals"]!.AsArray().Select(g => $"{g!["module"]}.{g["name"]}");
        Assert.Equal(names, report.Globals.Select(g => g.FullName));
        if (expected["dangerous"]?.GetValue<string>() is { } dangerous)
        {
            Assert.Equal(ScanVerdict.Dangerous, report.Worst);
            Assert.Contains(report.Globals, g => g.FullName == dangerous && g.Verdict == ScanVerdict.Dangerous && g.Uses.Any(u => u.Opcode == "REDUCE"));
        }
        else Assert.Equal(ScanVerdict.Safe, report.Worst); // joblib's wrapper and numpy's dtype are on the allow-list: data only
        Assert.Equal(file.EndsWith(".z", StringComparison.Ordinal) ? "joblib (zlib)" : file.EndsWith(".gz", StringComparison.Ordinal) ? "joblib (gzip)" : "pickle",
                     report.Container);
    }

    [Fact]
    public void JoblibDumpCompressedWithXzIsRefusedWithTheCommandThatDecompressesIt()
    {
        var x = Assert.Throws<ModelFormatException>(() => PickleScanner.Scan(Crafted("scan_joblib_arrays_xz.xz")));
        Assert.Contains("compressed with xz", x.Message, StringComparison.Ordinal);
        Assert.Contains("xz -dc", x.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void JoblibArrayCutShortIsAnErrorAfterTheGlobalsBeforeIt()
    {
        // 8 KB of float64s follow the first wrapper; cut inside them, the walk cannot go on and says why.
        var bytes = File.ReadAllBytes(Crafted("scan_joblib_payload_after_array.pkl"))[..4000];
        var path = Path.Combine(Directory.CreateTempSubdirectory("weightscope-joblib-").FullName, "cut.pkl");
        File.WriteAllBytes(path, bytes);
        try
        {
            var report = PickleScanner.Scan(path);
            var (_, message) = Assert.Single(report.Errors);
            Assert.Contains("a joblib array of 8192 bytes (shape (1024), 8-byte items) runs past the end of the file", message, StringComparison.Ordinal);
            Assert.Contains(report.Globals, g => g.FullName == "joblib.numpy_pickle.NumpyArrayWrapper");
        }
        finally { Directory.Delete(Path.GetDirectoryName(path)!, recursive: true); }
    }

    [Fact]
    public void MemoisedModuleAndNameResolveThroughStackGlobal()
    {
        // 'builtins' and 'exec' are BINPUT, popped, then BINGET back: the scan must name builtins.exec, not give up.
        var report = PickleScanner.Scan(Crafted("scan_exec_memo_p4.pkl"));
        var g = Assert.Single(report.Globals);
        Assert.Equal(("builtins", "exec", "STACK_GLOBAL"), (g.Module, g.Name, g.Opcode));
    }

    public static TheoryData<string> CleanTorchFiles() =>
        [.. Directory.GetFiles(TestPaths.Fixture("pytorch"), "*.pt").Select(f => Path.GetFileName(f)).Order()];

    [Theory]
    [MemberData(nameof(CleanTorchFiles))]
    public void CleanTorchFilesHaveNothingDangerous(string file)
    {
        var report = PickleScanner.Scan(TestPaths.Fixture("pytorch", file));
        Assert.NotEmpty(report.Globals);
        Assert.Empty(report.Errors);
        Assert.DoesNotContain(report.Globals, g => g.Verdict == ScanVerdict.Dangerous);
    }

    [Theory]
    [InlineData("mymodel_state_dict.pt")]
    [InlineData("every_dtype.pt")]
    [InlineData("legacy_format.pt")]
    [InlineData("quantized.pt")]
    [InlineData("views_shared.pt")]
    public void StateDictsAreAllSafe(string file)
    {
        var report = PickleScanner.Scan(TestPaths.Fixture("pytorch", file));
        Assert.Contains(report.Globals, g => g.FullName == "torch._utils._rebuild_tensor_v2" || g.FullName == "torch._utils._rebuild_qtensor");
        Assert.All(report.Globals, g => Assert.Equal(ScanVerdict.Safe, g.Verdict));
    }

    [Fact]
    public void LegacyFilesWalkTheirFivePickles()
    {
        var report = PickleScanner.Scan(Crafted("tensor_small_legacy.pt"));
        Assert.Equal("pytorch-legacy", report.Container);
        Assert.Equal(5, report.Pickles.Count);
        Assert.Contains(report.Globals, g => g.FullName == "torch._utils._rebuild_tensor_v2" && g.Source == "pickle #4");
    }

    [Fact]
    public void WholeModulesAreSuspiciousNotDangerous()
    {
        var report = PickleScanner.Scan(TestPaths.Fixture("pytorch", "whole_model_linear_conv.pt"));
        var linear = report.Globals.First(g => g.FullName == "torch.nn.modules.linear.Linear");
        Assert.Equal(ScanVerdict.Suspicious, linear.Verdict);
    }

    [Fact]
    public void ACorruptPickleIsReportedWithWhatCameBefore()
    {
        var report = PickleScanner.Scan(Crafted("unknown_opcode.pt"));
        var (source, message) = Assert.Single(report.Errors);
        Assert.EndsWith("/data.pkl", source, StringComparison.Ordinal);
        Assert.Contains("0xff", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("os", "system", ScanVerdict.Dangerous)]
    [InlineData("posix", "system", ScanVerdict.Dangerous)]
    [InlineData("subprocess", "Popen", ScanVerdict.Dangerous)]
    [InlineData("__builtin__", "eval", ScanVerdict.Dangerous)]
    [InlineData("builtins", "__import__", ScanVerdict.Dangerous)]
    [InlineData("functools", "partial", ScanVerdict.Dangerous)]
    [InlineData("operator", "attrgetter", ScanVerdict.Dangerous)]
    [InlineData("torch.serialization", "load", ScanVerdict.Dangerous)]
    [InlineData("importlib.machinery", "SourceFileLoader", ScanVerdict.Dangerous)]
    [InlineData("collections", "OrderedDict", ScanVerdict.Safe)]
    [InlineData("torch", "BFloat16Storage", ScanVerdict.Safe)]
    [InlineData("torch.cuda", "FloatStorage", ScanVerdict.Safe)]
    [InlineData("torch._utils", "_rebuild_parameter", ScanVerdict.Safe)]
    [InlineData("torch", "float16", ScanVerdict.Safe)]
    [InlineData("builtins", "set", ScanVerdict.Safe)]
    [InlineData("builtins", "str", ScanVerdict.Suspicious)]
    [InlineData("logging", "FileHandler", ScanVerdict.Suspicious)]
    [InlineData("pip._internal.cli.main", "main", ScanVerdict.Dangerous)]
    [InlineData("pydoc", "locate", ScanVerdict.Dangerous)]
    [InlineData("_operator", "attrgetter", ScanVerdict.Dangerous)]
    [InlineData("_functools", "reduce", ScanVerdict.Dangerous)]
    [InlineData("torch.jit.unsupported_tensor_ops", "execWrapper", ScanVerdict.Dangerous)]
    [InlineData("torch.fx.graph_module", "_forward_from_src", ScanVerdict.Dangerous)]
    [InlineData("lib2to3.pgen2.grammar", "Grammar", ScanVerdict.Dangerous)]
    [InlineData("uuid", "_get_command_stdout", ScanVerdict.Dangerous)]
    [InlineData("imaplib", "IMAP4_stream", ScanVerdict.Dangerous)]
    [InlineData("trace", "Trace", ScanVerdict.Dangerous)]
    [InlineData("doctest", "debug_script", ScanVerdict.Dangerous)]
    [InlineData("_osx_support", "_read_output", ScanVerdict.Dangerous)]
    [InlineData("code", "InteractiveInterpreter", ScanVerdict.Dangerous)]
    [InlineData("timeit", "timeit", ScanVerdict.Dangerous)]
    [InlineData("cProfile", "run", ScanVerdict.Dangerous)]
    [InlineData("profile", "run", ScanVerdict.Dangerous)]
    [InlineData("idlelib.pyshell", "ModifiedInterpreter", ScanVerdict.Dangerous)]
    [InlineData("asyncio.subprocess", "create_subprocess_shell", ScanVerdict.Dangerous)]
    [InlineData("ctypes", "CDLL", ScanVerdict.Dangerous)]
    [InlineData("numpy.testing._private.utils", "runstring", ScanVerdict.Dangerous)]
    [InlineData("numpy.f2py.crackfortran", "myeval", ScanVerdict.Dangerous)]
    [InlineData("joblib.externals.cloudpickle.cloudpickle", "_make_function", ScanVerdict.Dangerous)]
    [InlineData("codecs", "encode", ScanVerdict.Suspicious)]
    [InlineData("collections", "_sys", ScanVerdict.Suspicious)]
    [InlineData("collections", "OrderedDict.__init__", ScanVerdict.Dangerous)]
    [InlineData("builtins", "__dict__", ScanVerdict.Dangerous)]
    [InlineData("cStringIO", "StringIO", ScanVerdict.Dangerous)]
    [InlineData("__builtin__", "set", ScanVerdict.Safe)]
    [InlineData("__main__", "Net", ScanVerdict.Suspicious)]
    [InlineData("ossify", "system", ScanVerdict.Suspicious)]
    public void Classification(string module, string name, ScanVerdict verdict) =>
        Assert.Equal(verdict, GlobalClassifier.Classify(module, name).Verdict);

    [PythonFact("torch")]
    public void TorchsOwnAllowListIsSafe()
    {
        // torch 1.13's _get_allowed_globals(), printed by the installed torch: every key must classify as safe.
        var keys = Python.Run("import json, torch._weights_only_unpickler as m; print(json.dumps(sorted(m._get_allowed_globals())))");
        foreach (var key in JsonNode.Parse(keys)!.AsArray().Select(k => k!.GetValue<string>()))
        {
            int dot = key.LastIndexOf('.');
            Assert.True(GlobalClassifier.Classify(key[..dot], key[(dot + 1)..]).Verdict == ScanVerdict.Safe, key);
        }
    }

    [Fact]
    public void KerasH5LambdaLayerIsDangerous()
    {
        // Written by h5py with a Keras 2 model_config whose Lambda holds marshalled bytecode (pickle_payloads.py).
        var report = PickleScanner.Scan(Crafted("scan_keras_lambda.h5"));
        Assert.Equal("hdf5", report.Container);
        var c = Assert.Single(report.Code);
        Assert.Equal(("keras-lambda", "model_config", ScanVerdict.Dangerous), (c.Kind, c.Source, c.Verdict));
        Assert.Contains($"'{Expected("scan_keras_lambda")["lambda"]}'", c.Detail, StringComparison.Ordinal);
        Assert.Empty(PickleScanner.Scan(TestPaths.Fixture("keras", "nested_full_model.h5")).Code);
    }

    [Fact]
    public void KerasLambdaLayersAreDangerous()
    {
        string dir = Directory.CreateTempSubdirectory("ws-scan-").FullName;
        try
        {
            string path = Path.Combine(dir, "lambda.keras");
            using (var z = ZipFile.Open(path, ZipArchiveMode.Create))
            {
                Write(z, "metadata.json", """{"keras_version": "3.0.0"}""");
                Write(z, "config.json", """
                    {"class_name": "Sequential", "config": {"layers": [
                      {"class_name": "Dense", "config": {"name": "d"}},
                      {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "evil",
                        "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAA"}}}}]}}
                    """);
            }
            var report = PickleScanner.Scan(path);
            var c = Assert.Single(report.Code);
            Assert.Equal(("keras-lambda", "config.json", ScanVerdict.Dangerous), (c.Kind, c.Source, c.Verdict));
            Assert.Contains("'evil'", c.Detail, StringComparison.Ordinal);
            Assert.Empty(PickleScanner.Scan(TestPaths.Fixture("keras", "keras3_functional.keras")).Code);
        }
        finally { Directory.Delete(dir, true); }

        static void Write(ZipArchive z, string name, string text)
        {
            using var s = z.CreateEntry(name).Open();
            s.Write(Encoding.UTF8.GetBytes(text));
        }
    }
}
