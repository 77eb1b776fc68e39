using System.Numerics;
using System.Text;

namespace WeightScope.Tests.Formats.Gguf;

/// <summary>
/// A second, deliberately naive GGUF reader for tests (BinaryReader over the whole file, no validation), written
/// from the specification alone so the reader's answers can be checked against something that shares none of its
/// code: metadata values in the project's conventions, tensor infos, and where tensor data starts.
/// </summary>
internal sealed class GgufWalker
{
    public uint Version { get; private set; }
    public List<(string Key, object? Value)> KeyValues { get; } = [];
    public List<(string Name, ulong[] Ne, uint Type, ulong Offset)> Tensors { get; } = [];
    public long DataStart { get; private set; }
    public long InfosEnd { get; private set; }

    public static GgufWalker Walk(byte[] bytes)
    {
        var w = new GgufWalker();
        using var r = new BinaryReader(new MemoryStream(bytes));
        if (Encoding.ASCII.GetString(r.ReadBytes(4)) != "GGUF") throw new InvalidDataException("not GGUF");
        w.Version = r.ReadUInt32();
        bool v1 = w.Version == 1;
        ulong Count() => v1 ? r.ReadUInt32() : r.ReadUInt64();
        string Str() => Encoding.UTF8.GetString(r.ReadBytes(checked((int)Count())));
        object? Value(uint type) => type switch
        {
            0 => (long)r.ReadByte(),
            1 => (long)r.ReadSByte(),
            2 => (long)r.ReadUInt16(),
            3 => (long)r.ReadInt16(),
            4 => (long)r.ReadUInt32(),
            5 => (long)r.ReadInt32(),
            6 => (double)r.ReadSingle(),
            7 => r.ReadByte() != 0,
            8 => Str(),
            9 => Array(),
            10 => r.ReadUInt64() is var u && u <= long.MaxValue ? (long)u : (object)new BigInteger(u),
            11 => r.ReadInt64(),
            12 => r.ReadDouble(),
            _ => throw new InvalidDataException($"value type {type}"),
        };
        List<object?> Array()
        {
            uint itemType = r.ReadUInt32();
            ulong n = Count();
            var list = new List<object?>();
            for (ulong i = 0; i < n; i++) list.Add(Value(itemType));
            return list;
        }

        ulong tensors = Count(), kvs = Count();
        for (ulong i = 0; i < kvs; i++)
        {
            string key = Str();
            w.KeyValues.Add((key, Value(r.ReadUInt32())));
        }
        for (ulong i = 0; i < tensors; i++)
        {
            string name = Str();
            uint nDims = r.ReadUInt32();
            var ne = new ulong[nDims];
            for (int d = 0; d < nDims; d++) ne[d] = v1 ? r.ReadUInt32() : r.ReadUInt64();
            w.Tensors.Add((name, ne, r.ReadUInt32(), r.ReadUInt64()));
        }
        long alignment = w.KeyValues.Where(kv => kv.Key == "general.alignment").Select(kv => (long)kv.Value!).DefaultIfEmpty(32).First();
        long pos = w.InfosEnd = r.BaseStream.Position;
        w.DataStart = (pos + alignment - 1) / alignment * alignment;
        return w;
    }
}
