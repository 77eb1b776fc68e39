using WeightScope.IO;

namespace WeightScope.Formats.Hdf5.Heaps;

/// <summary>
/// A fractal heap (specification §III.G, <c>FRHP</c>/<c>FHIB</c>/<c>FHDB</c>): where dense groups keep their link
/// messages and dense attribute storage its attribute messages. Managed and tiny objects are read; huge objects and
/// filtered heaps are not.
/// </summary>
internal sealed class FractalHeap
{
    private static ReadOnlySpan<byte> HeaderSignature => "FRHP"u8;
    private static ReadOnlySpan<byte> IndirectSignature => "FHIB"u8;
    private static ReadOnlySpan<byte> DirectSignature => "FHDB"u8;
    private const int IdTypeManaged = 0, IdTypeHuge = 1, IdTypeTiny = 2;
    private const int MaxIndirectDepth = 32;

    private readonly Hdf5File _file;
    private readonly string _path;
    private int _idLength, _tableWidth, _maxHeapBits, _startRows, _currentRows, _offsetBytes, _lengthBytes;
    private ulong _startBlock, _maxDirectBlock, _root, _hugeBTree;

    private FractalHeap(Hdf5File file, string path) { _file = file; _path = path; }

    /// <summary>Reads the heap header at <paramref name="address"/>.</summary>
    public static FractalHeap Read(Hdf5File file, ulong address, long at, string path)
    {
        var h = new FractalHeap(file, path);
        var r = file.ReaderFrom(address, 256, "fractal heap header", at, path);
        if (!r.ReadBytes(4).SequenceEqual(HeaderSignature)) throw Hdf5Errors.Invalid("fractal heap header does not start with FRHP", r.Offset - 4, path);
        r.ReadByte();
        h._idLength = r.ReadUInt16();
        int filterLength = r.ReadUInt16();
        if (filterLength != 0) throw Hdf5Errors.Unsupported("filtered fractal heap", r.Offset - 2, path);
        r.ReadByte(); // flags
        uint maxManaged = r.ReadUInt32();
        file.ReadLength(ref r); // next huge object ID
        h._hugeBTree = file.ReadAddress(ref r);
        file.ReadLength(ref r); file.ReadAddress(ref r); // managed free space
        for (int i = 0; i < 8; i++) file.ReadLength(ref r); // managed/allocated space, iterator, object counts and sizes
        h._tableWidth = r.ReadUInt16();
        h._startBlock = file.ReadLength(ref r);
        h._maxDirectBlock = file.ReadLength(ref r);
        h._maxHeapBits = r.ReadUInt16();
        h._startRows = r.ReadUInt16();
        h._root = file.ReadAddress(ref r);
        h._currentRows = r.ReadUInt16();
        if (h._tableWidth == 0 || h._startBlock == 0 || h._maxDirectBlock < h._startBlock || h._maxHeapBits is 0 or > 64 || !IsPowerOfTwo(h._startBlock) || !IsPowerOfTwo(h._maxDirectBlock))
            throw Hdf5Errors.Invalid("fractal heap doubling table is inconsistent", r.Offset, path);
        h._offsetBytes = (h._maxHeapBits + 7) / 8;
        h._lengthBytes = Math.Min(LimitEncSize(h._maxDirectBlock), LimitEncSize(maxManaged));
        return h;
    }

    private static bool IsPowerOfTwo(ulong v) => v != 0 && (v & (v - 1)) == 0;

    /// <summary>libhdf5's H5VM_limit_enc_size: bytes needed to encode values up to <paramref name="v"/>.</summary>
    public static int LimitEncSize(ulong v) => (v == 0 ? 0 : 63 - System.Numerics.BitOperations.LeadingZeroCount(v)) / 8 + 1;

    /// <summary>The object a heap ID names.</summary>
    public byte[] Object(ReadOnlySpan<byte> id, long at)
    {
        if (id.Length < 1) throw Hdf5Errors.Invalid("empty fractal heap ID", at, _path);
        int type = (id[0] >> 4) & 0x03;
        if (type == IdTypeTiny)
        {
            int len = (id[0] & 0x0f) + 1;
            if (len > id.Length - 1) throw Hdf5Errors.Invalid("tiny heap object is longer than its ID", at, _path);
            return id.Slice(1, len).ToArray();
        }
        if (type == IdTypeHuge) return Huge(id, at);
        if (type != IdTypeManaged) throw Hdf5Errors.Unsupported($"fractal heap ID type {type}", at, _path);
        var r = new SpanReader(id[1..], at);
        ulong offset = Hdf5File.ReadUnsigned(ref r, _offsetBytes);
        ulong length = Hdf5File.ReadUnsigned(ref r, _lengthBytes);
        var (block, blockOffset, blockSize) = Locate(offset, at);
        if (offset - blockOffset + length > blockSize) throw Hdf5Errors.Invalid($"heap object at {offset} (+{length}) runs past its direct block", at, _path);
        var b = _file.ReaderAt(block, checked((long)blockSize), "fractal heap direct block", at, _path);
        if (!b.ReadBytes(4).SequenceEqual(DirectSignature)) throw Hdf5Errors.Invalid("fractal heap direct block does not start with FHDB", b.Offset - 4, _path);
        b.Position = checked((int)(offset - blockOffset));
        return b.ReadBytes(checked((int)length)).ToArray();
    }

