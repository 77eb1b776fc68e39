using System.Buffers.Binary;
using System.Text;
using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.IO;

namespace WeightScope.Security;

/// <summary>
/// Walks one pickle's opcodes and lists the globals it names and what it does with them, without building any object:
/// the stack holds only what a scan needs — strings (STACK_GLOBAL's operands), small integers, booleans, None, tuples and
/// dicts of those (a joblib array wrapper's shape and dtype), globals, the results of calling a global, and "something
/// else" — and the memo maps indices to those, so <c>BINPUT</c>/<c>BINGET</c> tricks resolve as the pickle machine would
/// resolve them. Argument layouts follow CPython's <c>Lib/pickletools.py</c>.
/// <para>joblib dumps are not pure pickles: after the <c>BUILD</c> of each <c>NumpyArrayWrapper</c> joblib's unpickler
/// reads the array's raw bytes straight from the file (<see cref="JoblibArrays"/>), so the walk skips them the same way and
/// goes on with the opcodes after them; an object array is itself a nested pickle there, which is walked too.</para>
/// </summary>
internal sealed class PickleGlobalWalker(string source, ReaderLimits limits)
{
    private static readonly UTF8Encoding Utf8Lenient = new(false, false);
    private static readonly object Other = new();

    /// <summary>A global on the stack (an index into <see cref="Findings"/>).</summary>
    internal sealed record GlobalRef(int Index);

    /// <summary>What calling a global returned: the arguments it was called with and, once built, its state.</summary>
    internal sealed class CallResult(int index, object? args)
    {
        public int Index { get; } = index;
        public object? Args { get; } = args;
        public object? State { get; set; }

        /// <summary>The instance attributes, when this is a genuine joblib <c>NumpyArrayWrapper</c> instance (null otherwise).</summary>
        public DictValue? Wrapper { get; set; }
    }

    /// <summary>A bytes value: where it lies in the walked data, or its content when a call computed it (<c>_codecs.encode</c>).</summary>
    internal sealed record BytesValue(int Start, int Length, byte[]? Computed);

    /// <summary>An in-memory file over bytes (<c>io.BytesIO(b)</c>), as handed to a loader such as <c>torch.load</c>.</summary>
    internal sealed record FileLikeValue(BytesValue Bytes);

    /// <summary>A dict built by the pickle (EMPTY_DICT + SETITEM(S), or DICT), keys and values as the walk sees them.</summary>
    internal sealed class DictValue
    {
        public List<KeyValuePair<object?, object?>> Items { get; } = [];

        public object? this[string key] => Items.LastOrDefault(kv => kv.Key is string k && k == key).Value;

        public bool Has(string key) => Items.Any(kv => kv.Key is string k && k == key);

        /// <summary>Set when something the walk cannot read was merged in (the items are then not all there is).</summary>
        public bool Unknown { get; set; }
    }

    private readonly PickleErrors _errors = new("pickle-scan", source.Length == 0 ? null : source);

    /// <summary>Globals found, in order.</summary>
    public List<PickleGlobalFinding> Findings { get; } = [];

    /// <summary>Bytes the pickle hands to a loader of pickles (<c>pickle.loads</c>, <c>torch.load(io.BytesIO(…))</c>…), to be scanned in turn.</summary>
    public List<NestedContent> Nested { get; } = [];

    /// <summary>What the pickle evaluates to, as far as the walk models values (an integer, a tuple, a global…).</summary>
    public object? Result { get; private set; }

    private int _protocol;

    /// <summary>Walks the pickle at the start of <paramref name="data"/> through STOP; returns the bytes it used.</summary>
    /// <exception cref="ModelFormatException">Corrupt pickle or a limit crossed (findings so far are kept).</exception>
    public int Walk(ReadOnlySpan<byte> data, long baseOffset) => Walk(data, baseOffset, depth: 0);

    private long _walkBase;

