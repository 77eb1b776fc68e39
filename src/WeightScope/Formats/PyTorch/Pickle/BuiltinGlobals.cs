using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace WeightScope.Formats.PyTorch.Pickle;

/// <summary>
/// The Python standard-library and NumPy names the allow-list interprets: the containers and byte types pickles use
/// (<c>collections.OrderedDict</c>, <c>builtins.set</c>…, <c>_codecs.encode</c> for Python 2 bytes), <c>copyreg</c>'s
/// object constructors (which only make stubs), and NumPy scalars and dtypes. Each is C#, never the Python callable.
/// </summary>
internal static class BuiltinGlobals
{
    /// <summary>Adds the standard-library and NumPy entries to <paramref name="r"/>.</summary>
    public static PickleResolver AddTo(PickleResolver r)
    {
        r.Callable("collections", "OrderedDict", OrderedDict)
         .Callable("builtins", "set", c => SetOf(c, frozen: false))
         .Callable("builtins", "frozenset", c => SetOf(c, frozen: true))
         .Callable("builtins", "bytearray", ByteArray)
         .Callable("builtins", "bytes", ByteArray)
         .Callable("builtins", "slice", c => new PySlice(c.OptionalArg(0), c.OptionalArg(1), c.OptionalArg(2)))
         .Callable("builtins", "complex", Complex)
         .Callable("_codecs", "encode", CodecsEncode)
         // copyreg builds instances of arbitrary classes: here that only ever makes an inert stub of the class.
         .Callable("copyreg", "_reconstructor", Reconstructor)
         .Callable("copyreg", "__newobj__", NewObj)
         .Callable("copyreg", "__newobj_ex__", NewObjEx);
        foreach (var numpy in new[] { "numpy.core.multiarray", "numpy._core.multiarray" })
        {
            r.Callable(numpy, "scalar", NumpyScalar)
             .Inert(numpy, "_reconstruct"); // an ndarray: kept as a stub (its dtype, shape and bytes stay in the stub's state)
        }
        r.Callable("numpy", "dtype", c => new NumpyDType(c.Arg<string>(0, "dtype")))
         .Inert("numpy", "ndarray");
        return r;
    }

    private static object OrderedDict(PickleCall c)
    {
        var d = new PyDict("collections.OrderedDict");
        if (c.OptionalArg(0) is IEnumerable<object?> pairs)
            foreach (var p in pairs)
            {
                if (p is not IReadOnlyList<object?> { Count: 2 } kv)
                    throw c.Errors.Invalid($"OrderedDict() argument items must be (key, value) pairs, found {PickleErrors.Describe(p)}", c.Offset);
                d.Set(kv[0], kv[1]);
            }
        return d;
    }

    private static object SetOf(PickleCall c, bool frozen)
    {
        var s = new PySet(frozen);
        switch (c.OptionalArg(0))
        {
            case null: break;
            case IEnumerable<object?> items: foreach (var i in items) s.Add(i); break;
            case var other: throw c.Errors.Invalid($"{c.Global.FullName}() needs an iterable, found {PickleErrors.Describe(other)}", c.Offset);
        }
        return s;
    }

    // bytearray(b'..'), bytearray('..', 'latin-1') (protocols 0–2), bytes() for empty bytes (protocols 0–2).
    private static object ByteArray(PickleCall c)
    {
        switch (c.OptionalArg(0))
        {
            case null: return Array.Empty<byte>();
            case byte[] b: return b.ToArray();
            case string s: return Encode(c, s, c.OptionalArg(1) as string ?? "utf-8");
            case PyList list:
                {
                    var o = new byte[list.Count];
                    for (int i = 0; i < o.Length; i++)
                        o[i] = list[i] is long v and >= 0 and <= 255 ? (byte)v
                            : throw c.Errors.Invalid($"{c.Global.FullName}() item {i} is not a byte value", c.Offset);
                    return o;
                }
            case var other: throw c.Errors.Invalid($"{c.Global.FullName}() cannot be made from {PickleErrors.Describe(other)}", c.Offset);
        }
    }

    private static object Complex(PickleCall c)
    {
        static double Part(object? v) => v switch { double d => d, long l => l, BigInteger b => (double)b, bool b => b ? 1 : 0, _ => double.NaN };
        var re = c.OptionalArg(0);
        var im = c.OptionalArg(1);
        if (re is string or not (null or double or long or BigInteger or bool) || im is not (null or double or long or BigInteger or bool))
            return c.Stub();
        return new Complex(Part(re ?? 0L), Part(im ?? 0L));
    }

    // Python 3 pickles Python 2 str values (and bytes at protocols 0–2) as _codecs.encode(text, 'latin1').
    private static object CodecsEncode(PickleCall c) =>
        Encode(c, c.Arg<string>(0, "obj"), c.OptionalArg(1) as string ?? "utf-8");

