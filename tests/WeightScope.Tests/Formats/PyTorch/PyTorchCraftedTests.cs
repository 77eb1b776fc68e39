using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using WeightScope.Formats.PyTorch;
using WeightScope.Modules;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Formats.PyTorch;

/// <summary>
/// Crafted and damaged PyTorch files: torch.save output (tests/fixtures/pytorch-crafted, written by
/// tests/fixtures/generate/pickle_payloads.py with torch's answers) and bytes assembled here, field by field.
/// Every failure is a ModelFormatException naming the format and where; nothing else escapes, nothing runs.
/// </summary>
public class PyTorchCraftedTests
{
    private static string Crafted(string name) => TestPaths.Fixture("pytorch-crafted", name);

    private static JsonNode Expected(string stem) => JsonNode.Parse(File.ReadAllText(Crafted(stem + ".expected.json")))!;

    [Theory]
    [InlineData("tensor_small", PyTorchZipFormat.FormatName)]
    [InlineData("tensor_small_legacy", PyTorchLegacyFormat.FormatName)]
    public void SmallFilesMatchTorchsAnswer(string stem, string format)
    {
        using var m = ModelFile.Open(Crafted(stem + ".pt"));
        Assert.Equal(format, m.Format.Name);
        var expected = Expected(stem);
        var tensors = expected["tensors"]!.AsArray();
        Assert.Equal(tensors.Select(t => t!["name"]!.GetValue<string>()), m.Tensors.Select(t => t.Name));
        foreach (var e in tensors)
        {
            var t = m.Tensors[e!["name"]!.GetValue<string>()];
            Assert.Equal(e["dtype"]!.GetValue<string>(), t.DType.Name());
            Assert.Equal(e["shape"]!.AsArray().Select(d => d!.GetValue<long>()), t.Shape);
            Assert.Equal(e["sum"]!.GetValue<double>(), t.ToFloat64().Sum(), 9);
        }
        Assert.Equal(expected["metadata"]!["step"]!.GetValue<long>(), m.Metadata["step"]);
    }

    [Theory]
    [InlineData("missing_storage")] // the persistent id names data/1, which is not in the archive
    [InlineData("short_storage")]   // data/0 holds 8 bytes where 6 float32 need 24
    [InlineData("unknown_opcode")]  // byte 0xff after PROTO in data.pkl
    [InlineData("truncated_legacy")] // the legacy file cut inside its last storage
    public void DamagedFilesFailWithFormatEntryAndOffset(string stem)
    {
        var expected = Expected(stem);
        var e = Assert.Throws<InvalidModelContentException>(() => ModelFile.Open(Crafted(stem + ".pt")));
        Assert.StartsWith("pytorch-", e.Format);
        Assert.NotNull(e.Offset);
        Assert.EndsWith(stem + ".pt", e.FilePath);
        Assert.Contains(expected["contains"]!.GetValue<string>(), e.Message);
        if (expected["entry"] is { } entry) Assert.Equal(entry.GetValue<string>(), e.Entry);
        if (expected["offset"] is { } offset) Assert.Equal(offset.GetValue<long>(), e.Offset);
    }

    [Fact]
    public void SparseTensorsAreReportedAsNotSupportedByName()
    {
        var e = Assert.Throws<UnsupportedModelFeatureException>(() => ModelFile.Open(Crafted("sparse_coo.pt")));
        Assert.Contains(Expected("sparse_coo")["contains"]!.GetValue<string>(), e.Message);
        Assert.Equal(PyTorchZipFormat.FormatName, e.Format);
        Assert.NotNull(e.Offset);
    }

    [Fact]
    public void AnEvilDataPklOpensInertly()
    {
        const string marker = "/tmp/weightscope-pickle-marker-torch";
        if (File.Exists(marker)) File.Delete(marker);
        using var m = ModelFile.Open(Crafted("evil_data_pkl.pt"));
        Assert.False(File.Exists(marker), "the pickle's os.system call ran");
        var expected = Expected("evil_data_pkl");
        Assert.Equal(expected["tensors"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()), m.Tensors.Select(t => t.Name));
        var step = Assert.IsType<OpaqueObject>(m.Metadata["step"]);
        Assert.Equal(expected["opaque"]!["step"]!.GetValue<string>(), step.TypeName);
        Assert.Equal("touch " + marker, Assert.Single(step.Arguments));
    }

