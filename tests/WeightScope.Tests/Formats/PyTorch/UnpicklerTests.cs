using System.Text.Json.Nodes;
using WeightScope.Formats.PyTorch;
using WeightScope.Formats.PyTorch.Pickle;
using Xunit;

namespace WeightScope.Tests.Formats.PyTorch;

/// <summary>
/// The restricted unpickler against pickles written by CPython (tests/fixtures/generate/pickle_payloads.py) and their
/// pickle.loads answers, plus crafted bytes for every error kind. Nothing from a pickle is ever executed.
/// </summary>
public class UnpicklerTests
{
    private static string Crafted(string name) => TestPaths.Fixture("pytorch-crafted", name);

    private static Unpickler NewUnpickler(ReaderLimits? limits = null, Func<object?, long, object?>? persistentLoad = null) =>
        new(TorchGlobals.CreateResolver(), limits ?? ReaderLimits.Default, new PickleErrors("test", "member.pkl"), persistentLoad);

    private static object? Load(byte[] data, Unpickler? u = null) => (u ?? NewUnpickler()).Load(data, 0, out _);

    private static object? LoadFile(string name, Unpickler? u = null) => Load(File.ReadAllBytes(Crafted(name)), u);

    private static JsonNode Expected(string name) => JsonNode.Parse(File.ReadAllText(Crafted(name)))!;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void ValuesOfEveryProtocolMatchPickleLoads(int protocol)
    {
        var value = LoadFile($"values_p{protocol}.pkl");
        PickleJson.AssertEqual(Expected($"values_p{protocol}.expected.json"), PickleJson.Encode(value));
    }

    [Theory]
    [InlineData("text_opcodes_p0")]   // STRING, BINSTRING, SHORT_BINSTRING, UNICODE, INT/LONG/FLOAT text, INST, OBJ, DUP, POP, POP_MARK, GET/PUT
    [InlineData("binary_opcodes_p4")] // FRAME, BINUNICODE8, BINBYTES8, BYTEARRAY8, LONG4, DICT, LIST, LONG_BINPUT/GET, MEMOIZE, STACK_GLOBAL
    [InlineData("ext_codes_p2")]      // EXT1, EXT2, EXT4: inert globals named after the code
    public void HandAssembledOpcodesMatchPickleLoads(string name)
    {
        var value = LoadFile(name + ".pkl");
        PickleJson.AssertEqual(Expected(name + ".expected.json"), PickleJson.Encode(value));
    }

    [Fact]
    public void EveryOpcodeOfTheTableIsExercisedByTheFixtures()
    {
        var seen = new HashSet<PickleOpcode>();
        // joblib dumps are not pickles (raw array bytes sit between their opcodes): only the scanner walks them.
        foreach (var file in Directory.GetFiles(TestPaths.Fixture("pytorch-crafted"), "*.pkl").Where(f => !Path.GetFileName(f).StartsWith("scan_joblib_", StringComparison.Ordinal)))
        {
            var u = NewUnpickler();
            u.Trace = (op, _) => seen.Add(op);
            try { u.Load(File.ReadAllBytes(file), 0, out _); }
            catch (UnsupportedModelFeatureException) { } // NEXT_BUFFER (out-of-band data) is read and reported
        }
        var missing = Enum.GetValues<PickleOpcode>().Where(op => !seen.Contains(op)).ToList();
        Assert.True(missing.Count == 0, "opcodes never read: " + string.Join(", ", missing));
        Assert.Equal(68, Enum.GetValues<PickleOpcode>().Length); // pickletools.opcodes has 68 entries
    }

