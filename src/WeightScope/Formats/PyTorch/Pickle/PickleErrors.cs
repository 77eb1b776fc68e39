using System.Numerics;

namespace WeightScope.Formats.PyTorch.Pickle;

/// <summary>Builds the errors the unpickler raises, bound to the format being read and the archive member (if any).</summary>
internal sealed class PickleErrors(string format, string? entry)
{
    /// <summary>The format name the errors carry (<c>pytorch-zip</c>, <c>pytorch-legacy</c>, <c>torchscript</c>).</summary>
    public string Format { get; } = format;

    /// <summary>The archive member the offsets are relative to, or null for offsets in the file.</summary>
    public string? Entry { get; } = entry;

    /// <summary>Corrupt or inconsistent pickle content.</summary>
    public InvalidModelContentException Invalid(string message, long offset) => new(Format, message, offset, Entry);

    /// <summary>A pickle feature WeightScope does not read.</summary>
    public UnsupportedModelFeatureException Unsupported(string feature, long offset) => new(Format, feature, offset, Entry);

    /// <summary>A named limit was crossed.</summary>
    public ReaderLimitException Limit(string limit, long value, long max, long offset) => new(Format, limit, value, max, offset, Entry);

    /// <summary>An opcode byte that no protocol defines.</summary>
    public InvalidModelContentException UnknownOpcode(byte code, long offset) =>
        Invalid($"unknown pickle opcode 0x{code:x2}{Printable(code)}: not a pickle, or the pickle is corrupt (opcodes of protocols 0–5 are read)", offset);

    /// <summary>The data ended inside an opcode's argument.</summary>
    public InvalidModelContentException Truncated(PickleOpcode op, long offset, long needed, long available) =>
        Invalid($"pickle ends inside the argument of {Name(op)}: needed {needed} bytes, {available} left (the file is truncated)", offset);

    /// <summary>An opcode found fewer stack items than it consumes.</summary>
    public InvalidModelContentException Underflow(PickleOpcode op, long offset) =>
        Invalid($"{Name(op)} needs more items than the pickle stack holds (corrupt pickle)", offset);

    /// <summary>An opcode's operand had the wrong type.</summary>
    public InvalidModelContentException WrongOperand(PickleOpcode op, string expected, object? found, long offset) =>
        Invalid($"{Name(op)} expects {expected} but found {Describe(found)}", offset);

    /// <summary>Opcode name and byte as pickletools prints them, e.g. <c>BINPUT ('q')</c>.</summary>
    public static string Name(PickleOpcode op)
    {
        string name = op switch
        {
            PickleOpcode.BinInt => "BININT",
            PickleOpcode.BinInt1 => "BININT1",
            PickleOpcode.BinInt2 => "BININT2",
            PickleOpcode.BinString => "BINSTRING",
            PickleOpcode.ShortBinString => "SHORT_BINSTRING",
            PickleOpcode.BinBytes => "BINBYTES",
            PickleOpcode.ShortBinBytes => "SHORT_BINBYTES",
            PickleOpcode.BinBytes8 => "BINBYTES8",
            PickleOpcode.ByteArray8 => "BYTEARRAY8",
            PickleOpcode.NextBuffer => "NEXT_BUFFER",
            PickleOpcode.ReadOnlyBuffer => "READONLY_BUFFER",
            PickleOpcode.NewTrue => "NEWTRUE",
            PickleOpcode.NewFalse => "NEWFALSE",
            PickleOpcode.ShortBinUnicode => "SHORT_BINUNICODE",
            PickleOpcode.BinUnicode => "BINUNICODE",
            PickleOpcode.BinUnicode8 => "BINUNICODE8",
            PickleOpcode.BinFloat => "BINFLOAT",
            PickleOpcode.EmptyList => "EMPTY_LIST",
            PickleOpcode.EmptyTuple => "EMPTY_TUPLE",
            PickleOpcode.EmptyDict => "EMPTY_DICT",
            PickleOpcode.SetItem => "SETITEM",
            PickleOpcode.SetItems => "SETITEMS",
            PickleOpcode.EmptySet => "EMPTY_SET",
            PickleOpcode.AddItems => "ADDITEMS",
            PickleOpcode.FrozenSet => "FROZENSET",
            PickleOpcode.PopMark => "POP_MARK",
            PickleOpcode.BinGet => "BINGET",
            PickleOpcode.LongBinGet => "LONG_BINGET",
            PickleOpcode.BinPut => "BINPUT",
            PickleOpcode.LongBinPut => "LONG_BINPUT",
            PickleOpcode.StackGlobal => "STACK_GLOBAL",
            PickleOpcode.NewObj => "NEWOBJ",
            PickleOpcode.NewObjEx => "NEWOBJ_EX",
            PickleOpcode.PersId => "PERSID",
            PickleOpcode.BinPersId => "BINPERSID",
            _ => op.ToString().ToUpperInvariant(),
        };
        return $"{name} (0x{(byte)op:x2}{Printable((byte)op)})";
    }

    /// <summary>A short description of a value for messages: its Python type and, for small values, the value.</summary>
    public static string Describe(object? v) => v switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        long or BigInteger => $"int {v}",
        double d => $"float {d}",
        string s => s.Length <= 40 ? $"str '{s}'" : $"str of {s.Length} characters",
        byte[] b => $"bytes of {b.Length} bytes",
        PyTuple t => $"tuple of {t.Count} items",
        PyList l => $"list of {l.Count} items",
        PyDict d => $"{d.ClassName} of {d.Count} items",
        PySet s => $"{(s.IsFrozen ? "frozenset" : "set")} of {s.Count} items",
        PyGlobal g => $"global {g.FullName}",
        PyObject o => $"instance of {o.TypeName}",
        _ => v.ToString() ?? v.GetType().Name,
    };

    private static string Printable(byte code) => code is >= 0x20 and < 0x7f ? $" '{(char)code}'" : "";
}
