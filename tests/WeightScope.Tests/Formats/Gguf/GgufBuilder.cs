using System.Text;

namespace WeightScope.Tests.Formats.Gguf;

/// <summary>
/// Writes GGUF bytes straight from the specification's structs (ggml docs/gguf.md; version 1 as llama.cpp's first
/// gguf.py wrote it: uint32 counts, string lengths, array lengths and dimensions), with hooks to corrupt each field.
/// Independent of the reader: it shares no code with src/.
/// </summary>
internal sealed class GgufBuilder
{
    public const uint TypeUInt8 = 0, TypeInt8 = 1, TypeUInt16 = 2, TypeInt16 = 3, TypeUInt32 = 4, TypeInt32 = 5, TypeFloat32 = 6,
        TypeBool = 7, TypeString = 8, TypeArray = 9, TypeUInt64 = 10, TypeInt64 = 11, TypeFloat64 = 12;

    private readonly List<(string Key, uint Type, byte[] Value)> _kvs = [];
    private readonly List<Tensor> _tensors = [];

    public GgufBuilder(uint version = 3) => Version = version;

    public uint Version { get; }

    /// <summary>Alignment used to place tensor data (write <c>general.alignment</c> yourself to change the file's).</summary>
    public int Alignment { get; set; } = 32;

    public ulong? TensorCountOverride { get; set; }
    public ulong? KvCountOverride { get; set; }
    public byte[] Magic { get; set; } = "GGUF"u8.ToArray();
    public uint? VersionOverride { get; set; }

    private sealed record Tensor(string Name, ulong[] Ne, uint Type, byte[] Data, ulong? Offset);

    // --- values (each encodes the value only; the type id goes in front where the struct has one) ----------

    private bool Narrow => Version == 1;

    public byte[] Count(ulong n) => Narrow ? BitConverter.GetBytes((uint)n) : BitConverter.GetBytes(n);

    public byte[] Str(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        return [.. Count((ulong)b.Length), .. b];
    }

    /// <summary>An array value: item type, length, then the items' encodings.</summary>
    public byte[] Array(uint itemType, IEnumerable<byte[]> items, ulong? lengthOverride = null)
    {
        var list = items.ToList();
        return [.. BitConverter.GetBytes(itemType), .. Count(lengthOverride ?? (ulong)list.Count), .. list.SelectMany(x => x)];
    }

    public GgufBuilder Kv(string key, uint type, byte[] value)
    {
        _kvs.Add((key, type, value));
        return this;
    }

    public GgufBuilder KvString(string key, string value) => Kv(key, TypeString, Str(value));
    public GgufBuilder KvUInt32(string key, uint value) => Kv(key, TypeUInt32, BitConverter.GetBytes(value));

    public GgufBuilder AddTensor(string name, ulong[] ne, uint type, byte[] data, ulong? offset = null)
    {
        _tensors.Add(new Tensor(name, ne, type, data, offset));
        return this;
    }

    public byte[] Build()
    {
        var o = new MemoryStream();
        void W(byte[] b) => o.Write(b);
        W(Magic);
        W(BitConverter.GetBytes(VersionOverride ?? Version));
        W(Count(TensorCountOverride ?? (ulong)_tensors.Count));
        W(Count(KvCountOverride ?? (ulong)_kvs.Count));
        foreach (var (key, type, value) in _kvs)
        {
            W(Str(key));
            W(BitConverter.GetBytes(type));
            W(value);
        }
        // Data offsets: each tensor at the next multiple of the alignment, relative to the data section.
        ulong next = 0;
        var offsets = new List<ulong>();
        foreach (var t in _tensors)
        {
            ulong at = t.Offset ?? next;
            offsets.Add(at);
            if (t.Offset is null) next = Pad(at + (ulong)t.Data.Length); // an overridden offset places nothing

        }
        for (int i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            W(Str(t.Name));
            W(BitConverter.GetBytes((uint)t.Ne.Length));
            foreach (var d in t.Ne) W(Narrow ? BitConverter.GetBytes((uint)d) : BitConverter.GetBytes(d));
            W(BitConverter.GetBytes(t.Type));
            W(BitConverter.GetBytes(offsets[i]));
        }
        long dataStart = (long)Pad((ulong)o.Length);
        var bytes = new byte[dataStart + (long)next];
        o.ToArray().CopyTo(bytes, 0);
        for (int i = 0; i < _tensors.Count; i++)
            if (offsets[i] <= next && (ulong)_tensors[i].Data.Length <= next - offsets[i]) _tensors[i].Data.CopyTo(bytes, dataStart + (long)offsets[i]);
        return bytes;
    }

    private ulong Pad(ulong x) => (x + (ulong)Alignment - 1) / (ulong)Alignment * (ulong)Alignment;
}
