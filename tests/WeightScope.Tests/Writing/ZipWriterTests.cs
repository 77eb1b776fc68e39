using System.IO.Compression;
using WeightScope.Formats.NumPy;
using WeightScope.Tensors;
using WeightScope.Tests.Formats.NumPy;
using WeightScope.Tests.Interop;
using WeightScope.Writing;
using Xunit;

namespace WeightScope.Tests.Writing;

/// <summary>
/// The zip writer's zip64 records, forced on small members (<see cref="ZipWriter.Zip64Threshold"/> 0) so every size,
/// offset and count goes through its zip64 field: .NET's ZipArchive, WeightScope's reader and Python's zipfile/np.load read them.
/// </summary>
public sealed class ZipWriterTests
{
    private static readonly TensorEntry[] s_tensors =
    [
        WriterKit.Tensor("stored", DType.Int32, [3], [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]),
        WriterKit.Tensor("deflated", DType.Float64, [2, 2], [.. BitConverter.GetBytes(1.5), .. BitConverter.GetBytes(-2.0), .. new byte[16]]),
    ];

    private static string WriteForcedZip64(TempDir dir)
    {
        var path = dir.File("zip64.npz");
        using (var fs = File.Create(path))
        {
            var zip = new ZipWriter(fs, 64) { Zip64Threshold = 0 };
            foreach (var t in s_tensors)
            {
                using var npy = new MemoryStream();
                new NpyWriter().Write([t], npy, WriteOptions.Default);
                zip.AddMember(t.Name + ".npy", npy.ToArray(), deflate: t.Name == "deflated");
            }
            zip.Finish();
        }
        return path;
    }

    [Fact]
    public void Forced_zip64_archive_reads_back()
    {
        using var dir = new TempDir();
        var path = WriteForcedZip64(dir);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(0x0001, BitConverter.ToUInt16(bytes, 30 + "stored.npy".Length)); // the local header's first extra is zip64
        Assert.Equal(0xFFFFFFFFu, BitConverter.ToUInt32(bytes, bytes.Length - 22 + 16)); // EOCD defers the directory offset
        using (var zip = ZipFile.OpenRead(path))
        {
            Assert.Equal(["stored.npy", "deflated.npy"], zip.Entries.Select(e => e.FullName));
            Assert.True(zip.Entries[1].CompressedLength < zip.Entries[1].Length);
        }
        using var m = ModelFile.Open(path);
        WriterKit.AssertSameTensors(s_tensors, m.Tensors);
    }

    [PythonFact("numpy")]
    public void Python_reads_forced_zip64_archive()
    {
        using var dir = new TempDir();
        var path = WriteForcedZip64(dir);
        WriterKit.AssertPythonSees(Python.Run(NumPyScripts.LoadAndResave, path), s_tensors);
    }
}
