using System.Security.Cryptography;
using System.Text.Json;
using WeightScope.Tensors;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Interop;

/// <summary>
/// safetensors files we write, read by an independent reader: a few lines of Python following the format's
/// specification (8-byte little-endian header size, JSON header, numpy over the byte ranges), since Debian has no
/// python3-safetensors. It also checks the layout rules the reference loader enforces: data offsets contiguous from 0,
/// covering the data section exactly, and the header padded so the data starts 8-byte aligned.
/// </summary>
public sealed class SafeTensorsInteropTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-st-interop-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Reader = """
        import hashlib, json, struct, sys
        import numpy as np
        path = sys.argv[1]
        data = open(path, 'rb').read()
        n, = struct.unpack('<Q', data[:8])
        assert n % 8 == 0, 'header not padded to 8 bytes'
        header = json.loads(data[8:8 + n])
        body = data[8 + n:]
        codes = {'F64': '<f8', 'F32': '<f4', 'F16': '<f2', 'I64': '<i8', 'I32': '<i4', 'I16': '<i2', 'I8': 'i1', 'U8': 'u1', 'BOOL': '?'}
        meta = header.pop('__metadata__', {})
        spans = sorted((v['data_offsets'][0], v['data_offsets'][1]) for v in header.values())
        end = 0
        for b, e in spans:
            assert b == end, 'gap or overlap in data offsets'
            end = e
        assert end == len(body), 'data section longer than the tensors'
        out = {'__metadata__': meta}
        for name, v in header.items():
            b, e = v['data_offsets']
            raw = body[b:e]
            entry = {'dtype': v['dtype'], 'shape': v['shape'], 'sha256': hashlib.sha256(raw).hexdigest()}
            if v['dtype'] in codes:
                a = np.frombuffer(raw, dtype=codes[v['dtype']]).reshape(v['shape'])
                entry['sum'] = float(a.astype(np.float64)[np.isfinite(a.astype(np.float64))].sum())
            out[name] = entry
        print(json.dumps(out))
        """;

    [PythonTheory("numpy")]
    [InlineData("pytorch", "resnet_tiny_state_dict.pth")]
    [InlineData("pytorch", "every_dtype.pt")]
    [InlineData("pytorch", "views_shared.pt")]
    [InlineData("writing", "cast_sources.pt")]
    public void Independent_reader_sees_the_source_values(string folder, string file)
    {
        using var m = ModelFile.Open(TestPaths.Fixture(folder, file));
        var tensors = m.Tensors.Where(t => !t.DType.IsQuantized() && t.DType != DType.Complex128).ToList();
        var path = Path.Combine(_dir, "out.safetensors");
        TensorWriters.Save(tensors, path, options: new WriteOptions { Metadata = new Dictionary<string, string> { ["format"] = "pt" } });
        using var doc = JsonDocument.Parse(Python.Run(Reader, path));
        var root = doc.RootElement;
        Assert.Equal("pt", root.GetProperty("__metadata__").GetProperty("format").GetString());
        Assert.Equal(tensors.Count + 1, root.EnumerateObject().Count());
        foreach (var t in tensors)
        {
            var e = root.GetProperty(t.Name);
            Assert.Equal(t.Shape.ToArray(), e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()));
            Assert.Equal(Convert.ToHexString(SHA256.HashData(t.ReadBytes())), e.GetProperty("sha256").GetString()!.ToUpperInvariant());
            if (e.TryGetProperty("sum", out var sum))
            {
                double ours = t.ToFloat64().Where(double.IsFinite).Sum();
                Assert.True(Math.Abs(ours - sum.GetDouble()) <= 1e-9 * Math.Max(1, Math.Abs(ours)), $"{t.Name}: python sum {sum.GetDouble()}, ours {ours}");
            }
        }
    }
}