    // Huge objects live outside the heap's blocks. In an unfiltered heap whose IDs are long enough the ID holds the
    // address and length; otherwise it is a key into the huge-object v2 B-tree (record type 1: address, length, ID).
    private byte[] Huge(ReadOnlySpan<byte> id, long at)
    {
        var r = new SpanReader(id[1..], at);
        ulong address, length;
        if (id.Length >= 1 + _file.OffsetSize + _file.LengthSize)
        {
            address = _file.ReadAddress(ref r);
            length = _file.ReadLength(ref r);
        }
        else
        {
            ulong key = Hdf5File.ReadUnsigned(ref r, Math.Min(id.Length - 1, _file.LengthSize));
            if (_file.IsUndefined(_hugeBTree)) throw Hdf5Errors.Invalid("huge heap object without a huge-object B-tree", at, _path);
            (address, length) = (_file.Undefined, 0);
            foreach (var record in BTrees.BTreeV2.Records(_file, _hugeBTree, at, _path))
            {
                var rr = new SpanReader(record, at);
                ulong a = _file.ReadAddress(ref rr), l = _file.ReadLength(ref rr);
                if (rr.Remaining < _file.LengthSize) throw Hdf5Errors.Unsupported("filtered huge fractal heap objects", at, _path);
                if (_file.ReadLength(ref rr) == key) { (address, length) = (a, l); break; }
            }
            if (_file.IsUndefined(address)) throw Hdf5Errors.Invalid($"huge heap object {key} is not in its B-tree", at, _path);
        }
        if (length > int.MaxValue) throw Hdf5Errors.Unsupported("heap objects larger than 2 GB", at, _path);
        return _file.ReaderAt(address, (long)length, "huge heap object", at, _path).ReadBytes((int)length).ToArray();
    }

    // Finds the direct block holding heap offset `offset`: walks the doubling table from the root.
    private (ulong Address, ulong Offset, ulong Size) Locate(ulong offset, long at)
    {
        if (_currentRows == 0) return (_root, 0, _startBlock);
        ulong address = _root, blockStart = 0;
        int rows = _currentRows;
        for (int depth = 0; depth < MaxIndirectDepth; depth++)
        {
            int maxDirectRows = Log2(_maxDirectBlock) - Log2(_startBlock) + 2;
            int directRows = Math.Min(rows, maxDirectRows);
            int entries = checked(rows * _tableWidth);
            long size = checked(4 + 1 + _file.OffsetSize + _offsetBytes + (long)entries * _file.OffsetSize + 4);
            var r = _file.ReaderAt(address, size, "fractal heap indirect block", at, _path);
            if (!r.ReadBytes(4).SequenceEqual(IndirectSignature)) throw Hdf5Errors.Invalid("fractal heap indirect block does not start with FHIB", r.Offset - 4, _path);
            r.Position = 4 + 1 + _file.OffsetSize + _offsetBytes;
            ulong pos = blockStart;
            bool descended = false;
            for (int row = 0; row < rows && !descended; row++)
            {
                ulong rowSize = row <= 1 ? _startBlock : checked(_startBlock << (row - 1));
                for (int col = 0; col < _tableWidth; col++)
                {
                    ulong child = _file.ReadAddress(ref r);
                    if (row < directRows)
                    {
                        if (offset >= pos && offset - pos < rowSize)
                        {
                            if (_file.IsUndefined(child)) throw Hdf5Errors.Invalid($"heap offset {offset} lies in an unallocated block", at, _path);
                            return (child, pos, rowSize);
                        }
                        pos = checked(pos + rowSize);
                        continue;
                    }
                    // An indirect child of this row covers rowSize bytes of heap space in ChildRows(row) rows of its own.
                    ulong childSpan = ChildSpan(row);
                    if (offset >= pos && offset - pos < childSpan)
                    {
                        if (_file.IsUndefined(child)) throw Hdf5Errors.Invalid($"heap offset {offset} lies in an unallocated block", at, _path);
                        address = child;
                        blockStart = pos;
                        rows = ChildRows(row);
                        descended = true;
                        break;
                    }
                    pos = checked(pos + childSpan);
                }
            }
            if (!descended) throw Hdf5Errors.Invalid($"heap offset {offset} is beyond the heap", at, _path);
        }
        throw Hdf5Errors.Invalid($"fractal heap is nested deeper than {MaxIndirectDepth} indirect blocks", at, _path);
    }

    // Rows of an indirect block referenced from row `row`, and the heap space it covers (libhdf5 H5HF__man_iblock_*).
    private int ChildRows(int row) => Log2(RowBlockSize(row)) - Log2(_startBlock * (ulong)_tableWidth) + 1;

    private ulong ChildSpan(int row)
    {
        int rows = ChildRows(row);
        ulong total = 0;
        for (int i = 0; i < rows; i++) total = checked(total + RowBlockSize(i) * (ulong)_tableWidth);
        return total;
    }

    private ulong RowBlockSize(int row) => row <= 1 ? _startBlock : checked(_startBlock << (row - 1));

    private static int Log2(ulong v) => 63 - System.Numerics.BitOperations.LeadingZeroCount(v);
}
