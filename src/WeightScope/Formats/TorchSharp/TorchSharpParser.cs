using System.Text;
using WeightScope.IO;
using WeightScope.Tensors;

namespace WeightScope.Formats.TorchSharp;

/// <summary>
/// Parses TorchSharp's native format as its loaders read it (<c>Module.load</c>: <c>reader.Decode()</c> entry count,
/// then per entry <c>reader.ReadString()</c> and <c>Tensor.Load</c>; <c>Tensor.Load</c>: <c>Decode()</c> type, rank,
/// dimensions, then the raw bytes). The format has no magic, so the parse is strict: every length is bounded by the
/// bytes left, names are UTF-8 text, types known, and the entries must end exactly at the end of the file.
/// Tensor bytes are skipped, never read.
/// </summary>
internal sealed class TorchSharpParser
{
    private readonly MappedFile _file;
    private long _pos;

    internal TorchSharpParser(MappedFile file, long start = 0)
    {
        _file = file;
        _pos = start;
    }

    internal long Position => _pos;

    internal long Remaining => _file.Length - _pos;

    /// <summary>A module state dict: LEB128 count, then (name, tensor) pairs.</summary>
    public static TorchSharpFile ParseStateDict(MappedFile file, ReaderLimits limits)
    {
        var p = new TorchSharpParser(file);
        long countOffset = p._pos;
        long count = p.Leb128("entry count");
        if (count > p.Remaining / TorchSharpRecords.MinEntryBytes) throw TorchSharpErrors.CountBeyondFile(count, countOffset, p.Remaining);
        if (count > limits.MaxTensorCount)
            throw new ReaderLimitException(TorchSharpErrors.Format, nameof(ReaderLimits.MaxTensorCount), count, limits.MaxTensorCount, countOffset);
        var entries = new List<TorchSharpEntry>((int)Math.Min(count, 1024));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < count; i++)
        {
            long at = p._pos;
            string name = p.Name();
            if (!names.Add(name)) throw TorchSharpErrors.DuplicateName(name, at);
            entries.Add(p.Tensor(name, at));
        }
        p.ExpectEnd();
        return new TorchSharpFile(TorchSharpKind.StateDict, entries);
    }

    /// <summary>A file holding one tensor, as <c>Tensor.Save</c> writes it.</summary>
    public static TorchSharpFile ParseTensor(MappedFile file)
    {
        var p = new TorchSharpParser(file);
        var entry = p.Tensor("", 0);
        p.ExpectEnd();
        return new TorchSharpFile(TorchSharpKind.Tensor, [entry]);
    }

    /// <summary>
    /// True when the file starts like a state dict: a count of at least one, then a name that is UTF-8 text without
    /// control characters, then a LEB128 element type. Used, with the file's extension, to claim a damaged file so the reader can say
    /// what is wrong with it.
    /// </summary>
    public static bool StartsLikeStateDict(MappedFile file, bool unknownTypeAllowed)
    {
        try
        {
            // The first entry's header must be whole and plausible (rank ≤ 64, every dimension readable, and a known
            // element type unless the caller allows an unknown one), so an unrelated .bin is "unknown format", not a
            // TorchSharp error; a damaged TorchSharp file (data cut short, a bad later entry) is still claimed, so the
            // reader can say what is wrong with it.
            var p = new TorchSharpParser(file);
            if (p.Leb128("entry count") < 1) return false;
            p.Name();
            if (TorchSharpRecords.ToDType(p.Leb128("element type")) is null && !unknownTypeAllowed) return false;
            long rank = p.Leb128("rank");
            if (rank > TorchSharpRecords.MaxRank) return false;
            for (long d = 0; d < rank; d++) p.Leb128("dimension");
            return true;
        }
        catch (ModelFormatException) { return false; }
    }

    /// <summary>The optimizer name an optimizer-state file starts with (exportsd.py <c>_write_optim_name</c>), or null.</summary>
    public static string? OptimizerName(MappedFile file)
    {
        try
        {
            var name = new TorchSharpParser(file).Name();
            return TorchSharpOptimizer.IsKnown(name) ? name : null;
        }
        catch (ModelFormatException) { return null; }
    }

    internal TorchSharpEntry Tensor(string name, long entryOffset)
    {
        string? entry = name.Length == 0 ? null : name;
        long typeOffset = _pos;
        long code = Leb128("element type");
        var dtype = TorchSharpRecords.ToDType(code) ?? throw TorchSharpErrors.UnknownScalarType(code, typeOffset, entry);
        long rankOffset = _pos;
        long rank = Leb128("rank");
        if (rank > TorchSharpRecords.MaxRank) throw TorchSharpErrors.TooManyDimensions(rank, rankOffset, entry);
        var shape = new long[rank];
        long bytes = dtype.ItemSize();
        for (int d = 0; d < rank; d++)
        {
            shape[d] = Leb128("dimension");
            try { bytes = checked(bytes * shape[d]); }
            catch (OverflowException) { throw TorchSharpErrors.SizeOverflow(rankOffset, entry); }
        }
        if (bytes > Remaining) throw TorchSharpErrors.Truncated($"tensor {(entry is null ? "data" : $"'{entry}' data")}", _pos, bytes, Remaining);
        var result = new TorchSharpEntry(name, entryOffset, (TorchSharpScalarType)code, shape, _pos, bytes);
        _pos += bytes;
        return result;
    }

    /// <summary><c>BinaryReader.ReadString</c>: 7-bit-encoded byte count (LEB128), then UTF-8 bytes.</summary>
    internal string Name()
    {
        long at = _pos;
        long length = Leb128("name length");
        if (length < 1 || length > TorchSharpRecords.MaxNameBytes) throw TorchSharpErrors.BadNameLength(length, at, TorchSharpRecords.MaxNameBytes);
        if (length > Remaining) throw TorchSharpErrors.Truncated("entry name", _pos, length, Remaining);
        var bytes = _file.Span(_pos, (int)length);
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw TorchSharpErrors.BadName(_pos);
        string name = Encoding.UTF8.GetString(bytes);
        if (name.Any(char.IsControl)) throw TorchSharpErrors.BadName(_pos);
        _pos += length;
        return name;
    }

    /// <summary>TorchSharp's <c>LEB128Codec.Decode</c>: 7 bits per byte, low group first, high bit = more; refused past 63 bits.</summary>
    internal long Leb128(string what)
    {
        long start = _pos, value = 0;
        for (int i = 0; ; i++)
        {
            if (Remaining < 1) throw TorchSharpErrors.Truncated(what, _pos, 1, 0);
            byte b = _file.Span(_pos++, 1)[0];
            long bits = b & 0x7F;
            if (i >= TorchSharpRecords.MaxLeb128Bytes - 1 && bits != 0) throw TorchSharpErrors.Leb128Overflow(what, start);
            if (i >= TorchSharpRecords.MaxLeb128Bytes) throw TorchSharpErrors.Leb128Overflow(what, start);
            value |= bits << (7 * i);
            if ((b & 0x80) == 0) return value;
        }
    }

    /// <summary>Raw little-endian bytes of a fixed-size field (BinaryWriter's doubles, bools, longs).</summary>
    internal ReadOnlySpan<byte> Fixed(string what, int size)
    {
        if (Remaining < size) throw TorchSharpErrors.Truncated(what, _pos, size, Remaining);
        var span = _file.Span(_pos, size);
        _pos += size;
        return span;
    }

    internal void ExpectEnd()
    {
        if (_pos != _file.Length) throw TorchSharpErrors.TrailingBytes(_pos, _file.Length);
    }
}
