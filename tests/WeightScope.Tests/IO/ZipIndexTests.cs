using System.Security.Cryptography;
using System.Text.Json;
using WeightScope.IO;
using Xunit;

namespace WeightScope.Tests.IO;

/// <summary>The zip central-directory reader against archives written by Python's zipfile (tests/fixtures/core/zip_cases.json).</summary>
public class ZipIndexTests
{
    public static TheoryData<string> Archives()
    {
        var d = new TheoryData<string>();
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("core", "zip_cases.json")));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray()) d.Add(c.GetProperty("file").GetString()!);
        return d;
    }

    [Theory]
    [MemberData(nameof(Archives))]
    public void Members_and_contents_match_pythons_zipfile(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("core", "zip_cases.json")));
        var c = doc.RootElement.GetProperty("cases").EnumerateArray().First(x => x.GetProperty("file").GetString() == file);
        using var mf = MappedFile.Open(TestPaths.Fixture("core", file));
        var zip = ZipIndex.Read(mf, ReaderLimits.Default);
        var expected = c.GetProperty("members").EnumerateArray().ToList();
        Assert.Equal(expected.Select(m => m.GetProperty("name").GetString()), zip.Entries.Select(e => e.Name));
        foreach (var m in expected)
        {
            var e = zip.Find(m.GetProperty("name").GetString()!)!;
            Assert.Equal(m.GetProperty("method").GetInt32(), e.Method);
            Assert.Equal(m.GetProperty("size").GetInt64(), e.UncompressedSize);
            var bytes = zip.ReadAll(e, 1 << 20);
            Assert.Equal(m.GetProperty("sha256").GetString(), Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant());
        }
    }

    [Fact]
    public void Truncated_archive_names_the_missing_record()
    {
        var bytes = File.ReadAllBytes(TestPaths.Fixture("core", "zip_mixed.zip"));
        using var mf = MappedFile.FromArray(bytes[..^30]); // cut into the end-of-central-directory record
        var e = Assert.Throws<InvalidModelContentException>(() => ZipIndex.Read(mf, ReaderLimits.Default));
        Assert.Equal("zip", e.Format);
        Assert.Contains("end of central directory", e.Message);
    }

    [Fact]
    public void Central_directory_offset_outside_the_file_is_reported()
    {
        var bytes = File.ReadAllBytes(TestPaths.Fixture("core", "zip_mixed.zip"));
        int eocd = bytes.Length - 22; // no comment: EOCD is the last 22 bytes
        Assert.Equal(0x06054b50u, BitConverter.ToUInt32(bytes, eocd));
        BitConverter.GetBytes(0x7FFFFFF0u).CopyTo(bytes, eocd + 16); // offset of start of central directory
        using var mf = MappedFile.FromArray(bytes);
        var e = Assert.Throws<InvalidModelContentException>(() => ZipIndex.Read(mf, ReaderLimits.Default));
        Assert.Contains("outside the file", e.Message);
        Assert.Equal(eocd, e.Offset);
    }

    [Fact]
    public void Corrupt_deflate_data_fails_when_read_not_when_indexed()
    {
        var bytes = File.ReadAllBytes(TestPaths.Fixture("core", "zip_mixed.zip"));
        using var ok = MappedFile.FromArray((byte[])bytes.Clone());
        var entry = ZipIndex.Read(ok, ReaderLimits.Default).Find("a/data/0")!;
        long data = ZipIndex.Read(ok, ReaderLimits.Default).DataOffset(entry);
        for (long i = data; i < data + 16; i++) bytes[i] ^= 0x5A; // scramble the start of the deflate stream
        using var mf = MappedFile.FromArray(bytes);
        var zip = ZipIndex.Read(mf, ReaderLimits.Default);
        var e = Assert.ThrowsAny<ModelFormatException>(() => zip.ReadAll(zip.Find("a/data/0")!, 1 << 20));
        Assert.Equal("a/data/0", e.Entry);
    }

    [Fact]
    public void Member_too_large_for_its_limit_is_refused_before_inflating()
    {
        using var mf = MappedFile.Open(TestPaths.Fixture("core", "zip_mixed.zip"));
        var zip = ZipIndex.Read(mf, ReaderLimits.Default);
        var e = Assert.Throws<ReaderLimitException>(() => zip.ReadAll(zip.Find("a/data/0")!, 100));
        Assert.Equal(nameof(ReaderLimits.MaxHeaderBytes), e.Limit);
    }

    [Fact]
    public void Zip64_locator_pointing_past_the_file_is_a_format_error()
    {
        var b = new List<byte>();
        b.AddRange([0x50, 0x4B, 0x03, 0x04]); b.AddRange(new byte[26]);      // a local header signature, so it looks like a zip
        b.AddRange(BitConverter.GetBytes(0x07064b50u));                        // zip64 end of central directory locator
        b.AddRange(BitConverter.GetBytes(0u));                                 //   disk with the zip64 EOCD
        b.AddRange(BitConverter.GetBytes(ulong.MaxValue));                     //   offset of the zip64 EOCD: far past the file
        b.AddRange(BitConverter.GetBytes(1u));                                 //   total disks
        b.AddRange(BitConverter.GetBytes(0x06054b50u));                        // end of central directory
        b.AddRange(new byte[4]);                                               //   disk numbers
        b.AddRange(BitConverter.GetBytes((ushort)0xFFFF)); b.AddRange(BitConverter.GetBytes((ushort)0xFFFF)); // entry counts: see zip64
        b.AddRange(BitConverter.GetBytes(0xFFFFFFFFu)); b.AddRange(BitConverter.GetBytes(0xFFFFFFFFu));       // size, offset: see zip64
        b.AddRange(new byte[2]);                                               //   comment length
        var e = Assert.ThrowsAny<ModelFormatException>(() => ModelFile.Open(new MemoryStream(b.ToArray())));
        Assert.Equal("zip", e.Format);
        Assert.Contains("larger than the file", e.Message);
    }

    [Fact]
    public void Errors_found_when_member_data_is_read_name_the_file()
    {
        var bytes = File.ReadAllBytes(TestPaths.Fixture("core", "zip_mixed.zip"));
        using (var probe = MappedFile.FromArray(bytes))
        {
            var z = ZipIndex.Read(probe, ReaderLimits.Default);
            bytes[z.Find("a/data/0")!.LocalHeaderOffset] ^= 0xFF; // break the member's local header signature
        }
        var path = Path.Combine(Path.GetTempPath(), "ws-zip-" + Guid.NewGuid().ToString("N") + ".zip");
        File.WriteAllBytes(path, bytes);
        try
        {
            using var mf = MappedFile.Open(path);
            var zip = ZipIndex.Read(mf, ReaderLimits.Default);          // the directory is intact: opening succeeds
            var e = Assert.ThrowsAny<ModelFormatException>(() => zip.ReadAll(zip.Find("a/data/0")!, 1 << 20));
            Assert.Equal(path, e.FilePath);
            Assert.Contains(path, e.Message);
        }
        finally { File.Delete(path); }
    }
}
