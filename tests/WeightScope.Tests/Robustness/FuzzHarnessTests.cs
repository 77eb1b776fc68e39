using System.Buffers.Binary;
using System.IO.Compression;
using Xunit;
using Xunit.Sdk;

namespace WeightScope.Tests.Robustness;

/// <summary>
/// The fuzzer's own checks can fail: an escaping exception, a slow input and an over-allocating reader are each caught,
/// and the structured mutations find the structures they aim at.
/// </summary>
public sealed class FuzzHarnessTests
{
    [Fact]
    public void A_format_error_is_accepted_and_reported_as_not_opened() =>
        Assert.False(FuzzCheck.Check(() => throw new ModelFormatException("test", "bad"), 10, "format error"));

    [Fact]
    public void Any_other_exception_fails_naming_it()
    {
        var e = Assert.ThrowsAny<XunitException>(() => FuzzCheck.Check(() => throw new IndexOutOfRangeException("boom"), 10, "escape"));
        Assert.Contains("IndexOutOfRangeException escaped: boom", e.Message);
    }

    [Fact]
    public void Allocating_far_more_than_the_input_fails()
    {
        var e = Assert.ThrowsAny<XunitException>(() => FuzzCheck.Check(() =>
        {
            GC.KeepAlive(new byte[FuzzCheck.AllocationBound(1000, 0) + 1]);
            throw new ModelFormatException("test", "too late");
        }, 1000, "greedy"));
        Assert.Contains("greedy: allocated", e.Message);
    }

    [Fact]
    public void A_slow_input_fails()
    {
        var e = Assert.ThrowsAny<XunitException>(() => FuzzCheck.Check(() =>
        {
            Thread.Sleep(FuzzCheck.TimeLimit + TimeSpan.FromMilliseconds(200));
            throw new ModelFormatException("test", "slow");
        }, 10, "slow"));
        Assert.Contains("slow took", e.Message);
        Assert.Contains("(twice)", e.Message);
    }

    [Fact]
    public void A_single_pause_is_forgiven_when_the_input_is_fast_the_second_time()
    {
        int runs = 0;
        Assert.False(FuzzCheck.Check(() =>
        {
            if (runs++ == 0) Thread.Sleep(FuzzCheck.TimeLimit + TimeSpan.FromMilliseconds(100));
            throw new ModelFormatException("test", "paused once");
        }, 10, "paused once"));
        Assert.Equal(2, runs);
    }

    [Fact]
    public void Boundaries_include_every_zip_header_and_the_central_directory()
    {
        var bytes = File.ReadAllBytes(TestPaths.Fixture("core", "zip_mixed.zip"));
        var bounds = StructuredMutations.Boundaries(bytes);
        int eocd = bytes.AsSpan().LastIndexOf("PK\x05\x06"u8);
        int cd = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(eocd + 16));
        Assert.Contains(cd, bounds);
        Assert.Contains(eocd, bounds);
        for (int at = cd; at < eocd; at += 46 + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 28)) + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 30)) + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 32)))
        {
            Assert.Contains(at, bounds);
            int local = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 42));
            if (local > 0) Assert.Contains(local, bounds); // its local header (a cut at 0 is the empty file, not a boundary)
        }
    }

    [Fact]
    public void Boundaries_include_the_end_of_a_safetensors_header()
    {
        var dir = Directory.CreateTempSubdirectory("weightscope-fuzz-harness-").FullName;
        try
        {
            var path = Path.Combine(dir, "m.safetensors");
            using (var model = ModelFile.Open(TestPaths.Fixture("pytorch", "simple_nn_state_dict.pth")))
                ModelFile.Save(model.Tensors, path, "safetensors");
            var bytes = File.ReadAllBytes(path);
            Assert.Contains(8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes), StructuredMutations.Boundaries(bytes));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Inflated_fields_replace_a_plausible_length_with_each_huge_value()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 12); // a length, the 4 bytes after it zero: a 64-bit field
        var found = StructuredMutations.InflatedFields(bytes, new Random(1), int.MaxValue)
            .Where(m => m.How.StartsWith("field at 4 ", StringComparison.Ordinal))
            .Select(m => BinaryPrimitives.ReadUInt64LittleEndian(m.Bytes.AsSpan(4))).ToList();
        Assert.Equal(StructuredMutations.HugeValues, found);
    }

    [Fact]
    public void Inflated_varints_replace_a_protobuf_length_with_a_long_varint()
    {
        byte[] bytes = [0x0A, 0x03, (byte)'a', (byte)'b', (byte)'c']; // field 1, length 3
        var m = StructuredMutations.InflatedVarints(bytes, new Random(1), int.MaxValue).First(m => m.How.Contains("inflated to 4294967295"));
        Assert.Equal([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, (byte)'a', (byte)'b', (byte)'c'], m.Bytes);
    }

    [Fact]
    public void Inflated_json_numbers_replace_values_not_digits_in_names()
    {
        var bytes = "{\"w1\": {\"shape\": [2, 3]}}"u8.ToArray();
        var changed = StructuredMutations.InflatedJsonNumbers(bytes, new Random(1), int.MaxValue).Select(m => System.Text.Encoding.ASCII.GetString(m.Bytes)).ToList();
        Assert.Contains("{\"w1\": {\"shape\": [-1, 3]}}", changed);
        Assert.Contains("{\"w1\": {\"shape\": [2, 18446744073709551616]}}", changed);
        Assert.DoesNotContain(changed, c => !c.Contains("\"w1\""));
    }

    [Fact]
    public void Zip_rewrites_duplicate_and_reorder_entries()
    {
        var bytes = File.ReadAllBytes(TestPaths.Fixture("core", "zip_mixed.zip"));
        string[] Names(byte[] b)
        {
            using var zip = new ZipArchive(new MemoryStream(b), ZipArchiveMode.Read);
            return zip.Entries.Select(e => e.FullName).ToArray();
        }
        var original = Names(bytes);
        Assert.True(original.Length >= 2);
        var rewrites = StructuredMutations.ZipRewrites(bytes, new Random(1), int.MaxValue).ToList();
        var dup = rewrites.Single(r => r.How == $"zip entry {original[0]} duplicated");
        Assert.Equal([original[0], .. original], Names(dup.Bytes));
        var reversed = rewrites.Single(r => r.How == "zip entries reversed");
        Assert.Equal(original.Reverse(), Names(reversed.Bytes));
    }

    [Fact]
    public void Seeds_are_the_same_in_every_process() => Assert.Equal(0x640c292c, StructuredMutations.StableSeed("a")); // FNV-1a of "a" is 0xe40c292c
}
