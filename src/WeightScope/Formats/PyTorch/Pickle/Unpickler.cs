using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using WeightScope.IO;

namespace WeightScope.Formats.PyTorch.Pickle;

/// <summary>
/// A restricted unpickler: the pickle virtual machine of CPython's <c>Lib/pickle.py</c> (<c>_Unpickler.load</c>),
/// protocols 0–5, building only inert values (<see cref="PyTuple"/>, <see cref="PyDict"/>, <see cref="PyObject"/>…).
/// Globals resolve against a <see cref="PickleResolver"/> allow-list whose entries are interpreted in C#; nothing from
/// the file is imported or called. Every global referenced or called is recorded in <see cref="Globals"/>.
/// </summary>
/// <remarks>
/// Every error names the offset of the opcode at fault. Limits: <see cref="ReaderLimits.MaxPickleOps"/> opcodes,
/// <see cref="ReaderLimits.MaxPickleMemo"/> memo entries, <see cref="ReaderLimits.MaxPickleStack"/> stack items,
/// <see cref="ReaderLimits.MaxNestingDepth"/> nested marks;
/// lengths are checked against the bytes that remain before anything is allocated.
/// </remarks>
internal sealed class Unpickler
{
    /// <summary>The highest protocol CPython writes (3.8+).</summary>
    public const int HighestProtocol = 5;

    private static readonly UTF8Encoding Utf8Lenient = new(false, false);

    // Python 2 module names that Python 3 maps when reading protocols 0–2 (Lib/_compat_pickle.py, the ones pickles use).
    private static readonly Dictionary<string, string> Python2Modules = new(StringComparer.Ordinal)
    {
        ["__builtin__"] = "builtins",
        ["copy_reg"] = "copyreg",
        ["exceptions"] = "builtins",
        ["cPickle"] = "pickle",
        ["UserDict"] = "collections",
        ["UserList"] = "collections",
    };

    private readonly PickleResolver _resolver;
    private readonly ReaderLimits _limits;
    private readonly Func<object?, long, object?>? _persistentLoad;

    /// <summary>Creates an unpickler.</summary>
    /// <param name="resolver">The allow-list.</param>
    /// <param name="limits">Safety limits.</param>
    /// <param name="errors">Message factory (format and archive member for every error).</param>
    /// <param name="persistentLoad">
    /// Resolves persistent ids (PERSID/BINPERSID) given the id and the opcode's offset; null keeps them as
    /// <see cref="PyPersistentId"/>.
    /// </param>
    public Unpickler(PickleResolver resolver, ReaderLimits limits, PickleErrors errors, Func<object?, long, object?>? persistentLoad = null)
    {
        _resolver = resolver;
        _limits = limits;
        Errors = errors;
        _persistentLoad = persistentLoad;
    }

    /// <summary>Message factory in use.</summary>
    public PickleErrors Errors { get; }

    /// <summary>Every global referenced (GLOBAL, STACK_GLOBAL, INST, EXTn) and every call of one, in pickle order.</summary>
    public List<GlobalReference> Globals { get; } = [];

    /// <summary>Called with every opcode before it runs (tests use it to check opcode coverage).</summary>
    public Action<PickleOpcode, long>? Trace { get; set; }

    /// <summary>Protocol announced by the last PROTO opcode (0 when there was none).</summary>
    public int Protocol { get; private set; }

    private sealed class Machine
    {
        public List<object?> Stack = [];
        public readonly List<List<object?>> MetaStack = [];
        public long Held; // items in the lists of MetaStack: with Stack's, what MaxPickleStack bounds
        public readonly Dictionary<long, object?> Memo = [];
    }