    private static byte[] Encode(PickleCall c, string s, string encoding)
    {
        switch (encoding.ToLowerInvariant().Replace('_', '-'))
        {
            case "latin1" or "latin-1" or "iso-8859-1" or "iso8859-1" or "l1":
                foreach (char ch in s)
                    if (ch > 0xFF) throw c.Errors.Invalid($"{c.Global.FullName}: character U+{(int)ch:X4} cannot be encoded as Latin-1", c.Offset);
                return Encoding.Latin1.GetBytes(s);
            case "utf-8" or "utf8": return Encoding.UTF8.GetBytes(s);
            case "ascii" or "us-ascii":
                foreach (char ch in s)
                    if (ch > 0x7F) throw c.Errors.Invalid($"{c.Global.FullName}: character U+{(int)ch:X4} cannot be encoded as ASCII", c.Offset);
                return Encoding.ASCII.GetBytes(s);
            default: throw c.Errors.Unsupported($"{c.Global.FullName} with encoding '{encoding}'", c.Offset);
        }
    }

    // copyreg._reconstructor(cls, base, state): protocols 0–1 use it for instances of ordinary classes.
    private static object Reconstructor(PickleCall c)
    {
        var cls = c.Arg(0, "cls");
        var state = c.OptionalArg(2);
        return new PyObject(cls, state is null ? PyTuple.Empty : new PyTuple([state]), null, c.Opcode, c.Offset);
    }

    private static object NewObj(PickleCall c) =>
        new PyObject(c.Arg(0, "cls"), new PyTuple([.. c.Args.Items.Skip(1)]), null, c.Opcode, c.Offset);

    private static object NewObjEx(PickleCall c) =>
        new PyObject(c.Arg(0, "cls"), c.OptionalArg(1) as PyTuple ?? PyTuple.Empty, c.OptionalArg(2) as PyDict, c.Opcode, c.Offset);

    // numpy.core.multiarray.scalar(dtype, bytes): a NumPy scalar such as a float64 loss; simple numeric kinds become
    // plain values, anything else stays a stub.
    private static object? NumpyScalar(PickleCall c)
    {
        if (c.Arg(0, "dtype") is not NumpyDType dt || c.OptionalArg(1) is not byte[] data) return c.Stub();
        return dt.Decode(data) ?? c.Stub();
    }
}

/// <summary>A NumPy dtype as pickled: <c>numpy.dtype('f8', False, True)</c> then BUILD with (version, byte order, …).</summary>
internal sealed class NumpyDType(string spec) : IPickleBuildable
{
    /// <summary>The type code, e.g. <c>f8</c>, <c>i4</c>, <c>b1</c>.</summary>
    public string Spec { get; } = spec;

    /// <summary>Byte order character from the state: '&lt;', '&gt;', '|' or '='.</summary>
    public char ByteOrder { get; private set; } = '=';

    /// <summary>The raw BUILD state.</summary>
    public object? State { get; private set; }

    /// <inheritdoc />
    public void Build(object? state)
    {
        State = state;
        if (state is PyTuple { Count: >= 2 } t && t[1] is string { Length: 1 } order) ByteOrder = order[0];
    }

    /// <summary>Decodes one scalar of this dtype, or null when the kind is not a plain number or bool.</summary>
    public object? Decode(byte[] data)
    {
        string code = Spec.TrimStart('<', '>', '=', '|');
        if (code.Length < 2 || !int.TryParse(code.AsSpan(1), out int size) || data.Length != size) return null;
        bool big = ByteOrder == '>' || Spec.StartsWith('>');
        Span<byte> b = data.ToArray();
        if (big && size > 1) b.Reverse();
        return (code[0], size) switch
        {
            ('f', 2) => (double)BinaryPrimitives.ReadHalfLittleEndian(b),
            ('f', 4) => (double)BinaryPrimitives.ReadSingleLittleEndian(b),
            ('f', 8) => BinaryPrimitives.ReadDoubleLittleEndian(b),
            ('i', 1) => (long)(sbyte)b[0],
            ('i', 2) => (long)BinaryPrimitives.ReadInt16LittleEndian(b),
            ('i', 4) => (long)BinaryPrimitives.ReadInt32LittleEndian(b),
            ('i', 8) => BinaryPrimitives.ReadInt64LittleEndian(b),
            ('u', 1) => (long)b[0],
            ('u', 2) => (long)BinaryPrimitives.ReadUInt16LittleEndian(b),
            ('u', 4) => (long)BinaryPrimitives.ReadUInt32LittleEndian(b),
            ('u', 8) => BinaryPrimitives.ReadUInt64LittleEndian(b) is var u && u <= long.MaxValue ? (long)u : new BigInteger(u),
            ('b', 1) => b[0] != 0,
            _ => null,
        };
    }

    /// <inheritdoc />
    public override string ToString() => $"dtype('{Spec}')";
}
