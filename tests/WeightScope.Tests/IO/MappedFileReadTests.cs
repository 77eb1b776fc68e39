using WeightScope.IO;
using Xunit;

namespace WeightScope.Tests.IO;

/// <summary>
/// <see cref="MappedFile.Read"/> gives the file's bytes whichever path it takes: a copy out of the mapping (small reads),
/// one positional read, or two halves read on two threads (at least <see cref="MappedFile.SplitReadThreshold"/>), at
/// offsets and lengths that are not page multiples, in a slice (a stored zip member) too.
/// </summary>
public sealed class MappedFileReadTests : IDisposable
{
    private readonly string _path = Path.GetTempFileName();
    private readonly byte[] _bytes = new byte[MappedFile.SplitReadThreshold * 3 + 12345];

    public MappedFileReadTests()
    {
        new Random(7).NextBytes(_bytes);
        File.WriteAllBytes(_path, _bytes);
    }

    public void Dispose() => File.Delete(_path);

    [Theory]
    [InlineData(0, 100)]                                              // from the mapping
    [InlineData(3, MappedFile.PositionalReadThreshold + 1)]           // one positional read
    [InlineData(0, MappedFile.SplitReadThreshold)]                    // two halves
    [InlineData(4097, MappedFile.SplitReadThreshold * 2 + 4095)]      // two halves, unaligned offset and length
    [InlineData(1, MappedFile.SplitReadThreshold * 3 + 12344)]        // to the last byte
    public void Read_returns_the_files_bytes(long offset, int length)
    {
        using var file = MappedFile.Open(_path);
        var destination = new byte[length];
        file.Read(offset, destination);
        Assert.True(_bytes.AsSpan((int)offset, length).SequenceEqual(destination));
    }

    [Fact]
    public void Read_of_a_slice_splits_at_the_slices_offsets()
    {
        using var file = MappedFile.Open(_path);
        using var slice = file.Slice(12345, MappedFile.SplitReadThreshold * 2 + 1);
        var destination = new byte[MappedFile.SplitReadThreshold * 2];
        slice.Read(1, destination);
        Assert.True(_bytes.AsSpan(12346, destination.Length).SequenceEqual(destination));
    }
}
