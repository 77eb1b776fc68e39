using System.Text;
using WeightScope.Formats.TensorFlow.Bundle;
using WeightScope.Formats.TensorFlow.Proto;
using Xunit;

namespace WeightScope.Tests.Formats.TensorFlow;

/// <summary>
/// Partitioned variables as <c>BundleWriter::AddSlice</c> writes them: the full entry lists its slices, each slice is
/// an entry under <c>EncodeTensorNameSlice(name, slice)</c>. The key bytes are checked against encodings worked out
/// by hand from <c>ordered_code.cc</c>.
/// </summary>
public sealed class TfPartitionedTests
{
    [Fact]
    public void Slice_keys_match_hand_worked_ordered_code()
    {
        // 00 | "w" 00 01 | rank 2: 01 02 | start 2: 80^02 | length 2: 80^02 | full dim: start 0 → 80, length -1 → 80^FF = 7F
        Assert.Equal([0x00, (byte)'w', 0x00, 0x01, 0x01, 0x02, 0x82, 0x82, 0x80, 0x7F],
            TensorSliceKey.Encode("w"u8, [(2, 2), (0, -1)]));
        // escapes in the name: 00 → 00 FF, FF → FF 00; rank 0 is one 00 byte
        Assert.Equal([0x00, 0x61, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x01, 0x00], TensorSliceKey.Encode([0x61, 0x00, 0xFF], []));
        // 100 needs two bytes: 100 = 0x0064 in 14 bits, header bits C0 00 → C0 64; -100: ~(-100) = 99 → FF..FF9C xor C0 = 3F 9C
        Assert.Equal([0x00, (byte)'v', 0x00, 0x01, 0x01, 0x01, 0xC0, 0x64, 0x3F, 0x9C], TensorSliceKey.Encode("v"u8, [(100, -100)]));
    }

    private static TfBundleBuilder Partitioned(Func<byte[], byte[]>? corruptKey = null)
    {
        // w is 4x3, saved as rows [0,1) and [1,4) (a fixed_size_partitioner along axis 0), plus an ordinary variable
        var b = new TfBundleBuilder();
        var top = b.AddFloats("__slice_a", [1, 3], 0, 1, 2);
        var bottom = b.AddFloats("__slice_b", [3, 3], 3, 4, 5, 6, 7, 8, 9, 10, 11);
        b.AddFloats("v", [1], 42);
        b.Entries.Remove("__slice_a");
        b.Entries.Remove("__slice_b");
        var full = new BundleEntryProto { Dtype = DataType.DtFloat, Shape = new TensorShapeProto() };
        full.Shape.Dim.Add(new TensorShapeProto.Types.Dim { Size = 4 });
        full.Shape.Dim.Add(new TensorShapeProto.Types.Dim { Size = 3 });
        full.Slices.Add(Slice(0, 1));
        full.Slices.Add(Slice(1, 3));
        b.Entries["w"] = full;
        b.SliceEntries[Key(corruptKey, TensorSliceKey.Encode("w"u8, [(0, 1), (0, -1)]))] = top;
        b.SliceEntries[Key(corruptKey, TensorSliceKey.Encode("w"u8, [(1, 3), (0, -1)]))] = bottom;
        return b;
    }

    private static byte[] Key(Func<byte[], byte[]>? f, byte[] k) => f?.Invoke(k) ?? k;

    private static TensorSliceProto Slice(long start, long length)
    {
        var s = new TensorSliceProto();
        s.Extent.Add(new TensorSliceProto.Types.Extent { Start = start, Length = length });
        s.Extent.Add(new TensorSliceProto.Types.Extent());
        return s;
    }