    private int Walk(ReadOnlySpan<byte> data, long baseOffset, int depth)
    {
        _walkBase = baseOffset;
        var r = new SpanReader(data, baseOffset);
        var stack = new List<object?>();
        var marks = new List<List<object?>>();
        var memo = new Dictionary<long, object?>();
        _protocol = 0; // each pickle.load starts a new Unpickler; PROTO sets it (fix_imports applies below 3)
        _held = 0;
        long ops = 0;
        while (true)
        {
            long at = r.Offset;
            if (r.Remaining == 0) throw _errors.Invalid("pickle ends without a STOP opcode (the file is truncated)", at);
            if (++ops > limits.MaxPickleOps) throw _errors.Limit(nameof(ReaderLimits.MaxPickleOps), ops, limits.MaxPickleOps, at);
            // As the reader's unpickler bounds it: items under MARKs count too (10 MB of NONE is 10 M items).
            if (stack.Count + _held > limits.MaxPickleStack)
                throw _errors.Limit(nameof(ReaderLimits.MaxPickleStack), stack.Count + _held, limits.MaxPickleStack, at);
            var op = (PickleOpcode)r.ReadByte();
            switch (op)
            {
                // Integers are kept when they fit a long (a joblib array's shape); other values whose content a scan never
                // needs are skipped, with a placeholder pushed.
                case PickleOpcode.Int: case PickleOpcode.Long: stack.Add(TextInteger(Line(ref r, op, at))); break;
                case PickleOpcode.Float: Line(ref r, op, at); stack.Add(Other); break;
                case PickleOpcode.BinInt: stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(ref r, 4, op, at))); break;
                case PickleOpcode.BinInt1: stack.Add((long)Take(ref r, 1, op, at)[0]); break;
                case PickleOpcode.BinInt2: stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(ref r, 2, op, at))); break;
                case PickleOpcode.BinFloat: Take(ref r, 8, op, at); stack.Add(Other); break;
                case PickleOpcode.Long1: stack.Add(Long1(Take(ref r, Take(ref r, 1, op, at)[0], op, at))); break;
                case PickleOpcode.Long4: Take(ref r, Signed(BinaryPrimitives.ReadInt32LittleEndian(Take(ref r, 4, op, at)), op, at), op, at); stack.Add(Other); break;
                // Bytes are kept as where they lie: pickle.loads(b) or torch.load(io.BytesIO(b)) makes them a nested pickle.
                case PickleOpcode.BinBytes: stack.Add(Bytes(ref r, Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(ref r, 4, op, at)), ref r, op, at), op, at)); break;
                case PickleOpcode.ShortBinBytes: stack.Add(Bytes(ref r, Take(ref r, 1, op, at)[0], op, at)); break;
                case PickleOpcode.BinBytes8: case PickleOpcode.ByteArray8:
                    stack.Add(Bytes(ref r, Length(BinaryPrimitives.ReadUInt64LittleEndian(Take(ref r, 8, op, at)), ref r, op, at), op, at)); break;
                case PickleOpcode.NextBuffer: stack.Add(Other); break; // out-of-band data is not in the file; nothing to see
                case PickleOpcode.ReadOnlyBuffer: Top(stack, op, at); break;
                case PickleOpcode.None: stack.Add(null); break;
                case PickleOpcode.NewTrue: stack.Add(true); break;
                case PickleOpcode.NewFalse: stack.Add(false); break;
                case PickleOpcode.EmptyTuple: stack.Add(Array.Empty<object?>()); break;
                case PickleOpcode.EmptyDict: stack.Add(new DictValue()); break;
                case PickleOpcode.EmptyList: case PickleOpcode.EmptySet: stack.Add(Other); break;

                // Strings are kept: STACK_GLOBAL takes its module and name from them. Python 2 strings decode as torch.load does.
                case PickleOpcode.String:
                    {
                        var line = Line(ref r, op, at);
                        if (line.Length < 2 || line[0] != line[^1] || (line[0] != (byte)'\'' && line[0] != (byte)'"'))
                            throw _errors.Invalid("the STRING opcode argument must be quoted", at);
                        stack.Add(Py2(PickleText.EscapeDecode(line[1..^1])));
                        break;
                    }
                case PickleOpcode.BinString: stack.Add(Py2(Take(ref r, Signed(BinaryPrimitives.ReadInt32LittleEndian(Take(ref r, 4, op, at)), op, at), op, at).ToArray())); break;
                case PickleOpcode.ShortBinString: stack.Add(Py2(Take(ref r, Take(ref r, 1, op, at)[0], op, at).ToArray())); break;
                case PickleOpcode.Unicode: stack.Add(PickleText.RawUnicodeEscapeDecode(Line(ref r, op, at))); break;
                case PickleOpcode.ShortBinUnicode: stack.Add(Utf8Lenient.GetString(Take(ref r, Take(ref r, 1, op, at)[0], op, at))); break;
                case PickleOpcode.BinUnicode: stack.Add(Utf8Lenient.GetString(Take(ref r, Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(ref r, 4, op, at)), ref r, op, at), op, at))); break;
                case PickleOpcode.BinUnicode8: stack.Add(Utf8Lenient.GetString(Take(ref r, Length(BinaryPrimitives.ReadUInt64LittleEndian(Take(ref r, 8, op, at)), ref r, op, at), op, at))); break;

                // Containers: tuples and dicts keep their items (a joblib wrapper's state and a dtype's arguments are read
                // from them); lists and sets are never read back without a call (which is recorded), so they are placeholders.
                case PickleOpcode.Append: Pop(stack, op, at); Top(stack, op, at); break;
                case PickleOpcode.Appends: case PickleOpcode.AddItems:
                    PopMark(ref stack, marks, op, at); Top(stack, op, at); break;
                case PickleOpcode.SetItems:
                    {
                        var items = PopMark(ref stack, marks, op, at);
                        if (Top(stack, op, at) is DictValue d) AddPairs(d, items, op, at);
                        break;
                    }
                case PickleOpcode.Dict:
                    {
                        var d = new DictValue();
                        AddPairs(d, PopMark(ref stack, marks, op, at), op, at);
                        stack.Add(d);
                        break;
                    }
                case PickleOpcode.List: case PickleOpcode.FrozenSet: PopMark(ref stack, marks, op, at); stack.Add(Other); break;
                case PickleOpcode.Tuple:
                    {
                        var items = PopMark(ref stack, marks, op, at).ToArray(); // before stack.Add: PopMark replaces `stack`
                        stack.Add(items);
                        break;
                    }
                case PickleOpcode.Tuple1: stack.Add(PopTuple(stack, 1, op, at)); break;
                case PickleOpcode.Tuple2: stack.Add(PopTuple(stack, 2, op, at)); break;
                case PickleOpcode.Tuple3: stack.Add(PopTuple(stack, 3, op, at)); break;
                case PickleOpcode.SetItem:
                    {
                        var value = Pop(stack, op, at);
                        var key = Pop(stack, op, at);
                        if (Top(stack, op, at) is DictValue d) d.Items.Add(new(key, value));
                        break;
                    }

                case PickleOpcode.Pop:
                    if (stack.Count > 0) stack.RemoveAt(stack.Count - 1); else PopMark(ref stack, marks, op, at);
                    break;
                case PickleOpcode.Dup: stack.Add(Top(stack, op, at)); break;
                case PickleOpcode.Mark:
                    if (marks.Count >= limits.MaxNestingDepth)
                        throw _errors.Limit(nameof(ReaderLimits.MaxNestingDepth), marks.Count + 1, limits.MaxNestingDepth, at);
                    _held += stack.Count;
                    marks.Add(stack); stack = []; break;
                case PickleOpcode.PopMark: PopMark(ref stack, marks, op, at); break;

                // The memo: a module or name string stored with BINPUT and fetched with BINGET resolves like any other.
                case PickleOpcode.Get: stack.Add(MemoGet(memo, Index(Line(ref r, op, at), op, at), op, at)); break;
                case PickleOpcode.BinGet: stack.Add(MemoGet(memo, Take(ref r, 1, op, at)[0], op, at)); break;
                case PickleOpcode.LongBinGet: stack.Add(MemoGet(memo, BinaryPrimitives.ReadUInt32LittleEndian(Take(ref r, 4, op, at)), op, at)); break;
                case PickleOpcode.Put: MemoPut(memo, Index(Line(ref r, op, at), op, at), stack, op, at); break;
                case PickleOpcode.BinPut: MemoPut(memo, Take(ref r, 1, op, at)[0], stack, op, at); break;
                case PickleOpcode.LongBinPut: MemoPut(memo, BinaryPrimitives.ReadUInt32LittleEndian(Take(ref r, 4, op, at)), stack, op, at); break;
                case PickleOpcode.Memoize: MemoPut(memo, memo.Count, stack, op, at); break;

                case PickleOpcode.Ext1: stack.Add(Name("copyreg._extension_registry", Take(ref r, 1, op, at)[0].ToString(), "EXT1", at)); break;
                case PickleOpcode.Ext2: stack.Add(Name("copyreg._extension_registry", BinaryPrimitives.ReadUInt16LittleEndian(Take(ref r, 2, op, at)).ToString(), "EXT2", at)); break;
                case PickleOpcode.Ext4: stack.Add(Name("copyreg._extension_registry", BinaryPrimitives.ReadInt32LittleEndian(Take(ref r, 4, op, at)).ToString(), "EXT4", at)); break;

                case PickleOpcode.Global:
                    {
                        string module = Utf8Lenient.GetString(Line(ref r, op, at));
                        string name = Utf8Lenient.GetString(Line(ref r, op, at));
                        stack.Add(Name(module, name, "GLOBAL", at));
                        break;
                    }
                case PickleOpcode.StackGlobal:
                    {
                        var name = Pop(stack, op, at);
                        var module = Pop(stack, op, at);
                        // An operand that is not a string the walk can see (the result of a call, say) names a global
                        // only known at load time: that alone is dangerous.
                        stack.Add(module is string m && name is string n ? Name(m, n, "STACK_GLOBAL", at) : Computed(module, name, at));
                        break;
                    }
                case PickleOpcode.Inst:
                    {
                        string module = Utf8Lenient.GetString(Line(ref r, op, at));
                        string name = Utf8Lenient.GetString(Line(ref r, op, at));
                        var g = (GlobalRef)Name(module, name, "INST", at);
                        var args = PopMark(ref stack, marks, op, at).ToArray();
                        stack.Add(Use(g, "INST", at, args));
                        break;
                    }
                case PickleOpcode.Reduce: case PickleOpcode.NewObj:
                    {
                        var args = Pop(stack, op, at);
                        var callee = Pop(stack, op, at);
                        var result = Use(callee, PickleErrors.Name(op).Split(' ')[0], at, args);
                        if (op == PickleOpcode.Reduce && callee is GlobalRef g) result = Call(Findings[g.Index], result, args, data, at);
                        stack.Add(result);
                        break;
                    }
                case PickleOpcode.NewObjEx:
                    Pop(stack, op, at); Pop(stack, op, at);
                    stack.Add(Use(Pop(stack, op, at), "NEWOBJ_EX", at));
                    break;
                case PickleOpcode.Obj:
                    {
                        var items = PopMark(ref stack, marks, op, at);
                        if (items.Count == 0) throw _errors.Underflow(op, at);
                        stack.Add(Use(items[0], "OBJ", at, items.Skip(1).ToArray()));
                        break;
                    }
                case PickleOpcode.Build:
                    {
                        var state = Pop(stack, op, at);
                        var built = Top(stack, op, at);
                        Use(built, "BUILD", at);
                        if (built is CallResult c)
                        {
                            c.State = state;
                            // joblib's NumpyUnpickler.load_build: after the BUILD of a genuine wrapper instance, joblib reads
                            // the array from the file and puts it where the wrapper was.
                            if (c.Wrapper is { } attributes)
                            {
                                JoblibArrays.SetState(attributes, state);
                                SkipJoblibArray(ref r, data, attributes, depth, at);
                                stack[^1] = Other;
                            }
                        }
                        break;
                    }

                case PickleOpcode.Proto:
                    _protocol = Take(ref r, 1, op, at)[0];
                    if (_protocol > Unpickler.HighestProtocol) throw _errors.Invalid($"unsupported pickle protocol {_protocol}", at);
                    break;
                case PickleOpcode.Frame:
                    {
                        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(Take(ref r, 8, op, at));
                        if (size > (ulong)r.Remaining) throw _errors.Truncated(op, at, size > long.MaxValue ? long.MaxValue : (long)size, r.Remaining);
                        break;
                    }
                case PickleOpcode.PersId: Line(ref r, op, at); stack.Add(Other); break;
                case PickleOpcode.BinPersId: Pop(stack, op, at); stack.Add(Other); break;
                case PickleOpcode.Stop:
                    if (depth == 0) Result = Pop(stack, op, at); else Pop(stack, op, at);
                    return r.Position;
                default:
                    throw _errors.UnknownOpcode((byte)op, at);
            }
        }
    }

    // --- globals ------------------------------------------------------------------------------------------

    private object Name(string module, string name, string opcode, long at)
    {
        var (m, n) = PythonCompatNames.Resolve(module, name, _protocol);
        var (verdict, reason) = GlobalClassifier.ClassifyResolved(m, n);
        string? importedAs = m == module && n == name ? null : $"{m}.{n}";
        Findings.Add(new PickleGlobalFinding(module, name, opcode, at, source, verdict, reason, [], importedAs));
        return new GlobalRef(Findings.Count - 1);
    }

    private GlobalRef Computed(object? module, object? name, long at)
    {
        Findings.Add(new PickleGlobalFinding(module as string ?? "<computed>", name as string ?? "<computed>", "STACK_GLOBAL", at, source,
                                             ScanVerdict.Dangerous, "the module or name is not a constant string: the global is only known when the pickle runs", []));
        return new GlobalRef(Findings.Count - 1);
    }

    // Records a call or build of a global (or of what calling one returned) and returns the symbolic result.
    private object Use(object? callee, string opcode, long at, object? args = null)
    {
        switch (callee)
        {
            case GlobalRef g:
                Findings[g.Index].Uses.Add(new GlobalUse(opcode, at));
                return new CallResult(g.Index, args) { Wrapper = JoblibArrays.NewInstance(Findings, g.Index, opcode, args) };
            case CallResult c:
                Findings[c.Index].Uses.Add(new GlobalUse(opcode == "BUILD" ? opcode : opcode + " result", at));
                return c;
            default:
                return Other;
        }
    }

    // --- nested pickles -------------------------------------------------------------------------------------

    private object Bytes(ref SpanReader r, int length, PickleOpcode op, long at)
    {
        int start = r.Position;
        Take(ref r, length, op, at);
        return new BytesValue(start, length, null);
    }

    // What a call of a global returns, where the walk needs it: bytes made from a string (protocols 0-2 pickle bytes as
    // _codecs.encode(str, 'latin1')), a BytesIO over bytes, and — for a loader of pickles given bytes — the bytes, kept
    // as nested content to scan.
    private object Call(PickleGlobalFinding callee, object result, object? args, ReadOnlySpan<byte> data, long at)
    {
        var a = args as object?[] ?? [];
        string name = callee.ResolvedName;
        switch (name)
        {
            case "_codecs.encode" or "codecs.encode" when a is [string text, string encoding]:
                return EncodeString(text, encoding) is { } encoded ? new BytesValue(0, encoded.Length, encoded) : result;
            case "builtins.bytearray" or "builtins.bytes" when a is [BytesValue b]:
                return b;
            case "io.BytesIO" or "_io.BytesIO" when a is [BytesValue b]:
                return new FileLikeValue(b);
        }
        if (!NestedLoaders.Contains(name)) return result;
        foreach (var arg in a)
        {
            var bytes = arg switch { BytesValue b => b, FileLikeValue f => f.Bytes, _ => null };
            if (bytes is null) continue;
            if (bytes.Length > limits.MaxHeaderBytes)
                throw _errors.Limit(nameof(ReaderLimits.MaxHeaderBytes), bytes.Length, limits.MaxHeaderBytes, at);
            var content = bytes.Computed ?? data.Slice(bytes.Start, bytes.Length).ToArray();
            long offset = bytes.Computed is null ? _walkBase + bytes.Start : 0;
            Nested.Add(new NestedContent($"{name}(…) at {at}", content, offset, bytes.Computed is null));
        }
        return result;

    }

    // Python's str.encode for the encodings pickle and hand-written payloads use; null for anything else (Python would
    // raise for a character the encoding lacks, and nothing is loaded then).
    private static byte[]? EncodeString(string text, string encoding)
    {
        switch (encoding.ToLowerInvariant().Replace('_', '-'))
        {
            case "latin1" or "latin-1" or "iso-8859-1" or "l1":
                foreach (char ch in text) if (ch > 0xFF) return null;
                return Encoding.Latin1.GetBytes(text);
            case "utf-8" or "utf8":
                return Encoding.UTF8.GetBytes(text);
            case "ascii":
                foreach (char ch in text) if (ch > 0x7F) return null;
                return Encoding.ASCII.GetBytes(text);
            default:
                return null;
        }
    }

    // Callables that unpickle bytes (or an in-memory file of them) given as an argument: what they load is scanned too.
    private static readonly HashSet<string> NestedLoaders = new(StringComparer.Ordinal)
    {
        "pickle.loads", "pickle._loads", "_pickle.loads", "pickle.load", "pickle._load", "_pickle.load",
        "dill.loads", "dill._dill.loads", "dill.load", "cloudpickle.loads", "cloudpickle.load",
        "joblib.externals.cloudpickle.loads", "joblib.externals.cloudpickle.load",
        "numpy.loads", "numpy.core.numeric.loads", "numpy.load", "numpy.lib.npyio.load",
        "lib2to3.pgen2.grammar.Grammar.loads", "torch.storage._load_from_bytes", "torch.load", "torch.serialization.load",
        "joblib.load", "joblib.numpy_pickle.load", "pandas.read_pickle", "pandas.io.pickle.read_pickle",
    };

    // --- joblib -------------------------------------------------------------------------------------------

    // joblib's NumpyUnpickler.load_build: right after the wrapper's BUILD come the array's bytes (an alignment byte and its
    // padding first, when the wrapper has numpy_array_alignment_bytes), or for an object array a nested pickle.
    private void SkipJoblibArray(ref SpanReader r, ReadOnlySpan<byte> data, DictValue wrapper, int depth, long at)
    {
        var array = JoblibArrays.Describe(wrapper, Findings) ?? throw _errors.Invalid(
            "the state of a joblib NumpyArrayWrapper (shape, dtype) could not be read, so the array bytes that follow it cannot be skipped", at);
        if (array.HasObjects)
        {
            if (depth + 1 >= limits.MaxNestingDepth)
                throw _errors.Limit(nameof(ReaderLimits.MaxNestingDepth), depth + 1, limits.MaxNestingDepth, r.Offset);
            (int outer, long outerBase, long outerHeld) = (_protocol, _walkBase, _held); // the nested pickle.load has its own protocol and stack
            r.Position += Walk(data[r.Position..], r.Offset, depth + 1);
            (_protocol, _walkBase, _held) = (outer, outerBase, outerHeld);
            return;
        }
        if (array.Aligned)
        {
            int padding = Take(ref r, 1, PickleOpcode.Build, at)[0];
            Take(ref r, padding, PickleOpcode.Build, at);
        }
        if (array.ByteCount > r.Remaining)
            throw _errors.Invalid($"a joblib array of {array.ByteCount} bytes (shape ({string.Join(", ", array.Shape)}), {array.ItemSize}-byte items) " +
                                  $"runs past the end of the file ({r.Remaining} bytes left)", r.Offset);
        r.Position += (int)array.ByteCount;
    }

    // --- values -------------------------------------------------------------------------------------------

    // Protocol 0 INT/LONG: "00"/"01" are False/True; anything that is not a long (or is malformed) is a placeholder, as
    // before values were kept: Python would refuse a malformed one, but a scan lists what it can.
    private static object? TextInteger(ReadOnlySpan<byte> line)
    {
        if (line.SequenceEqual("00"u8)) return false;
        if (line.SequenceEqual("01"u8)) return true;
        if (line.Length > 0 && line[^1] == (byte)'L') line = line[..^1];
        return long.TryParse(line, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long v) ? v : Other;
    }

    // LONG1: little-endian two's complement, kept when it fits a long.
    private static object Long1(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 8) return Other;
        if (bytes.Length == 0) return 0L;
        long v = (sbyte)bytes[^1];
        for (int i = bytes.Length - 2; i >= 0; i--) v = (v << 8) | bytes[i];
        return v;
    }

    private object?[] PopTuple(List<object?> stack, int n, PickleOpcode op, long at)
    {
        var items = new object?[n];
        for (int i = n - 1; i >= 0; i--) items[i] = Pop(stack, op, at);
        return items;
    }

    private void AddPairs(DictValue d, List<object?> items, PickleOpcode op, long at)
    {
        if (items.Count % 2 != 0) throw _errors.Invalid($"{PickleErrors.Name(op)} has an odd number of items ({items.Count}) after its MARK", at);
        for (int i = 0; i < items.Count; i += 2) d.Items.Add(new(items[i], items[i + 1]));
    }

    // --- machine --------------------------------------------------------------------------------------------

    private static object Py2(byte[] bytes) => PickleText.DecodePython2String(bytes) is string s ? s : Other;

    private object? Pop(List<object?> stack, PickleOpcode op, long at)
    {
        if (stack.Count == 0) throw _errors.Underflow(op, at);
        var v = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return v;
    }

    private object? Top(List<object?> stack, PickleOpcode op, long at) => stack.Count == 0 ? throw _errors.Underflow(op, at) : stack[^1];

    // Items held in the lists under the MARKs of the pickle being walked (what MaxPickleStack counts with the stack).
    private long _held;

    private List<object?> PopMark(ref List<object?> stack, List<List<object?>> marks, PickleOpcode op, long at)
    {
        if (marks.Count == 0) throw _errors.Invalid($"{PickleErrors.Name(op)} found no MARK on the stack (corrupt pickle)", at);
        var items = stack;
        stack = marks[^1];
        marks.RemoveAt(marks.Count - 1);
        _held -= stack.Count;
        return items;
    }

    private object? MemoGet(Dictionary<long, object?> memo, long index, PickleOpcode op, long at) =>
        memo.TryGetValue(index, out var v) ? v : throw _errors.Invalid($"{PickleErrors.Name(op)}: the memo has no entry {index}", at);

    private void MemoPut(Dictionary<long, object?> memo, long index, List<object?> stack, PickleOpcode op, long at)
    {
        memo[index] = Top(stack, op, at);
        if (memo.Count > limits.MaxPickleMemo) throw _errors.Limit(nameof(ReaderLimits.MaxPickleMemo), memo.Count, limits.MaxPickleMemo, at);
    }

    private long Index(ReadOnlySpan<byte> line, PickleOpcode op, long at) => PickleText.ParseInteger(line, op, at, _errors) switch
    {
        long l when l >= 0 => l,
        var v => throw _errors.Invalid($"{PickleErrors.Name(op)} has a negative or oversized memo index {v}", at),
    };

    private int Signed(int n, PickleOpcode op, long at) =>
        n >= 0 ? n : throw _errors.Invalid($"{PickleErrors.Name(op)} has a negative byte count {n}", at);

    private ReadOnlySpan<byte> Take(ref SpanReader r, int n, PickleOpcode op, long at) => PickleArguments.Take(ref r, n, op, at, _errors);

    private int Length(ulong declared, ref SpanReader r, PickleOpcode op, long at) => PickleArguments.Length(declared, ref r, op, at, _errors);

    private ReadOnlySpan<byte> Line(ref SpanReader r, PickleOpcode op, long at) => PickleArguments.Line(ref r, op, at, _errors);
}

/// <summary>Bytes a pickle hands to a loader of pickles, found by <see cref="PickleGlobalWalker"/>.</summary>
/// <param name="Via">The loader and the offset of the call, e.g. <c>pickle.loads(…) at 812</c>.</param>
/// <param name="Content">The bytes.</param>
/// <param name="Offset">Where they start in the walked source, when they lie there as they are (else 0).</param>
/// <param name="InSource">True when the bytes lie in the source as they are (offsets then add up); false when a call computed them.</param>
internal sealed record NestedContent(string Via, byte[] Content, long Offset, bool InSource);