    /// <summary>Runs one pickle (up to and including STOP) and returns its value.</summary>
    /// <param name="data">The bytes, starting at the pickle's first opcode; bytes after STOP are left alone.</param>
    /// <param name="baseOffset">Offset of <paramref name="data"/>[0] in the file or member, for messages.</param>
    /// <param name="consumed">Bytes used, through STOP.</param>
    /// <exception cref="ModelFormatException">Corrupt pickle, unsupported feature, or a limit crossed.</exception>
    public object? Load(ReadOnlySpan<byte> data, long baseOffset, out int consumed)
    {
        var r = new SpanReader(data, baseOffset);
        var m = new Machine();
        long ops = 0;
        while (true)
        {
            long at = r.Offset;
            if (r.Remaining == 0) throw Errors.Invalid("pickle ends without a STOP opcode (the file is truncated)", at);
            if (++ops > _limits.MaxPickleOps) throw Errors.Limit(nameof(ReaderLimits.MaxPickleOps), ops, _limits.MaxPickleOps, at);
            // Checked before each opcode, so the offset is that of the first opcode met with the stack over the limit.
            if (m.Stack.Count + m.Held > _limits.MaxPickleStack)
                throw Errors.Limit(nameof(ReaderLimits.MaxPickleStack), m.Stack.Count + m.Held, _limits.MaxPickleStack, at);
            var op = (PickleOpcode)r.ReadByte();
            Trace?.Invoke(op, at);
            switch (op)
            {
                // --- integers
                case PickleOpcode.Int: // 'I' INT
                    {
                        var line = Line(ref r, op, at);
                        if (line.SequenceEqual("00"u8)) Push(m, false);
                        else if (line.SequenceEqual("01"u8)) Push(m, true);
                        else Push(m, PickleText.ParseInteger(line, op, at, Errors));
                        break;
                    }
                case PickleOpcode.BinInt: // 'J' BININT
                    Push(m, (long)BinaryPrimitives.ReadInt32LittleEndian(Take(ref r, 4, op, at)));
                    break;
                case PickleOpcode.BinInt1: // 'K' BININT1
                    Push(m, (long)Take(ref r, 1, op, at)[0]);
                    break;
                case PickleOpcode.BinInt2: // 'M' BININT2
                    Push(m, (long)BinaryPrimitives.ReadUInt16LittleEndian(Take(ref r, 2, op, at)));
                    break;
                case PickleOpcode.Long: // 'L' LONG
                    {
                        var line = Line(ref r, op, at);
                        if (line.Length > 0 && line[^1] == (byte)'L') line = line[..^1];
                        Push(m, PickleText.ParseInteger(line, op, at, Errors));
                        break;
                    }
                case PickleOpcode.Long1: // 0x8a LONG1
                    {
                        int n = Take(ref r, 1, op, at)[0];
                        Push(m, PickleText.DecodeLong(Take(ref r, n, op, at)));
                        break;
                    }
                case PickleOpcode.Long4: // 0x8b LONG4
                    {
                        int n = BinaryPrimitives.ReadInt32LittleEndian(Take(ref r, 4, op, at));
                        if (n < 0) throw Errors.Invalid($"LONG4 has a negative byte count {n}", at);
                        Push(m, PickleText.DecodeLong(Take(ref r, n, op, at)));
                        break;
                    }

                // --- strings and bytes
                case PickleOpcode.String: // 'S' STRING
                    {
                        var line = Line(ref r, op, at);
                        if (line.Length < 2 || line[0] != line[^1] || (line[0] != (byte)'\'' && line[0] != (byte)'"'))
                            throw Errors.Invalid("the STRING opcode argument must be quoted", at);
                        Push(m, PickleText.DecodePython2String(PickleText.EscapeDecode(line[1..^1])));
                        break;
                    }
                case PickleOpcode.BinString: // 'T' BINSTRING
                    {
                        int n = BinaryPrimitives.ReadInt32LittleEndian(Take(ref r, 4, op, at));
                        if (n < 0) throw Errors.Invalid($"BINSTRING has a negative byte count {n}", at);
                        Push(m, PickleText.DecodePython2String(Take(ref r, n, op, at).ToArray()));
                        break;
                    }
                case PickleOpcode.ShortBinString: // 'U' SHORT_BINSTRING
                    {
                        int n = Take(ref r, 1, op, at)[0];
                        Push(m, PickleText.DecodePython2String(Take(ref r, n, op, at).ToArray()));
                        break;
                    }
                case PickleOpcode.BinBytes: // 'B' BINBYTES
                    Push(m, Take(ref r, Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(ref r, 4, op, at)), ref r, op, at), op, at).ToArray());
                    break;
                case PickleOpcode.ShortBinBytes: // 'C' SHORT_BINBYTES
                    Push(m, Take(ref r, Take(ref r, 1, op, at)[0], op, at).ToArray());
                    break;
                case PickleOpcode.BinBytes8: // 0x8e BINBYTES8
                    Push(m, Take(ref r, Length(BinaryPrimitives.ReadUInt64LittleEndian(Take(ref r, 8, op, at)), ref r, op, at), op, at).ToArray());
                    break;
                case PickleOpcode.ByteArray8: // 0x96 BYTEARRAY8
                    Push(m, Take(ref r, Length(BinaryPrimitives.ReadUInt64LittleEndian(Take(ref r, 8, op, at)), ref r, op, at), op, at).ToArray());
                    break;
                case PickleOpcode.NextBuffer: // 0x97 NEXT_BUFFER
                    throw Errors.Unsupported("out-of-band pickle buffers (protocol 5 NEXT_BUFFER): the data was written with a " +
                                             "buffer_callback and is not inside this pickle", at);
                case PickleOpcode.ReadOnlyBuffer: // 0x98 READONLY_BUFFER
                    Top(m, op, at); // a bytes-like value stays what it is; read-only changes nothing here
                    break;