    [Fact]
    public void Slices_are_assembled_into_the_whole_variable()
    {
        using var dir = new TempDir();
        using var m = ModelFile.Open(Partitioned().WriteTo(dir.Path));
        Assert.Equal(["v", "w"], m.Tensors.Select(t => t.Name));
        Assert.Equal([4L, 3L], m.Tensors["w"].Shape.ToArray());
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)i), m.Tensors["w"].ToArray<float>());
    }

    [Fact]
    public void Missing_slice_is_reported()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(Partitioned(k => [.. k, 0x00]).WriteTo(dir.Path)));
        Assert.Contains("partitioned variable 'w': slice 0 ([0:1, 0:3]) is not in the index", e.Message);
    }

    [Fact]
    public void Slices_not_covering_the_variable_are_reported()
    {
        using var dir = new TempDir();
        var b = Partitioned();
        b.Entries["w"].Shape.Dim[0].Size = 5;
        Assert.Contains("the slices cover 12 of its 15 elements", Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(b.WriteTo(dir.Path))).Message);
    }

    [Fact]
    public void A_corrupt_slice_fails_its_checksum_when_the_variable_is_read()
    {
        using var dir = new TempDir();
        var path = Partitioned().WriteTo(dir.Path);
        var shard = Path.Combine(dir.Path, "model.ckpt.data-00000-of-00001");
        var data = File.ReadAllBytes(shard);
        data[20] ^= 1; // inside the second slice (bytes 12..47)
        File.WriteAllBytes(shard, data);
        using var m = ModelFile.Open(path);
        Assert.Contains("fails its CRC-32C check", Assert.Throws<InvalidModelContentException>(() => m.Tensors["w"].ToArray<float>()).Message);
    }

    [Fact]
    public void Mutated_partitioned_index_lets_only_model_format_errors_escape()
    {
        using var dir = new TempDir();
        var path = Partitioned().WriteTo(dir.Path);
        var original = File.ReadAllBytes(path);
        var rng = new Random(4242);
        for (int i = 0; i < 300; i++)
        {
            var bytes = (byte[])original.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            File.WriteAllBytes(path, bytes);
            try
            {
                using var m = ModelFile.Open(path);
                foreach (var t in m.Tensors) _ = t.ToFloat32();
            }
            catch (ModelFormatException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i}: {e.GetType().Name} escaped: {e.Message}\n{e.StackTrace}");
            }
        }
    }

    /// <summary>Structure-aware: each round changes one field of one entry (the block checksums stay valid, so the
    /// bundle layer itself is exercised) — offsets, sizes, shards, dtypes, dimensions, slice extents.</summary>
    [Fact]
    public void Entries_with_random_field_values_let_only_model_format_errors_escape()
    {
        using var dir = new TempDir();
        var rng = new Random(777);
        long[] interesting = [-1, 0, 1, 2, 3, 4, 11, 12, 47, 48, 1 << 20, int.MaxValue, long.MaxValue, long.MinValue];
        for (int i = 0; i < 400; i++)
        {
            var b = Partitioned();
            var all = b.Entries.Values.Concat(b.SliceEntries.Values).ToList();
            var e = all[rng.Next(all.Count)];
            long v = interesting[rng.Next(interesting.Length)];
            string how;
            switch (rng.Next(7))
            {
                case 0: e.Offset = v; how = $"offset {v}"; break;
                case 1: e.Size = v; how = $"size {v}"; break;
                case 2: e.ShardId = (int)Math.Clamp(v, int.MinValue, int.MaxValue); how = $"shard {v}"; break;
                case 3: e.Dtype = (DataType)rng.Next(0, 30); how = $"dtype {e.Dtype}"; break;
                case 4:
                    if (e.Shape?.Dim.Count > 0) e.Shape.Dim[rng.Next(e.Shape.Dim.Count)].Size = v;
                    how = $"dim {v}";
                    break;
                case 5:
                    if (e.Slices.Count > 0) e.Slices[rng.Next(e.Slices.Count)].Extent[0].Length = v;
                    how = $"slice length {v}";
                    break;
                default:
                    if (e.Slices.Count > 0) e.Slices[rng.Next(e.Slices.Count)].Extent[0].Start = v;
                    how = $"slice start {v}";
                    break;
            }
            var path = b.WriteTo(Path.Combine(dir.Path, i.ToString()));
            try
            {
                using var m = ModelFile.Open(path);
                foreach (var t in m.Tensors) _ = t.ToFloat32();
            }
            catch (ModelFormatException)
            {
            }
            catch (Exception x)
            {
                Assert.Fail($"round {i} ({how}): {x.GetType().Name} escaped: {x.Message}\n{x.StackTrace}");
            }
        }
    }
}