    [Theory]
    [InlineData("evil_data_pkl.pt", "os.system")]
    [InlineData("tensor_small.pt", null)]
    [InlineData("tensor_small_legacy.pt", null)]
    public void TheGlobalsOfAFileCanBeListedWithoutReadingIt(string file, string? dangerous)
    {
        using var mapped = WeightScope.IO.MappedFile.Open(Crafted(file));
        var globals = PyTorchPickleGlobals.Read(mapped, ReaderLimits.Default);
        Assert.Contains(globals, g => g.FullName == "torch._utils._rebuild_tensor_v2" && g.IsKnown && g.IsCall);
        var unknown = globals.Where(g => !g.IsKnown).Select(g => g.FullName).Distinct().ToList();
        if (dangerous is null) Assert.Empty(unknown);
        else Assert.Equal([dangerous], unknown);
    }

    // --- damaged zips, derived from tensor_small.pt --------------------------------------------------------

    [Fact]
    public void EveryTruncationOfAZipFailsCleanly()
    {
        var bytes = File.ReadAllBytes(Crafted("tensor_small.pt"));
        for (int n = 0; n < bytes.Length; n++)
        {
            var e = Assert.ThrowsAny<ModelFormatException>(() => TorchZip.Open(bytes[..n]).Dispose());
            // Short prefixes are not recognisable at all; longer ones are zips whose end record is missing.
            if (n >= 22) Assert.True(e.Format is "zip" or PyTorchZipFormat.FormatName, $"length {n}: {e.Message}");
        }
    }

    [Fact]
    public void ACorruptedCentralDirectoryFailsWithTheZipOffset()
    {
        var bytes = File.ReadAllBytes(Crafted("tensor_small.pt"));
        int cd = IndexOf(bytes, "PK\x01\x02"u8); // first central directory header
        bytes[cd + 3] = 0x09; // signature PK\1\2 becomes PK\1\9
        var e = Assert.Throws<InvalidModelContentException>(() => TorchZip.Open(bytes));
        Assert.Equal("zip", e.Format);
        Assert.Equal(cd, e.Offset);
    }

    [Fact]
    public void EveryByteFlipOpensOrFailsCleanly()
    {
        foreach (var file in new[] { "tensor_small.pt", "tensor_small_legacy.pt" })
        {
            var original = File.ReadAllBytes(Crafted(file));
            for (int i = 0; i < original.Length; i++)
            {
                var bytes = (byte[])original.Clone();
                bytes[i] ^= 0xFF;
                try
                {
                    using var m = TorchZip.Open(bytes);
                    foreach (var t in m.Tensors) t.ReadBytes();
                }
                catch (ModelFormatException) { }
            }
        }
    }

    // --- archives assembled here ------------------------------------------------------------------------

    private static byte[] Archive(byte[] dataPkl, params (string Name, byte[] Data)[] more) =>
        TorchZip.Build([("archive/data.pkl", dataPkl), .. more, ("archive/version", "3\n"u8.ToArray())]);

    [Fact]
    public void AViewReachingPastItsStorageIsRejected()
    {
        // size [10] over a 6-element storage
        var pkl = new PickleWriter().Op('}').Str("w").Tensor("0", 6, 0, [10], [1]).Op('s').Stop();
        var e = Assert.Throws<InvalidModelContentException>(() => TorchZip.Open(Archive(pkl, ("archive/data/0", TorchZip.Floats(1, 2, 3, 4, 5, 6)))));
        Assert.Contains("needs 40 bytes but storage '0' has 24", e.Message);
        Assert.Equal("archive/data.pkl", e.Entry);
    }