                // --- constants
                case PickleOpcode.None: // 'N' NONE
                    Push(m, null);
                    break;
                case PickleOpcode.NewTrue: // 0x88 NEWTRUE
                    Push(m, true);
                    break;
                case PickleOpcode.NewFalse: // 0x89 NEWFALSE
                    Push(m, false);
                    break;

                // --- unicode
                case PickleOpcode.Unicode: // 'V' UNICODE
                    Push(m, PickleText.RawUnicodeEscapeDecode(Line(ref r, op, at)));
                    break;
                case PickleOpcode.ShortBinUnicode: // 0x8c SHORT_BINUNICODE
                    Push(m, Utf8Lenient.GetString(Take(ref r, Take(ref r, 1, op, at)[0], op, at)));
                    break;
                case PickleOpcode.BinUnicode: // 'X' BINUNICODE
                    Push(m, Utf8Lenient.GetString(Take(ref r, Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(ref r, 4, op, at)), ref r, op, at), op, at)));
                    break;
                case PickleOpcode.BinUnicode8: // 0x8d BINUNICODE8
                    Push(m, Utf8Lenient.GetString(Take(ref r, Length(BinaryPrimitives.ReadUInt64LittleEndian(Take(ref r, 8, op, at)), ref r, op, at), op, at)));
                    break;

                // --- floats
                case PickleOpcode.Float: // 'F' FLOAT
                    Push(m, PickleText.ParseFloat(Line(ref r, op, at), op, at, Errors));
                    break;
                case PickleOpcode.BinFloat: // 'G' BINFLOAT (big-endian, unlike every other binary argument)
                    Push(m, BinaryPrimitives.ReadDoubleBigEndian(Take(ref r, 8, op, at)));
                    break;

                // --- lists
                case PickleOpcode.EmptyList: // ']' EMPTY_LIST
                    Push(m, new PyList());
                    break;
                case PickleOpcode.Append: // 'a' APPEND
                    {
                        var value = Pop(m, op, at);
                        AppendTo(Top(m, op, at), [value], op, at);
                        break;
                    }
                case PickleOpcode.Appends: // 'e' APPENDS
                    {
                        var items = PopMark(m, op, at);
                        AppendTo(Top(m, op, at), items, op, at);
                        break;
                    }
                case PickleOpcode.List: // 'l' LIST
                    Push(m, new PyList(PopMark(m, op, at)));
                    break;

                // --- tuples
                case PickleOpcode.EmptyTuple: // ')' EMPTY_TUPLE
                    Push(m, PyTuple.Empty);
                    break;
                case PickleOpcode.Tuple: // 't' TUPLE
                    {
                        var items = PopMark(m, op, at);
                        Push(m, items.Count == 0 ? PyTuple.Empty : new PyTuple([.. items])); // () is one object in Python too
                        break;
                    }
                case PickleOpcode.Tuple1: // 0x85 TUPLE1
                    Push(m, new PyTuple([Pop(m, op, at)]));
                    break;
                case PickleOpcode.Tuple2: // 0x86 TUPLE2
                    {
                        var b = Pop(m, op, at);
                        var a = Pop(m, op, at);
                        Push(m, new PyTuple([a, b]));
                        break;
                    }
                case PickleOpcode.Tuple3: // 0x87 TUPLE3
                    {
                        var c = Pop(m, op, at);
                        var b = Pop(m, op, at);
                        var a = Pop(m, op, at);
                        Push(m, new PyTuple([a, b, c]));
                        break;
                    }

                // --- dicts
                case PickleOpcode.EmptyDict: // '}' EMPTY_DICT
                    Push(m, new PyDict());
                    break;
                case PickleOpcode.Dict: // 'd' DICT
                    {
                        var items = PopMark(m, op, at);
                        var d = new PyDict();
                        SetPairs(d, items, op, at);
                        Push(m, d);
                        break;
                    }
                case PickleOpcode.SetItem: // 's' SETITEM
                    {
                        var value = Pop(m, op, at);
                        var key = Pop(m, op, at);
                        SetPairs(Top(m, op, at), [key, value], op, at);
                        break;
                    }
                case PickleOpcode.SetItems: // 'u' SETITEMS
                    {
                        var items = PopMark(m, op, at);
                        SetPairs(Top(m, op, at), items, op, at);
                        break;
                    }

                // --- sets
                case PickleOpcode.EmptySet: // 0x8f EMPTY_SET
                    Push(m, new PySet(frozen: false));
                    break;
                case PickleOpcode.AddItems: // 0x90 ADDITEMS
                    {
                        var items = PopMark(m, op, at);
                        switch (Top(m, op, at))
                        {
                            case PySet { IsFrozen: false } set: foreach (var i in items) set.Add(i); break;
                            case PyObject o: foreach (var i in items) o.Append(i); break;
                            case var other: throw Errors.WrongOperand(op, "a set", other, at);
                        }
                        break;
                    }
                case PickleOpcode.FrozenSet: // 0x91 FROZENSET
                    {
                        var set = new PySet(frozen: true);
                        foreach (var i in PopMark(m, op, at)) set.Add(i);
                        Push(m, set);
                        break;
                    }

                // --- stack manipulation
                case PickleOpcode.Pop: // '0' POP
                    if (m.Stack.Count > 0) m.Stack.RemoveAt(m.Stack.Count - 1);
                    else PopMark(m, op, at);
                    break;
                case PickleOpcode.Dup: // '2' DUP
                    Push(m, Top(m, op, at));
                    break;
                case PickleOpcode.Mark: // '(' MARK
                    if (m.MetaStack.Count >= _limits.MaxNestingDepth)
                        throw Errors.Limit(nameof(ReaderLimits.MaxNestingDepth), m.MetaStack.Count + 1, _limits.MaxNestingDepth, at);
                    m.MetaStack.Add(m.Stack);
                    m.Held += m.Stack.Count;
                    m.Stack = [];
                    break;
                case PickleOpcode.PopMark: // '1' POP_MARK
                    PopMark(m, op, at);
                    break;

                // --- memo
                case PickleOpcode.Get: // 'g' GET
                    Push(m, MemoGet(m, ToIndex(PickleText.ParseInteger(Line(ref r, op, at), op, at, Errors), op, at), op, at));
                    break;
                case PickleOpcode.BinGet: // 'h' BINGET
                    Push(m, MemoGet(m, Take(ref r, 1, op, at)[0], op, at));
                    break;
                case PickleOpcode.LongBinGet: // 'j' LONG_BINGET
                    Push(m, MemoGet(m, BinaryPrimitives.ReadUInt32LittleEndian(Take(ref r, 4, op, at)), op, at));
                    break;
                case PickleOpcode.Put: // 'p' PUT
                    MemoPut(m, ToIndex(PickleText.ParseInteger(Line(ref r, op, at), op, at, Errors), op, at), op, at);
                    break;
                case PickleOpcode.BinPut: // 'q' BINPUT
                    MemoPut(m, Take(ref r, 1, op, at)[0], op, at);
                    break;
                case PickleOpcode.LongBinPut: // 'r' LONG_BINPUT
                    MemoPut(m, BinaryPrimitives.ReadUInt32LittleEndian(Take(ref r, 4, op, at)), op, at);
                    break;
                case PickleOpcode.Memoize: // 0x94 MEMOIZE
                    MemoPut(m, m.Memo.Count, op, at);
                    break;

                // --- extension registry: copyreg's registry is empty unless a program fills it, so these name
                // nothing we can know; they stay inert globals (and a scan sees them).
                case PickleOpcode.Ext1: // 0x82 EXT1
                    Push(m, Extension(Take(ref r, 1, op, at)[0], op, at));
                    break;
                case PickleOpcode.Ext2: // 0x83 EXT2
                    Push(m, Extension(BinaryPrimitives.ReadUInt16LittleEndian(Take(ref r, 2, op, at)), op, at));
                    break;
                case PickleOpcode.Ext4: // 0x84 EXT4
                    Push(m, Extension(BinaryPrimitives.ReadInt32LittleEndian(Take(ref r, 4, op, at)), op, at));
                    break;

                // --- globals and object building
                case PickleOpcode.Global: // 'c' GLOBAL
                    {
                        string module = Utf8Lenient.GetString(Line(ref r, op, at));
                        string name = Utf8Lenient.GetString(Line(ref r, op, at));
                        Push(m, Reference(module, name, op, at));
                        break;
                    }
                case PickleOpcode.StackGlobal: // 0x93 STACK_GLOBAL
                    {
                        var name = Pop(m, op, at);
                        var module = Pop(m, op, at);
                        if (module is not string ms || name is not string ns)
                            throw Errors.WrongOperand(op, "two str (module, name)", module is string ? name : module, at);
                        Push(m, Reference(ms, ns, op, at));
                        break;
                    }
                case PickleOpcode.Reduce: // 'R' REDUCE
                    {
                        var args = AsArgs(Pop(m, op, at), op, at);
                        var callable = Pop(m, op, at);
                        Push(m, Call(callable, args, null, op, at));
                        break;
                    }
                case PickleOpcode.Build: // 'b' BUILD
                    {
                        var state = Pop(m, op, at);
                        if (Top(m, op, at) is IPickleBuildable target) target.Build(state);
                        else throw Errors.WrongOperand(op, "an object whose state can be set", Top(m, op, at), at);
                        break;
                    }
                case PickleOpcode.Inst: // 'i' INST
                    {
                        string module = Encoding.ASCII.GetString(Line(ref r, op, at));
                        string name = Encoding.ASCII.GetString(Line(ref r, op, at));
                        var cls = Reference(module, name, op, at);
                        Push(m, Call(cls, new PyTuple([.. PopMark(m, op, at)]), null, op, at));
                        break;
                    }
                case PickleOpcode.Obj: // 'o' OBJ
                    {
                        var items = PopMark(m, op, at);
                        if (items.Count == 0) throw Errors.Underflow(op, at);
                        Push(m, Call(items[0], new PyTuple([.. items.Skip(1)]), null, op, at));
                        break;
                    }
                case PickleOpcode.NewObj: // 0x81 NEWOBJ
                    {
                        var args = AsArgs(Pop(m, op, at), op, at);
                        var cls = Pop(m, op, at);
                        Push(m, Call(cls, args, null, op, at));
                        break;
                    }
                case PickleOpcode.NewObjEx: // 0x92 NEWOBJ_EX
                    {
                        var kwargs = Pop(m, op, at) as PyDict ?? throw Errors.WrongOperand(op, "a dict of keyword arguments", null, at);
                        var args = AsArgs(Pop(m, op, at), op, at);
                        var cls = Pop(m, op, at);
                        Push(m, Call(cls, args, kwargs, op, at));
                        break;
                    }

                // --- machine control
                case PickleOpcode.Proto: // 0x80 PROTO
                    {
                        int proto = Take(ref r, 1, op, at)[0];
                        if (proto > HighestProtocol) throw Errors.Invalid($"unsupported pickle protocol {proto} (0–{HighestProtocol} are defined)", at);
                        Protocol = proto;
                        break;
                    }
                case PickleOpcode.Stop: // '.' STOP
                    {
                        var value = Pop(m, op, at);
                        consumed = r.Position;
                        return value;
                    }
                case PickleOpcode.Frame: // 0x95 FRAME (framing only groups opcodes for buffered reading)
                    {
                        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(Take(ref r, 8, op, at));
                        if (size > (ulong)r.Remaining) throw Errors.Truncated(op, at, size > long.MaxValue ? long.MaxValue : (long)size, r.Remaining);
                        break;
                    }

                // --- persistent ids
                case PickleOpcode.PersId: // 'P' PERSID
                    Push(m, PersistentLoad(Encoding.ASCII.GetString(Line(ref r, op, at)), at));
                    break;
                case PickleOpcode.BinPersId: // 'Q' BINPERSID
                    Push(m, PersistentLoad(Pop(m, op, at), at));
                    break;

                default:
                    throw Errors.UnknownOpcode((byte)op, at);
            }
        }
    }

    // --- stack -------------------------------------------------------------------------------------------

    private static void Push(Machine m, object? value) => m.Stack.Add(value);

    private object? Pop(Machine m, PickleOpcode op, long at)
    {
        if (m.Stack.Count == 0) throw Errors.Underflow(op, at);
        var v = m.Stack[^1];
        m.Stack.RemoveAt(m.Stack.Count - 1);
        return v;
    }

    private object? Top(Machine m, PickleOpcode op, long at) => m.Stack.Count == 0 ? throw Errors.Underflow(op, at) : m.Stack[^1];

    private List<object?> PopMark(Machine m, PickleOpcode op, long at)
    {
        if (m.MetaStack.Count == 0) throw Errors.Invalid($"{PickleErrors.Name(op)} found no MARK on the stack (corrupt pickle)", at);
        var items = m.Stack;
        m.Stack = m.MetaStack[^1];
        m.MetaStack.RemoveAt(m.MetaStack.Count - 1);
        m.Held -= m.Stack.Count;
        return items;
    }

    private object? MemoGet(Machine m, long index, PickleOpcode op, long at) =>
        m.Memo.TryGetValue(index, out var v) ? v : throw Errors.Invalid($"{PickleErrors.Name(op)}: the memo has no entry {index}", at);

    private void MemoPut(Machine m, long index, PickleOpcode op, long at)
    {
        m.Memo[index] = Top(m, op, at);
        if (m.Memo.Count > _limits.MaxPickleMemo)
            throw Errors.Limit(nameof(ReaderLimits.MaxPickleMemo), m.Memo.Count, _limits.MaxPickleMemo, at);
    }

    private long ToIndex(object index, PickleOpcode op, long at) => index switch
    {
        long l when l >= 0 => l,
        _ => throw Errors.Invalid($"{PickleErrors.Name(op)} has a negative or oversized memo index {index}", at),
    };

    // --- containers --------------------------------------------------------------------------------------

    private void AppendTo(object? target, List<object?> items, PickleOpcode op, long at)
    {
        switch (target)
        {
            case PyList list: list.Items.AddRange(items); break;
            case PyObject o: foreach (var i in items) o.Append(i); break; // a list subclass: its append() would get these
            default: throw Errors.WrongOperand(op, "a list", target, at);
        }
    }

    private void SetPairs(object? target, List<object?> items, PickleOpcode op, long at)
    {
        if (items.Count % 2 != 0) throw Errors.Invalid($"{PickleErrors.Name(op)} has an odd number of items ({items.Count}) for key/value pairs", at);
        for (int i = 0; i < items.Count; i += 2)
        {
            switch (target)
            {
                case PyDict d: d.Set(items[i], items[i + 1]); break;
                case PyObject o: o.SetItem(items[i], items[i + 1]); break; // a dict subclass
                default: throw Errors.WrongOperand(op, "a dict", target, at);
            }
        }
    }

    private PyTuple AsArgs(object? args, PickleOpcode op, long at) => args switch
    {
        PyTuple t => t,
        PyList l => new PyTuple([.. l.Items]),
        _ => throw Errors.WrongOperand(op, "an argument tuple", args, at),
    };

    // --- globals and calls -------------------------------------------------------------------------------

    private object? Reference(string module, string name, PickleOpcode op, long at)
    {
        if (Protocol < 3 && Python2Modules.TryGetValue(module, out var mapped)) module = mapped;
        var value = _resolver.Resolve(module, name, out bool known);
        Globals.Add(new GlobalReference(module, name, op, at, Errors.Entry, known, IsCall: false));
        return value;
    }

    private PyGlobal Extension(long code, PickleOpcode op, long at)
    {
        var g = new PyGlobal("copyreg._extension_registry", code.ToString(CultureInfo.InvariantCulture), null);
        Globals.Add(new GlobalReference(g.Module, g.Name, op, at, Errors.Entry, false, IsCall: false));
        return g;
    }

    private object? Call(object? callable, PyTuple args, PyDict? kwargs, PickleOpcode op, long at)
    {
        if (callable is PyGlobal g)
        {
            Globals.Add(new GlobalReference(g.Module, g.Name, op, at, Errors.Entry, g.Known is not null, IsCall: true));
            if (g.Known is { } known) return known(new PickleCall(g, args, kwargs, op, at, Errors));
        }
        else
        {
            // A call of something that is not a global (the result of another call, e.g. getattr(module, 'system')):
            // recorded too, so a scan sees every call the pickle asks for.
            string callee = callable is PyObject o ? $"<result of {o.TypeName}>" : $"<{PickleErrors.Describe(callable)}>";
            Globals.Add(new GlobalReference("", callee, op, at, Errors.Entry, false, IsCall: true));
        }
        return new PyObject(callable, args, kwargs, op, at);
    }

    private object? PersistentLoad(object? pid, long at) => _persistentLoad is null ? new PyPersistentId(pid) : _persistentLoad(pid, at);

    // --- arguments ---------------------------------------------------------------------------------------

    private ReadOnlySpan<byte> Take(ref SpanReader r, int n, PickleOpcode op, long at) => PickleArguments.Take(ref r, n, op, at, Errors);

    private int Length(ulong declared, ref SpanReader r, PickleOpcode op, long at) => PickleArguments.Length(declared, ref r, op, at, Errors);

    private ReadOnlySpan<byte> Line(ref SpanReader r, PickleOpcode op, long at) => PickleArguments.Line(ref r, op, at, Errors);

}
