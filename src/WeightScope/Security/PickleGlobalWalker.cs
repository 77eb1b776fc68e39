using System.Buffers.Binary;
using System.Text;
using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.IO;

namespace WeightScope.Security;

/// <summary>
/// Walks one pickle's opcodes and lists the globals it names and what it does with them, without building any object:
/// the stack holds only what a scan needs — strings (STACK_GLOBAL's operands), globals, the results of calling a global,
/// and "something else" — and the memo maps indices to those, so <c>BINPUT</c>/<c>BINGET</c> tricks resolve as the pickle
/// machine would resolve them. Argument layouts follow CPython's <c>Lib/pickletools.py</c>.
/// </summary>
internal sealed class PickleGlobalWalker(string source, ReaderLimits limits)
{
    private static readonly UTF8Encoding Utf8Lenient = new(false, false);
    private static readonly object Other = new();

    private sealed record GlobalRef(int Index);      // a global on the stack (index into Findings)
    private sealed record CallResult(int Index);     // what calling/building that global returned

    private readonly PickleErrors _errors = new("pickle-scan", source.Length == 0 ? null : source);

    /// <summary>Globals found, in order.</summary>
    public List<PickleGlobalFinding> Findings { get; } = [];

    /// <summary>Walks the pickle at the start of <paramref name="data"/> through STOP; returns the bytes it used.</summary>
    /// <exception cref="ModelFormatException">Corrupt pickle or a limit crossed (findings so far are kept).</exception>
    public int Walk(ReadOnlySpan<byte> data, long baseOffset)
    {
        var r = new SpanReader(data, baseOffset);
        var stack = new List<object?>();
        var marks = new List<List<object?>>();
        var memo = new Dictionary<long, object?>();
        int protocol = 0;
        long ops = 0;
        while (true)
        {
            long at = r.Offset;
            if (r.Remaining == 0) throw _errors.Invalid("pickle ends without a STOP opcode (the file is truncated)", at);
            if (++ops > limits.MaxPickleOps) throw _errors.Limit(nameof(ReaderLimits.MaxPickleOps), ops, limits.MaxPickleOps, at);
            var op = (PickleOpcode)r.ReadByte();
            switch (op)
            {
                // Values whose content a scan never needs: skip the argument, push a placeholder.
                case PickleOpcode.Int: case PickleOpcode.Long: case PickleOpcode.Float:
                    Line(ref r, op, at); stack.Add(Other); break;
                case PickleOpcode.BinInt: Take(ref r, 4, op, at); stack.Add(Other); break;
                case PickleOpcode.BinInt1: Take(ref r, 1, op, at); stack.Add(Other); break;
                case PickleOpcode.BinInt2: Take(ref r, 2, op, at); stack.Add(Other); break;
                case PickleOpcode.BinFloat: Take(ref r, 8, op, at); stack.Add(Other); break;
                case PickleOpcode.Long1: Take(ref r, Take(ref r, 1, op, at)[0], op, at); stack.Add(Other); break;
                case PickleOpcode.Long4: Take(ref r, Signed(BinaryPrimitives.ReadInt32LittleEndian(Take(ref r, 4, op, at)), op, at), op, at); stack.Add(Other); break;
                case PickleOpcode.BinBytes: Take(ref r, Length(BinaryPrimitives.ReadUInt32LittleEndian(Take(ref r, 4, op, at)), ref r, op, at), op, at); stack.Add(Other); break;
                case PickleOpcode.ShortBinBytes: Take(ref r, Take(ref r, 1, op, at)[0], op, at); stack.Add(Other); break;
                case PickleOpcode.BinBytes8: case PickleOpcode.ByteArray8:
                    Take(ref r, Length(BinaryPrimitives.ReadUInt64LittleEndian(Take(ref r, 8, op, at)), ref r, op, at), op, at); stack.Add(Other); break;
                case PickleOpcode.NextBuffer: stack.Add(Other); break; // out-of-band data is not in the file; nothing to see
                case PickleOpcode.ReadOnlyBuffer: Top(stack, op, at); break;
                case PickleOpcode.None: case PickleOpcode.NewTrue: case PickleOpcode.NewFalse:
                case PickleOpcode.EmptyList: case PickleOpcode.EmptyTuple: case PickleOpcode.EmptyDict: case PickleOpcode.EmptySet:
                    stack.Add(Other); break;

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

                // Containers: their content is never read back without a call (which is recorded), so they are placeholders.
                case PickleOpcode.Append: Pop(stack, op, at); Top(stack, op, at); break;
                case PickleOpcode.Appends: case PickleOpcode.SetItems: case PickleOpcode.AddItems:
                    PopMark(ref stack, marks, op, at); Top(stack, op, at); break;
                case PickleOpcode.List: case PickleOpcode.Tuple: case PickleOpcode.Dict: case PickleOpcode.FrozenSet:
                    PopMark(ref stack, marks, op, at); stack.Add(Other); break;
                case PickleOpcode.Tuple1: Pop(stack, op, at); stack.Add(Other); break;
                case PickleOpcode.Tuple2: Pop(stack, op, at); Pop(stack, op, at); stack.Add(Other); break;
                case PickleOpcode.Tuple3: Pop(stack, op, at); Pop(stack, op, at); Pop(stack, op, at); stack.Add(Other); break;
                case PickleOpcode.SetItem: Pop(stack, op, at); Pop(stack, op, at); Top(stack, op, at); break;

                case PickleOpcode.Pop:
                    if (stack.Count > 0) stack.RemoveAt(stack.Count - 1); else PopMark(ref stack, marks, op, at);
                    break;
                case PickleOpcode.Dup: stack.Add(Top(stack, op, at)); break;
                case PickleOpcode.Mark:
                    if (marks.Count >= limits.MaxNestingDepth)
                        throw _errors.Limit(nameof(ReaderLimits.MaxNestingDepth), marks.Count + 1, limits.MaxNestingDepth, at);
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
                        // Python refuses non-str operands; a scan still records that a global was asked for.
                        stack.Add(Name(module as string ?? "<not a str>", name as string ?? "<not a str>", "STACK_GLOBAL", at));
                        break;
                    }
                case PickleOpcode.Inst:
                    {
                        string module = Utf8Lenient.GetString(Line(ref r, op, at));
                        string name = Utf8Lenient.GetString(Line(ref r, op, at));
                        var g = (GlobalRef)Name(module, name, "INST", at);
                        PopMark(ref stack, marks, op, at);
                        stack.Add(Use(g, "INST", at));
                        break;
                    }
                case PickleOpcode.Reduce: case PickleOpcode.NewObj:
                    Pop(stack, op, at);
                    stack.Add(Use(Pop(stack, op, at), PickleErrors.Name(op).Split(' ')[0], at));
                    break;
                case PickleOpcode.NewObjEx:
                    Pop(stack, op, at); Pop(stack, op, at);
                    stack.Add(Use(Pop(stack, op, at), "NEWOBJ_EX", at));
                    break;
                case PickleOpcode.Obj:
                    {
                        var items = PopMark(ref stack, marks, op, at);
                        if (items.Count == 0) throw _errors.Underflow(op, at);
                        stack.Add(Use(items[0], "OBJ", at));
                        break;
                    }
                case PickleOpcode.Build:
                    Pop(stack, op, at);
                    Use(Top(stack, op, at), "BUILD", at);
                    break;

                case PickleOpcode.Proto:
                    protocol = Take(ref r, 1, op, at)[0];
                    if (protocol > Unpickler.HighestProtocol) throw _errors.Invalid($"unsupported pickle protocol {protocol}", at);
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
                    Pop(stack, op, at);
                    return r.Position;
                default:
                    throw _errors.UnknownOpcode((byte)op, at);
            }
        }
    }

    // --- globals ------------------------------------------------------------------------------------------

    private object Name(string module, string name, string opcode, long at)
    {
        var (verdict, reason) = GlobalClassifier.Classify(module, name);
        Findings.Add(new PickleGlobalFinding(module, name, opcode, at, source, verdict, reason, []));
        return new GlobalRef(Findings.Count - 1);
    }

    // Records a call or build of a global (or of what calling one returned) and returns the symbolic result.
    private object Use(object? callee, string opcode, long at)
    {
        switch (callee)
        {
            case GlobalRef g:
                Findings[g.Index].Uses.Add(new GlobalUse(opcode, at));
                return new CallResult(g.Index);
            case CallResult c:
                Findings[c.Index].Uses.Add(new GlobalUse(opcode == "BUILD" ? opcode : opcode + " result", at));
                return c;
            default:
                return Other;
        }
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

    private List<object?> PopMark(ref List<object?> stack, List<List<object?>> marks, PickleOpcode op, long at)
    {
        if (marks.Count == 0) throw _errors.Invalid($"{PickleErrors.Name(op)} found no MARK on the stack (corrupt pickle)", at);
        var items = stack;
        stack = marks[^1];
        marks.RemoveAt(marks.Count - 1);
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