    [Fact]
    public void BigEndianArchivesAreReadWithTheirByteOrder()
    {
        var data = new byte[12];
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteSingleBigEndian(data.AsSpan(i * 4), i + 1.5f);
        var pkl = new PickleWriter().Op('}').Str("w").Tensor("0", 3, 0, [3], [1]).Op('s').Stop();
        using var m = TorchZip.Open(Archive(pkl, ("archive/data/0", data), ("archive/byteorder", "big"u8.ToArray())));
        Assert.True(m.Tensors["w"].IsBigEndian);
        Assert.Equal([1.5f, 2.5f, 3.5f], m.Tensors["w"].ToFloat32());
        Assert.Contains("byteorder big", m.Format.Version);
    }

    [Fact]
    public void AnUnknownByteOrderIsRejected()
    {
        var pkl = new PickleWriter().Op('}').Stop();
        var e = Assert.Throws<InvalidModelContentException>(() => TorchZip.Open(Archive(pkl, ("archive/byteorder", "middle"u8.ToArray()))));
        Assert.Equal("archive/byteorder", e.Entry);
        Assert.Contains("'middle'", e.Message);
    }

    [Fact]
    public void TensorsSharingAStorageShareOneStorageObject()
    {
        // w = storage[0:6] as 2×3, v = storage[3:6] (offset 3), t = the transpose of w (strides 1, 3)
        var pkl = new PickleWriter().Op('}')
            .Str("w").Tensor("0", 6, 0, [2, 3], [3, 1]).Op('s')
            .Str("v").Tensor("0", 6, 3, [3], [1]).Op('s')
            .Str("t").Tensor("0", 6, 0, [3, 2], [1, 3]).Op('s').Stop();
        using var m = TorchZip.Open(Archive(pkl, ("archive/data/0", TorchZip.Floats(0, 1, 2, 3, 4, 5))));
        Assert.Same(m.Tensors["w"].Storage, m.Tensors["v"].Storage);
        Assert.Same(m.Tensors["w"].Storage, m.Tensors["t"].Storage);
        Assert.Equal([3f, 4f, 5f], m.Tensors["v"].ToFloat32());
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], m.Tensors["t"].ToFloat32());
        Assert.Equal(24, m.Tensors.ByteSize); // the storage counted once
    }

    [Fact]
    public void AMalformedPersistentIdNamesItsOffset()
    {
        var w = new PickleWriter();
        w.Global("torch._utils", "_rebuild_tensor_v2").Op('(');
        int pid = w.Position;
        w.Str("not a tuple");
        int binpersid = w.Position;
        var pkl = w.Op('Q').Int(0).Ints(1).Ints(1).Op(0x89).Op('}').Op('t').Op('R').Stop();
        var e = Assert.Throws<InvalidModelContentException>(() => TorchZip.Open(Archive(pkl)));
        Assert.Equal(binpersid, e.Offset);
        Assert.Contains("persistent id", e.Message);
        Assert.True(pid < binpersid);
    }

    [Fact]
    public void DeepNestingIsALimitNotAStackOverflow()
    {
        // 5,000 lists nested in each other (no tensors): a metadata value deeper than MaxNestingDepth
        const int n = 5000;
        var w = new PickleWriter();
        for (int i = 0; i < n; i++) w.Op(']');
        for (int i = 0; i < n - 1; i++) w.Op('a');
        var e = Assert.Throws<ReaderLimitException>(() => TorchZip.Open(Archive(w.Stop())));
        Assert.Equal(nameof(ReaderLimits.MaxNestingDepth), e.Limit);
    }

    [Theory]
    [InlineData(false)] // a metadata value: 2^60 paths
    [InlineData(true)]  // a tensor at the bottom: 2^60 names
    public void SharedMemoReferencesCannotExplodeTheWalk(bool withTensor)
    {
        // L0 = [x]; L(i) = [L(i-1), L(i-1)] through the memo: a 300-byte pickle describing 2^60 leaves.
        var w = new PickleWriter().Op(']').Op('(');
        if (withTensor) w.Tensor("0", 1, 0, [1], [1]); else w.Int(1);
        w.Op('e').Op('q').Op(0);
        for (byte i = 1; i <= 60; i++) w.Op(']').Op('(').Op('h').Op((byte)(i - 1)).Op('h').Op((byte)(i - 1)).Op('e').Op('q').Op(i);
        var options = new ReaderOptions { Limits = ReaderLimits.Default with { MaxTensorCount = 1000 } };
        var e = Assert.Throws<ReaderLimitException>(() => TorchZip.Open(Archive(w.Stop(), ("archive/data/0", TorchZip.Floats(1))), options));
        Assert.Equal(nameof(ReaderLimits.MaxTensorCount), e.Limit);
    }

    [Fact]
    public void ACycleInTheObjectIsListedOnce()
    {
        // d = {'w': tensor}; d['self'] = d
        var pkl = new PickleWriter().Op('}').Op('q').Op(0).Str("w").Tensor("0", 1, 0, [1], [1]).Op('s')
            .Str("self").Op('h').Op(0).Op('s').Stop();
        using var m = TorchZip.Open(Archive(pkl, ("archive/data/0", TorchZip.Floats(7))));
        Assert.Equal(["w"], m.Tensors.Select(t => t.Name)); // the walk does not follow d["self"] back into d
    }

    [Fact]
    public void ThePreTarFormatIsNamedAsNotSupported()
    {
        // A POSIX tar whose first member is 'sys_info', as torch.save wrote before 0.1.10.
        var tar = new byte[1024];
        Encoding.ASCII.GetBytes("sys_info").CopyTo(tar, 0);
        Encoding.ASCII.GetBytes("ustar\0" + "00").CopyTo(tar, 257);
        var e = Assert.Throws<UnsupportedModelFeatureException>(() => TorchZip.Open(tar));
        Assert.Equal(PyTorchLegacyFormat.FormatName, e.Format);
        Assert.Contains("tar", e.Feature);
    }

    [Fact]
    public void ALegacyFileWithAWrongStorageSizeFails()
    {
        var bytes = File.ReadAllBytes(Crafted("tensor_small_legacy.pt"));
        // The storage section's first int64 element count: right after the pickled key list, whose STOP precedes it.
        using (var m = ModelFile.Open(Crafted("tensor_small_legacy.pt")))
        {
            var first = (MappedStorage)m.Tensors[0].Storage;
            long countAt = first.FileOffset - 8;
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan((int)countAt), 999);
            var e = Assert.Throws<InvalidModelContentException>(() => TorchZip.Open(bytes));
            Assert.Equal(countAt, e.Offset);
            Assert.Contains("999 elements", e.Message);
        }
    }

    // --- detection among zip-based formats ------------------------------------------------------------------

    [Theory]
    [InlineData("a/data.pkl,a/data/0,a/version", "pytorch-zip")]                         // torch.save
    [InlineData("a/data.pkl,a/constants.pkl,a/version", "torchscript")]                  // torch.jit.save
    [InlineData("a/version,a/data.pkl,a/code/__torch__.py", "torchscript")]              // code/ alone marks TorchScript
    [InlineData("a/model.json,a/tensors/0,a/attributes.pkl", "torchscript")]             // the 1.0–1.2 layout
    [InlineData("x.npy,y.npy", "npz")]                                                   // numpy.savez: not PyTorch
    [InlineData("data.pkl,data/0", null)]                                                // no archive folder: torch refuses it too
    public void ZipFormatsAreToldApartByTheirMembers(string members, string? format)
    {
        var empty = new PickleWriter().Op('}').Stop();
        byte[] npy = [0x93, .. "NUMPY"u8]; // detection looks at member names only
        var bytes = TorchZip.Build(members.Split(',').Select(n => (n,
            n.EndsWith(".pkl", StringComparison.Ordinal) ? empty
            : n.EndsWith(".npy", StringComparison.Ordinal) ? npy
            : n.EndsWith("model.json", StringComparison.Ordinal) ? "{\"mainModule\": {\"name\": \"a\"}}"u8.ToArray()
            : "3\n"u8.ToArray())));
        var detected = WeightScope.Formats.ModelFormats.All.FirstOrDefault(f => f.TryDetect(Context(bytes)))?.Name;
        Assert.Equal(format, detected);
    }

    private static WeightScope.Formats.DetectionContext Context(byte[] bytes)
    {
        var file = WeightScope.IO.MappedFile.FromArray(bytes);
        return new WeightScope.Formats.DetectionContext(null, file, WeightScope.IO.ZipIndex.Read(file, ReaderLimits.Default), isDirectory: false);
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);
}
