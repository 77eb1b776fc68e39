namespace WeightScope.Formats.Hdf5.Filters;

/// <summary>
/// The N-bit filter (id 5), ported from libhdf5's <c>H5Znbit.c</c> (decompression side). libhdf5 computes the client data
/// when the dataset is created: [0] the number of values, [1] 1 when the type needs no packing (full precision: the
/// chunk is stored as is), [2] elements per chunk, [3] the type's class (1 atomic, 2 array, 3 compound), [4] its size,
/// then per class: atomic → byte order (0 LE, 1 BE), precision, bit offset; array → size, base class, base description;
/// compound → size, member count, then per member its byte offset, class and description (no-op members: class 4 and
/// size, copied whole). Each value's significant bits are packed one after another, most significant first; unpacked
/// values have zero padding bits, as libhdf5 leaves them (its type conversion then applies precision and offset).
/// </summary>
internal static class NBit
{
    private const int ClassAtomic = 1;
    private const int ClassArray = 2;
    private const int ClassCompound = 3;
    private const int ClassNoOp = 4;
    private const int OrderLittleEndian = 0;
    private const int HeaderValues = 5;    // count, no-compression flag, elements, class, size
    private const int MaxNesting = 32;     // arrays of compounds of arrays…: bounded like every recursion

    /// <summary>Unpacks one chunk into at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] Decode(byte[] input, uint[] cd, int maxBytes, long at, string path)
    {
        if (cd.Length < HeaderValues || cd[0] != cd.Length)
            throw Corrupt($"client data has {cd.Length} values, its header says {(cd.Length > 0 ? cd[0] : 0)}", at, path);
        if (cd[1] != 0) return input; // full precision: libhdf5 stored the chunk as is
        long size = cd[4];
        if (size == 0) throw Corrupt("datatype size is 0", at, path);
        long bytes = cd[2] * size;
        if (bytes > maxBytes) throw Corrupt($"{cd[2]} elements of {size} bytes exceed the chunk's {maxBytes} bytes", at, path);
        var state = new State(input, new byte[bytes], cd, at, path);
        int index;
        switch (cd[3])
        {
            case ClassAtomic:
                state.Need(0, 8);
                var p = state.Atomic(4);
                for (long i = 0; i < cd[2]; i++) state.DecodeAtomic(i * size, p);
                break;
            case ClassArray:
                for (long i = 0; i < cd[2]; i++) { index = 4; state.DecodeArray(i * size, ref index, 0); }
                break;
            case ClassCompound:
                for (long i = 0; i < cd[2]; i++) { index = 4; state.DecodeCompound(i * size, ref index, 0); }
                break;
            default:
                throw Corrupt($"datatype class {cd[3]}", at, path);
        }
        return state.Output;
    }

    private readonly record struct Atomic(long Size, uint Order, long Precision, long Offset);

    private sealed class State(byte[] input, byte[] output, uint[] cd, long at, string path)
    {
        public byte[] Output => output;
        private int _j;          // the input byte being read
        private int _bitsLeft = 8; // bits of it not yet read

        // H5Z_NBIT_PARMS_AVAIL: the walk through the client data is driven by the client data, so each step checks it.
        public void Need(int index, int count)
        {
            if (index < 0 || (long)index + count > cd.Length)
                throw Corrupt("client data is shorter than the datatype it describes", at, path);
        }

        public Atomic Atomic(int index)
        {
            var p = new Atomic(cd[index], cd[index + 1], cd[index + 2], cd[index + 3]);
            if (p.Precision > p.Size * 8 || p.Precision + p.Offset > p.Size * 8)
                throw Corrupt($"precision {p.Precision} at bit offset {p.Offset} does not fit {p.Size} bytes", at, path);
            return p;
        }

        private void Check(long offset, long size)
        {
            if (offset < 0 || size < 0 || offset + size > output.Length)
                throw Corrupt($"a value at byte {offset} (+{size}) lies outside the chunk's {output.Length} bytes", at, path);
        }

        // H5Z__nbit_decompress_one_byte: fills the significant bits of byte k of the value at `offset`.
        private void DecodeByte(long offset, long k, long begin, long end, Atomic p, long typeBits)
        {
            if (_j >= input.Length) throw Truncated();
            int value = input[_j];
            int datOffset = 0, datLen;
            if (begin != end)
            {
                if (k == begin) datLen = 8 - (int)((typeBits - p.Precision - p.Offset) % 8);
                else if (k == end) { datLen = 8 - (int)(p.Offset % 8); datOffset = 8 - datLen; }
                else datLen = 8;
            }
            else { datOffset = (int)(p.Offset % 8); datLen = (int)p.Precision; }
            long target = offset + k;
            if (_bitsLeft > datLen)
            {
                output[target] = (byte)(((value >> (_bitsLeft - datLen)) & ~(~0 << datLen)) << datOffset);
                _bitsLeft -= datLen;
                return;
            }
            output[target] = (byte)(((value & ~(~0 << _bitsLeft)) << (datLen - _bitsLeft)) << datOffset);
            datLen -= _bitsLeft;
            NextByte();
            if (datLen == 0) return;
            if (_j >= input.Length) throw Truncated();
            value = input[_j];
            output[target] |= (byte)(((value >> (_bitsLeft - datLen)) & ~(~0 << datLen)) << datOffset);
            _bitsLeft -= datLen;
        }

