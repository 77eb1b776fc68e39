using System.Buffers.Binary;
using Xunit;

namespace WeightScope.Tests.Formats.Hdf5;

/// <summary>Damaged and hand-made HDF5 bytes: each gives a ModelFormatException of format "hdf5" with an offset.</summary>
public class Hdf5CraftedTests
{
    private static readonly byte[] Signature = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
    private const int V0RootHeaderAddressOffset = 64; // signature 8, fixed fields 16, four addresses, link name offset
    private const int V0SuperblockSize = 96;          // ... + object header address + 24-byte cache of the root entry

    private static byte[] Fixture(string name) => File.ReadAllBytes(TestPaths.Fixture("hdf5", name));

    private static T Fails<T>(byte[] bytes) where T : ModelFormatException
    {
        var e = Assert.Throws<T>(() =>
        {
            using var m = ModelFile.Open(new MemoryStream(bytes));
            foreach (var t in m.Tensors) t.ReadBytes();
        });
        Assert.Equal("hdf5", e.Format);
        Assert.NotNull(e.Offset);
        return e;
    }

    [Fact]
    public void Truncated_superblock()
    {
        var e = Fails<InvalidModelContentException>(Fixture("mixed_earliest.h5")[..40]);
        Assert.Contains("end", e.Detail);
    }

    [Fact]
    public void Root_object_header_beyond_the_file()
    {
        var b = Fixture("mixed_earliest.h5");
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(V0RootHeaderAddressOffset), (ulong)b.Length + 1000);
        var e = Fails<InvalidModelContentException>(b);
        Assert.Contains("outside the file", e.Detail);
    }

    [Fact]
    public void Superblock_v3_checksum_mismatch()
    {
        var b = Fixture("mixed_latest.h5");
        Assert.Equal(3, b[8]);
        b[12] ^= 0x40; // base address
        var e = Fails<InvalidModelContentException>(b);
        Assert.Contains("checksum", e.Detail);
    }

    [Fact]
    public void Continuation_that_loops_back()
    {
        // A version 0 superblock whose root object header (v1) holds one continuation message naming its own block.
        const int header = V0SuperblockSize, block = header + 16, blockSize = 24;
        var b = new byte[block + blockSize];
        Signature.CopyTo(b, 0);
        b[13] = 8; b[14] = 8; // sizes of offsets and lengths
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(40), (ulong)b.Length); // end of file
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(48), ulong.MaxValue); // no driver block
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(32), ulong.MaxValue); // no free space
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(V0RootHeaderAddressOffset), header);
        b[header] = 1; // object header version
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(header + 2), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(header + 4), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(header + 8), blockSize);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(block), 0x10); // continuation
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(block + 2), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(block + 8), block);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(block + 16), blockSize);
        var e = Fails<InvalidModelContentException>(b);
        Assert.Contains("loops", e.Detail);
    }

    [Fact]
    public void Signature_after_a_user_block_is_found()
    {
        var original = Fixture("mixed_latest.h5");
        var b = new byte[512 + original.Length];
        original.CopyTo(b, 512);
        // Stored addresses are relative to the base address, which libhdf5 records as the superblock's position: a
        // copy shifted by 512 without rewriting it still resolves, since the base is taken as the signature position.
        using var m = ModelFile.Open(new MemoryStream(b));
        Assert.Equal("hdf5", m.Format.Name);
        Assert.Contains(m.Tensors, t => t.Name == "model_weights/dense/dense/kernel:0");
    }
}