    [Theory]
    [InlineData(0)] // PERSID: the id is a text line
    [InlineData(2)] // BINPERSID: the id is an object
    public void PersistentIdsAreKeptInertWithoutALoader(int protocol)
    {
        var root = Assert.IsType<PyDict>(LoadFile($"persid_p{protocol}.pkl"));
        var ids = Expected($"persid_p{protocol}.expected.json")["persistent_ids"]!;
        Assert.True(root.TryGetValue("a", out var a));
        AssertPid(ids["a"]!, Assert.IsType<PyPersistentId>(a).Payload);
        Assert.True(root.TryGetValue("b", out var b));
        AssertPid(ids["b"]![0]!, Assert.IsType<PyPersistentId>(Assert.IsType<PyList>(b)[0]).Payload);

        static void AssertPid(JsonNode expected, object? payload)
        {
            if (expected is JsonArray arr)
            {
                var t = Assert.IsType<PyTuple>(payload);
                Assert.Equal(arr[0]!.GetValue<string>(), t[0]);
                Assert.Equal(arr[1]!.GetValue<long>(), t[1]);
            }
            else Assert.Equal(expected.GetValue<string>(), payload);
        }
    }

    [Fact]
    public void PersistentLoaderReceivesEveryIdWithItsOffset()
    {
        var calls = new List<(object? Pid, long Offset)>();
        var u = NewUnpickler(persistentLoad: (pid, at) => { calls.Add((pid, at)); return $"loaded {calls.Count}"; });
        var root = Assert.IsType<PyDict>(LoadFile("persid_p2.pkl", u));
        Assert.Equal(2, calls.Count);
        var data = File.ReadAllBytes(Crafted("persid_p2.pkl"));
        Assert.All(calls, c => Assert.Equal((byte)PickleOpcode.BinPersId, data[c.Offset]));
        Assert.True(root.TryGetValue("a", out var a));
        Assert.Equal("loaded 1", a);
    }

    [Fact]
    public void OutOfBandBuffersAreReportedAsUnsupported()
    {
        var e = Assert.Throws<UnsupportedModelFeatureException>(() => LoadFile("oob_buffer_p5.pkl"));
        Assert.Equal(2, e.Offset);
        Assert.Equal("member.pkl", e.Entry);
        Assert.Contains("NEXT_BUFFER", e.Message);
    }

    [Fact]
    public void EveryTruncationAndByteFlipOfEveryFixtureFailsCleanly()
    {
        // Only the exception family may escape, whatever the damage; evil payloads stay inert when damaged too.
        // joblib dumps are not pickles (raw array bytes sit between their opcodes): only the scanner walks them.
        foreach (var file in Directory.GetFiles(TestPaths.Fixture("pytorch-crafted"), "*.pkl").Where(f => !Path.GetFileName(f).StartsWith("scan_joblib_", StringComparison.Ordinal)))
        {
            var original = File.ReadAllBytes(file);
            for (int i = 0; i < original.Length; i++)
            {
                var flipped = (byte[])original.Clone();
                flipped[i] ^= 0xA5;
                foreach (var bytes in new[] { original[..i], flipped })
                {
                    try { Load(bytes); }
                    catch (ModelFormatException) { }
                }
            }
        }
    }

    // --- payloads that would run code --------------------------------------------------------------------

    [Theory]
    [InlineData("evil_os_system_p0", "os.system")]
    [InlineData("evil_exec_stack_global_p4", "builtins.exec")]
    [InlineData("evil_getattr_p2", "builtins.getattr")]
    public void CodeRunningPayloadsStayInertAndTheirGlobalsAreRecorded(string name, string dangerous)
    {
        var expected = Expected(name + ".expected.json");
        string marker = expected["marker"]!.GetValue<string>();
        if (File.Exists(marker)) File.Delete(marker);

        var u = NewUnpickler();
        var value = LoadFile(name + ".pkl", u);

        Assert.False(File.Exists(marker), $"the payload ran: {marker} exists");
        // Every GLOBAL/STACK_GLOBAL reference and every call, at the offsets pickletools gives.
        foreach (var g in expected["globals"]!.AsArray())
        {
            string opcode = g!["opcode"]!.GetValue<string>();
            long offset = g["offset"]!.GetValue<long>();
            var record = Assert.Single(u.Globals, r => r.Offset == offset && r.IsCall == (opcode != "GLOBAL" && opcode != "STACK_GLOBAL"));
            Assert.Equal(opcode, PickleErrors.Name(record.Opcode).Split(' ')[0]);
            if (g["module"] is { } module)
                Assert.Equal(module.GetValue<string>() == "__builtin__" ? "builtins" : module.GetValue<string>(), record.Module); // Python 3's fix_imports
        }
        Assert.Contains(u.Globals, r => r.FullName == dangerous && !r.IsKnown && !r.IsCall);
        Assert.Contains(u.Globals, r => r.FullName == dangerous && r.IsCall);
        // The result is made of stubs that name what would have been called.
        Assert.Contains(dangerous, Describe(value));
    }

