using WeightScope.IO;
using Xunit;

namespace WeightScope.Tests.IO;

/// <summary><see cref="MappedFile.Slice"/>: a range of a file as a file of its own (a stored zip member read in place).</summary>
public class MappedFileSliceTests
{
    [Fact]
    public void Slice_sees_the_range_at_offset_zero_and_stays_inside_it()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, [.. Enumerable.Range(0, 100).Select(i => (byte)i)]);
            using var file = MappedFile.Open(path);
            using var slice = file.Slice(10, 20);
            Assert.Equal(20, slice.Length);
            Assert.Equal([10, 11, 12], slice.Span(0, 3).ToArray());
            Assert.Equal(29, slice.Span(19, 1)[0]);
            Assert.Throws<ArgumentOutOfRangeException>(() => slice.Span(18, 3)); // byte 30 belongs to the parent, not the slice
            using var nested = slice.Slice(5, 5);
            Assert.Equal(15, nested.Span(0, 1)[0]);
            using var s = slice.OpenRange(2, 3);
            var buf = new byte[3];
            s.ReadExactly(buf);
            Assert.Equal([12, 13, 14], buf);
            Assert.Throws<ArgumentOutOfRangeException>(() => file.Slice(90, 11));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Slice_of_an_in_memory_file_and_after_the_parent_is_disposed()
    {
        var file = MappedFile.FromArray([.. Enumerable.Range(0, 50).Select(i => (byte)i)]);
        var slice = file.Slice(40, 10).Slice(2, 4);
        Assert.Equal([42, 43, 44, 45], slice.Span(0, 4).ToArray());
        file.Dispose();
        // The slice shares the parent's memory: once that is released, reading it fails cleanly instead of dangling.
        Assert.Throws<ObjectDisposedException>(() => slice.Span(0, 1).ToArray());
    }
}
