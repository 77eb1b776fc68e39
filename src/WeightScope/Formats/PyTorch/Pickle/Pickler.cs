using System.Buffers.Binary;
using System.Text;

namespace WeightScope.Formats.PyTorch.Pickle;

/// <summary>
/// Emits pickle opcodes (protocol 2, as <c>torch.save</c> writes by default) choosing the forms CPython's
/// <c>Lib/pickle.py</c> <c>_Pickler</c> chooses: <c>BININT1</c>/<c>BININT2</c>/<c>BININT</c>/<c>LONG1</c> by
/// magnitude, <c>BINUNICODE</c> for str, <c>EMPTY_TUPLE</c>/<c>TUPLE1–3</c>/<c>MARK…TUPLE</c> by length. Globals are
/// memoised (<c>BINPUT</c>) the first time and fetched (<c>BINGET</c>/<c>LONG_BINGET</c>) after, as pickle's memo does.
/// The caller composes values; this class knows no torch types.
/// </summary>
internal sealed class Pickler
{
    private const int Protocol = 2;
    private readonly MemoryStream _out = new();
    private readonly Dictionary<string, int> _globals = new(StringComparer.Ordinal);
    private int _memoSize;

    /// <summary>Starts the pickle with <c>PROTO 2</c>.</summary>
    public Pickler()
    {
        Op(PickleOpcode.Proto);
        _out.WriteByte(Protocol);
    }

    /// <summary>The pickle so far.</summary>
    public byte[] ToArray() => _out.ToArray();

    /// <summary>Writes one opcode without argument.</summary>
    public void Op(PickleOpcode op) => _out.WriteByte((byte)op);

    /// <summary><c>GLOBAL 'module name'</c>, or a fetch of it from the memo when written before.</summary>
    public void Global(string module, string name)
    {
        string key = module + "\n" + name;
        if (_globals.TryGetValue(key, out int index))
        {
            Get(index);
            return;
        }
        Op(PickleOpcode.Global);
        _out.Write(Encoding.ASCII.GetBytes(key + "\n"));
        _globals[key] = _memoSize;
        Put(_memoSize++);
    }

    /// <summary>An int: the shortest of <c>BININT1</c>, <c>BININT2</c>, <c>BININT</c>, <c>LONG1</c>.</summary>
    public void Int(long value)
    {
        Span<byte> b = stackalloc byte[9];
        if (value is >= 0 and <= byte.MaxValue)
        {
            Op(PickleOpcode.BinInt1);
            _out.WriteByte((byte)value);
        }
        else if (value is >= 0 and <= ushort.MaxValue)
        {
            Op(PickleOpcode.BinInt2);
            BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value);
            _out.Write(b[..2]);
        }
        else if (value is >= int.MinValue and <= int.MaxValue)
        {
            Op(PickleOpcode.BinInt);
            BinaryPrimitives.WriteInt32LittleEndian(b, (int)value);
            _out.Write(b[..4]);
        }
        else
        {
            // LONG1: little-endian two's complement, as few bytes as keep the sign (pickle.encode_long).
            BinaryPrimitives.WriteInt64LittleEndian(b[1..], value);
            int n = 8;
            while (n > 1 && ((b[n] == 0 && (b[n - 1] & 0x80) == 0) || (b[n] == 0xFF && (b[n - 1] & 0x80) != 0))) n--;
            Op(PickleOpcode.Long1);
            b[0] = (byte)n;
            _out.Write(b[..(n + 1)]);
        }
    }

    /// <summary>A str as <c>BINUNICODE</c> (4-byte length, UTF-8).</summary>
    public void Unicode(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)bytes.Length);
        Op(PickleOpcode.BinUnicode);
        _out.Write(length);
        _out.Write(bytes);
    }

    /// <summary><c>NEWTRUE</c> / <c>NEWFALSE</c>.</summary>
    public void Bool(bool value) => Op(value ? PickleOpcode.NewTrue : PickleOpcode.NewFalse);

    /// <summary>A tuple of ints, in the form pickle uses for its length.</summary>
    public void IntTuple(IReadOnlyList<long> items)
    {
        if (items.Count == 0)
        {
            Op(PickleOpcode.EmptyTuple);
            return;
        }
        if (items.Count > 3) Op(PickleOpcode.Mark);
        foreach (var i in items) Int(i);
        Op(items.Count switch
        {
            1 => PickleOpcode.Tuple1,
            2 => PickleOpcode.Tuple2,
            3 => PickleOpcode.Tuple3,
            _ => PickleOpcode.Tuple,
        });
    }

    private void Put(int index) => Memo(index, PickleOpcode.BinPut, PickleOpcode.LongBinPut);

    private void Get(int index) => Memo(index, PickleOpcode.BinGet, PickleOpcode.LongBinGet);

    // A memo index in one byte when it fits, else the 4-byte form, as pickle.py's put/get write them.
    private void Memo(int index, PickleOpcode small, PickleOpcode large)
    {
        if (index <= byte.MaxValue)
        {
            Op(small);
            _out.WriteByte((byte)index);
            return;
        }
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, index);
        Op(large);
        _out.Write(b);
    }
}