    private static string Describe(object? v, int depth = 0) => depth > 10 ? "" : v switch
    {
        PyObject o => o.TypeName + " " + Describe(o.Callable, depth + 1) + " " + string.Join(" ", o.Args.Items.Select(a => Describe(a, depth + 1))),
        PyGlobal g => g.FullName,
        PyTuple t => string.Join(" ", t.Items.Select(a => Describe(a, depth + 1))),
        _ => v?.ToString() ?? "None",
    };

    // --- errors: each names the offset of the opcode at fault ---------------------------------------------

    [Theory]
    [InlineData(new byte[] { 0x80, 0x02, 0xff, (byte)'.' }, 2, "unknown pickle opcode 0xff")]
    [InlineData(new byte[] { 0x80, 0x02, (byte)'X', 0x10, 0, 0, 0, (byte)'a', (byte)'b' }, 2, "needed 16 bytes")]
    [InlineData(new byte[] { 0x80, 0x02, (byte)'K', 1 }, 4, "without a STOP")]
    [InlineData(new byte[] { 0x80, 0x02, (byte)'h', 5, (byte)'.' }, 2, "memo has no entry 5")]
    [InlineData(new byte[] { 0x80, 0x02, (byte)'a', (byte)'.' }, 2, "needs more items")]
    [InlineData(new byte[] { (byte)'1', (byte)'.' }, 0, "no MARK")]
    [InlineData(new byte[] { 0x80, 0x06, (byte)'N', (byte)'.' }, 0, "unsupported pickle protocol 6")]
    [InlineData(new byte[] { 0x80, 0x02, 0x8b, 0xff, 0xff, 0xff, 0xff, (byte)'.' }, 2, "negative byte count")]
    [InlineData(new byte[] { 0x80, 0x04, (byte)'K', 1, (byte)'K', 2, 0x93, (byte)'.' }, 6, "two str")]
    [InlineData(new byte[] { 0x80, 0x02, (byte)']', (byte)'}', (byte)'b', (byte)'.' }, 4, "whose state can be set")]
    [InlineData(new byte[] { 0x80, 0x02, (byte)'(', (byte)'K', 1, (byte)'d', (byte)'.' }, 5, "odd number")]
    [InlineData(new byte[] { (byte)'I', (byte)'1', (byte)'x', (byte)'\n', (byte)'.' }, 0, "is not an integer")]
    [InlineData(new byte[] { (byte)'S', (byte)'a', (byte)'b', (byte)'\n', (byte)'.' }, 0, "must be quoted")]
    [InlineData(new byte[] { (byte)'p', (byte)'-', (byte)'1', (byte)'\n', (byte)'.' }, 0, "negative or oversized memo index")]
    [InlineData(new byte[] { (byte)'g', (byte)'1' }, 0, "no terminating newline")]
    public void CorruptPicklesFailWithTheOffsetOfTheOpcode(byte[] data, long offset, string message)
    {
        var e = Assert.Throws<InvalidModelContentException>(() => Load(data));
        Assert.Equal(offset, e.Offset);
        Assert.Equal("member.pkl", e.Entry);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void AHugeDeclaredLengthIsRejectedBeforeAnyAllocation()
    {
        // BINBYTES8 declaring 2^62 bytes in a 12-byte pickle.
        byte[] data = [0x80, 0x04, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40, (byte)'.'];
        var e = Assert.Throws<InvalidModelContentException>(() => Load(data));
        Assert.Equal(2, e.Offset);
        Assert.Contains("the file is truncated", e.Message);
    }

    [Fact]
    public void MemoSizeIsLimited()
    {
        byte[] data = [0x80, 0x02, (byte)'N', (byte)'q', 0, (byte)'q', 1, (byte)'q', 2, (byte)'.'];
        var e = Assert.Throws<ReaderLimitException>(() => Load(data, NewUnpickler(ReaderLimits.Default with { MaxPickleMemo = 2 })));
        Assert.Equal(nameof(ReaderLimits.MaxPickleMemo), e.Limit);
        Assert.Equal(7, e.Offset);
    }

    [Fact]
    public void MarkNestingIsLimited()
    {
        var data = Enumerable.Repeat((byte)'(', 10).Append((byte)'.').ToArray();
        var e = Assert.Throws<ReaderLimitException>(() => Load(data, NewUnpickler(ReaderLimits.Default with { MaxNestingDepth = 4 })));
        Assert.Equal(nameof(ReaderLimits.MaxNestingDepth), e.Limit);
        Assert.Equal(4, e.Offset);
    }

    [Fact]
    public void OpcodeCountIsLimited()
    {
        var data = Enumerable.Repeat((byte)'N', 100).Append((byte)'.').ToArray();
        var e = Assert.Throws<ReaderLimitException>(() => Load(data, NewUnpickler(ReaderLimits.Default with { MaxPickleOps = 50 })));
        Assert.Equal(nameof(ReaderLimits.MaxPickleOps), e.Limit);
        Assert.Equal(50, e.Offset);
    }

    [Fact]
    public void DeeplyNestedListsLoadWithoutRecursion()
    {
        // 200,000 lists each appended into the one below: the machine never recurses, so this cannot overflow the stack.
        const int n = 200_000;
        var data = new byte[2 * n + 1];
        for (int i = 0; i < n; i++) data[i] = (byte)']';
        for (int i = 0; i < n - 1; i++) data[n + i] = (byte)'a';
        data[2 * n - 1] = (byte)'.';
        var list = Assert.IsType<PyList>(Load(data[..(2 * n)]));
        int depth = 1;
        while (list.Count == 1) { list = Assert.IsType<PyList>(list[0]); depth++; }
        Assert.Equal(n, depth);
    }

    [Fact]
    public void LoadStopsAtStopAndReportsTheBytesUsed()
    {
        // Two pickles back to back (as in the legacy format): each load consumes exactly its own bytes.
        byte[] data = [0x80, 0x02, (byte)'K', 7, (byte)'.', 0x80, 0x02, (byte)'K', 8, (byte)'.'];
        var u = NewUnpickler();
        Assert.Equal(7L, u.Load(data, 0, out int used));
        Assert.Equal(5, used);
        Assert.Equal(8L, u.Load(data.AsSpan(used), used, out _));
    }

    [Fact]
    public void UnknownGlobalsBecomeStubsThatKeepClassArgumentsAndState()
    {
        // GLOBAL mymod.Config, EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, 'lr', 0.5, SETITEM, BUILD, STOP
        byte[] data = [0x80, 0x02, .. "cmymod\nConfig\n)"u8, 0x81, .. "}X"u8, 2, 0, 0, 0, .. "lrG"u8, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0, .. "sb."u8];
        var u = NewUnpickler();
        var o = Assert.IsType<PyObject>(Load(data, u));
        Assert.Equal("mymod.Config", o.TypeName);
        Assert.Equal(PickleOpcode.NewObj, o.CreatedBy);
        Assert.True(o.StateDict!.TryGetValue("lr", out var lr));
        Assert.Equal(0.5, lr);
        Assert.Equal(2, u.Globals.Count);
        Assert.All(u.Globals, g => Assert.False(g.IsKnown));
    }
}
