using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace WeightScope.Tests.Formats.PyTorch;

/// <summary>Assembles pickles opcode by opcode (protocol 2, as torch.save writes) for crafted-bytes tests.</summary>
internal sealed class PickleWriter
{
    private readonly List<byte> _b = [0x80, 0x02]; // PROTO 2

    public int Position => _b.Count;

    public PickleWriter Op(char op) { _b.Add((byte)op); return this; }

    public PickleWriter Op(byte op) { _b.Add(op); return this; }

    public PickleWriter Global(string module, string name) { _b.AddRange(Encoding.ASCII.GetBytes($"c{module}\n{name}\n")); return this; }

    public PickleWriter Str(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        _b.Add((byte)'X');
        _b.AddRange(BitConverter.GetBytes(bytes.Length));
        _b.AddRange(bytes);
        return this;
    }

    public PickleWriter Int(long v)
    {
        if (v is >= 0 and < 256) { _b.Add((byte)'K'); _b.Add((byte)v); }
        else if (v is >= int.MinValue and <= int.MaxValue) { _b.Add((byte)'J'); _b.AddRange(BitConverter.GetBytes((int)v)); }
        else { _b.Add(0x8a); _b.Add(8); _b.AddRange(BitConverter.GetBytes(v)); }
        return this;
    }

    public PickleWriter Ints(params long[] values)
    {
        Op('(');
        foreach (var v in values) Int(v);
        return Op('t');
    }

    /// <summary>torch._utils._rebuild_tensor_v2(('storage', torch.&lt;type&gt;, key, 'cpu', numel), offset, size, stride, False, OrderedDict()).</summary>
    public PickleWriter Tensor(string key, long numel, long offset, long[] size, long[] stride, string storageType = "FloatStorage")
    {
        Global("torch._utils", "_rebuild_tensor_v2").Op('(');
        Op('(').Str("storage").Global("torch", storageType).Str(key).Str("cpu").Int(numel).Op('t').Op('Q');
        Int(offset).Ints(size).Ints(stride).Op(0x89).Global("collections", "OrderedDict").Op(')').Op('R').Op('t').Op('R');
        return this;
    }

    public byte[] Stop() { _b.Add((byte)'.'); return [.. _b]; }
}

/// <summary>Builds and rewrites torch zip archives (stored members, like torch.save).</summary>
internal static class TorchZip
{
    public static byte[] Build(IEnumerable<(string Name, byte[] Data)> members)
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, data) in members)
            {
                using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                s.Write(data);
            }
        return ms.ToArray();
    }

    public static byte[] Floats(params float[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), values[i]);
        return b;
    }

    /// <summary>Opens bytes as a model file (the stream entry point; the registry detects the format).</summary>
    public static ModelFile Open(byte[] bytes, ReaderOptions? options = null) => ModelFile.Open(new MemoryStream(bytes), options);
}