        private void NextByte() { _j++; _bitsLeft = 8; }

        // H5Z__nbit_decompress_one_atomic: the bytes holding significant bits, most significant first.
        public void DecodeAtomic(long offset, Atomic p)
        {
            Check(offset, p.Size);
            long typeBits = p.Size * 8;
            if (p.Order == OrderLittleEndian)
            {
                long begin = (p.Precision + p.Offset) % 8 != 0 ? (p.Precision + p.Offset) / 8 : (p.Precision + p.Offset) / 8 - 1;
                long end = p.Offset / 8;
                for (long k = begin; k >= end; k--) DecodeByte(offset, k, begin, end, p, typeBits);
            }
            else
            {
                long begin = (typeBits - p.Precision - p.Offset) / 8;
                long end = p.Offset % 8 != 0 ? (typeBits - p.Offset) / 8 : (typeBits - p.Offset) / 8 - 1;
                for (long k = begin; k <= end; k++) DecodeByte(offset, k, begin, end, p, typeBits);
            }
        }

        // H5Z__nbit_decompress_one_nooptype: every bit of `size` bytes.
        private void DecodeNoOp(long offset, long size)
        {
            Check(offset, size);
            for (long i = 0; i < size; i++)
            {
                if (_j >= input.Length) throw Truncated();
                int value = input[_j];
                int datLen = 8;
                output[offset + i] = (byte)((value & ~(~0 << _bitsLeft)) << (datLen - _bitsLeft));
                datLen -= _bitsLeft;
                NextByte();
                if (datLen == 0) continue;
                if (_j >= input.Length) throw Truncated();
                value = input[_j];
                output[offset + i] |= (byte)((value >> (_bitsLeft - datLen)) & ~(~0 << datLen));
                _bitsLeft -= datLen;
            }
        }

        // H5Z__nbit_decompress_one_array. As in libhdf5, an array of arrays or of compounds leaves the index at its base
        // description after the loop.
        public void DecodeArray(long offset, ref int index, int depth)
        {
            if (depth > MaxNesting) throw Corrupt($"datatype is nested deeper than {MaxNesting} levels", at, path);
            Need(index, 2);
            long total = cd[index++];
            uint baseClass = cd[index++];
            Check(offset, total);
            switch (baseClass)
            {
                case ClassAtomic:
                {
                    Need(index, 4);
                    var p = Atomic(index);
                    index += 4;
                    if (p.Size == 0) throw Corrupt("array base size is 0", at, path);
                    long n = total / p.Size;
                    for (long i = 0; i < n; i++) DecodeAtomic(offset + i * p.Size, p);
                    break;
                }
                case ClassArray:
                case ClassCompound:
                {
                    Need(index, 1);
                    long baseSize = cd[index];
                    if (baseSize == 0) throw Corrupt("array base size is 0", at, path);
                    long n = total / baseSize;
                    int begin = index;
                    for (long i = 0; i < n; i++)
                    {
                        if (baseClass == ClassArray) DecodeArray(offset + i * baseSize, ref index, depth + 1);
                        else DecodeCompound(offset + i * baseSize, ref index, depth + 1);
                        index = begin;
                    }
                    break;
                }
                case ClassNoOp:
                    Need(index, 1);
                    index++;
                    DecodeNoOp(offset, total);
                    break;
                default:
                    throw Corrupt($"array base class {baseClass}", at, path);
            }
        }

        // H5Z__nbit_decompress_one_compound: members in the order libhdf5 listed them.
        public void DecodeCompound(long offset, ref int index, int depth)
        {
            if (depth > MaxNesting) throw Corrupt($"datatype is nested deeper than {MaxNesting} levels", at, path);
            Need(index, 2);
            long size = cd[index++];
            long members = cd[index++];
            Check(offset, size);
            long used = 0;
            for (long m = 0; m < members; m++)
            {
                Need(index, 3);
                long memberOffset = cd[index++];
                uint memberClass = cd[index++];
                long memberSize = cd[index];
                long previous = used;
                used += memberSize;
                if (used > size || used <= previous) throw Corrupt("compound member sizes overflow the compound's size", at, path);
                if (memberOffset + memberSize > size) throw Corrupt("a compound member's offset overflows the compound's size", at, path);
                switch (memberClass)
                {
                    case ClassAtomic:
                        Need(index, 4);
                        var p = Atomic(index);
                        index += 4;
                        DecodeAtomic(offset + memberOffset, p);
                        break;
                    case ClassArray:
                        DecodeArray(offset + memberOffset, ref index, depth + 1);
                        break;
                    case ClassCompound:
                        DecodeCompound(offset + memberOffset, ref index, depth + 1);
                        break;
                    case ClassNoOp:
                        index++;
                        DecodeNoOp(offset + memberOffset, memberSize);
                        break;
                    default:
                        throw Corrupt($"compound member class {memberClass}", at, path);
                }
            }
        }

        private InvalidModelContentException Truncated() => Corrupt("packed data ends before the chunk's last value", at, path);
    }

    private static InvalidModelContentException Corrupt(string detail, long at, string path) =>
        Hdf5Errors.Invalid($"nbit (filter 5) chunk cannot be unpacked: {detail}", at, path);
}
