using System.Buffers.Binary;

namespace WeightScope.Formats.Hdf5.Filters;

/// <summary>
/// The szip filter (id 4) as libhdf5 built with libaec runs it: <c>H5Zszip.c</c> stores the decoded size (4 bytes, LE)
/// before what libaec's <c>SZ_BufftoBuffCompress</c> (<c>sz_compat.c</c>) wrote. Client data: [0] szip options
/// (EC 4 / NN 32 preprocessing, LSB 8 / MSB 16 sample order, raw 128), [1] pixels per block, [2] bits per pixel,
/// [3] pixels per scanline. As <c>sz_compat.c</c> does: 32- and 64-bit pixels are coded as 8-bit samples of byte planes
/// (interleaved back after decoding), and a scanline that is not a whole number of blocks was padded to one.
/// </summary>
internal static class Szip
{
    private const int OptionMsb = 16;           // SZ_MSB_OPTION_MASK → AEC_DATA_MSB
    private const int OptionNearestNeighbour = 32; // SZ_NN_OPTION_MASK → AEC_DATA_PREPROCESS
    private const int SizeHeader = 4;
    private const int MaxBlockSize = 64;        // libaec's largest block
    private const int MaxBlocksPerRsi = 4096;   // libaec's largest reference sample interval (in blocks)

    /// <summary>Decodes one chunk into at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] Decode(byte[] input, uint[] cd, int maxBytes, long at, string path)
    {
        if (cd.Length != 4) throw Corrupt($"client data has {cd.Length} values, not 4", at, path);
        uint options = cd[0], pixelsPerBlock = cd[1], bitsPerPixel = cd[2], pixelsPerScanline = cd[3];
        if (input.Length < SizeHeader) throw Corrupt("chunk is shorter than its 4-byte size header", at, path);
        uint declared = BinaryPrimitives.ReadUInt32LittleEndian(input);
        if (declared > maxBytes) throw Corrupt($"chunk declares {declared} decoded bytes, more than the chunk's {maxBytes}", at, path);
        if (pixelsPerBlock is 0 or > MaxBlockSize || pixelsPerScanline == 0)
            throw Corrupt($"{pixelsPerBlock} pixels per block, {pixelsPerScanline} per scanline", at, path);
        long rsi = (pixelsPerScanline + pixelsPerBlock - 1) / pixelsPerBlock;
        if (rsi > MaxBlocksPerRsi) throw Corrupt($"{pixelsPerScanline} pixels per scanline make more than {MaxBlocksPerRsi} blocks", at, path);
        // aec_decode_init refuses samples of 0 or more than 32 bits (unsigned: libhdf5's int cast of a huge value too).
        if (bitsPerPixel == 0 || (bitsPerPixel > 32 && bitsPerPixel != 64)) throw Corrupt($"{bitsPerPixel} bits per pixel", at, path);
        bool deinterleave = bitsPerPixel is 32 or 64;
        int bitsPerSample = deinterleave ? 8 : (int)bitsPerPixel;
        int pixelSize = bitsPerSample > 16 ? 4 : bitsPerSample > 8 ? 2 : 1;
        bool padScanline = pixelsPerScanline % pixelsPerBlock != 0;

        long destLength = declared;
        long scanlines = (destLength / pixelSize + pixelsPerScanline - 1) / pixelsPerScanline;
        long bufferSize = padScanline ? rsi * pixelsPerBlock * pixelSize * scanlines : destLength;
        if (bufferSize > (long)maxBytes * 2 + MaxBlockSize * MaxBlocksPerRsi * 4L)
            throw Corrupt($"padded scanlines need {bufferSize} bytes", at, path);
        var buffer = new byte[bufferSize];
        var aec = new AecDecoder(input, SizeHeader, buffer, bitsPerSample, (int)pixelsPerBlock, (int)rsi,
            (options & OptionMsb) != 0, (options & OptionNearestNeighbour) != 0);
        long produced;
        try { produced = aec.Run(); }
        catch (IndexOutOfRangeException) { throw Corrupt("coded data is inconsistent with its block structure", at, path); }
        if (produced < 0) throw Corrupt("coded data is invalid (a block option or zero run that cannot occur)", at, path);

        long total = produced;
        if (padScanline)
        {
            long line = pixelsPerScanline * pixelSize, padded = rsi * pixelsPerBlock * pixelSize;
            long to = line;
            for (long from = padded; from < produced; from += padded, to += line)
                buffer.AsSpan((int)from, (int)Math.Min(line, buffer.Length - from)).CopyTo(buffer.AsSpan((int)to));
            total = scanlines * pixelsPerScanline * pixelSize;
        }
        if (total < destLength) destLength = total;
        var output = new byte[destLength];
        if (deinterleave)
        {
            int width = (int)(bitsPerPixel / 8);
            long n = destLength / width;
            for (long i = 0; i < n; i++)
                for (int j = 0; j < width; j++)
                    output[i * width + j] = buffer[j * n + i];
        }
        else buffer.AsSpan(0, (int)destLength).CopyTo(output);
        return output;
    }

    private static InvalidModelContentException Corrupt(string detail, long at, string path) =>
        Hdf5Errors.Invalid($"szip (filter 4) chunk cannot be decoded: {detail}", at, path);

    /// <summary>
    /// libaec's adaptive entropy decoder (<c>decode.c</c>, CCSDS 121.0-B), run over a whole buffer: each coded data set
    /// starts with an option id — low entropy (second extension or zero blocks), split-sample with k low bits, or
    /// uncompressed — and a reference sample opens each reference sample interval when preprocessing is on. Samples
    /// collect per interval and are written out (preprocessing undone) when the interval is full and at the end.
    /// Decoding stops when the output is full or the input ends, as <c>aec_buffer_decode</c> does.
    /// </summary>
    private sealed class AecDecoder
    {
        private const int Ros = 5;
        private const int SeTableSize = 90;
        private static readonly int[] SeTable = CreateSeTable();

        private readonly byte[] _in;
        private int _inPos;
        private ulong _acc;
        private int _bitp;
        private readonly byte[] _out;
        private int _outPos;
        private long _availOut;
        private readonly int _bps, _blockSize, _rsiBlocks, _idLen, _bytesPerSample;
        private readonly bool _msb, _pp;
        private readonly uint _xmax;
        private readonly uint[] _rsi;
        private int _rsip, _flushStart;
        private uint _lastOut;
        private int _ref, _encodedBlockSize;

        public AecDecoder(byte[] input, int start, byte[] output, int bitsPerSample, int blockSize, int rsiBlocks, bool msb, bool preprocess)
        {
            _in = input; _inPos = start; _out = output; _availOut = output.Length;
            _bps = bitsPerSample; _blockSize = blockSize; _rsiBlocks = rsiBlocks; _msb = msb; _pp = preprocess;
            (_idLen, _bytesPerSample) = bitsPerSample > 16 ? (5, 4) : bitsPerSample > 8 ? (4, 2) : (3, 1);
            _xmax = (uint)((1UL << bitsPerSample) - 1);
            _rsi = new uint[rsiBlocks * blockSize];
            _ref = preprocess ? 1 : 0;
            _encodedBlockSize = blockSize - _ref;
        }

        /// <summary>Bytes written, or −1 for invalid coded data.</summary>
        public long Run()
        {
            bool first = true;
            while (true)
            {
                if (!first) NextCds();
                first = false;
                if (!Ask(_idLen)) break;
                int id = (int)Get(_idLen);
                Drop(_idLen);
                Status s = id == 0 ? LowEntropy() : id == (1 << _idLen) - 1 ? Uncompressed() : Split(id - 1);
                if (s == Status.Error) return -1;
                if (s == Status.Exit) break;
            }
            Flush();
            return _outPos;
        }

        private enum Status { Continue, Exit, Error }

        // m_next_cds: a full interval is written out, and the next one starts with a reference sample.
        private void NextCds()
        {
            if (_rsip == _rsi.Length)
            {
                Flush();
                _flushStart = 0;
                _rsip = 0;
                if (_pp) { _ref = 1; _encodedBlockSize = _blockSize - 1; }
            }
            else { _ref = 0; _encodedBlockSize = _blockSize; }
        }

        private bool Ask(int n)
        {
            while (_bitp < n)
            {
                if (_inPos >= _in.Length) return false;
                _acc = (_acc << 8) | _in[_inPos++];
                _bitp += 8;
            }
            return true;
        }

        private uint Get(int n) => (uint)((_acc >> (_bitp - n)) & (ulong.MaxValue >> (64 - n)));

        private void Drop(int n) => _bitp -= n;

        // A fundamental sequence: the number of 0 bits before the next 1 bit (dropped). False when the input ends.
        private bool Fs(out uint fs)
        {
            fs = 0;
            if (!Ask(1)) return false;
            while ((_acc & (1UL << (_bitp - 1))) == 0)
            {
                if (_bitp == 1)
                {
                    if (_inPos >= _in.Length) return false;
                    _acc = (_acc << 8) | _in[_inPos++];
                    _bitp += 8;
                }
                fs++;
                _bitp--;
            }
            _bitp--;
            return true;
        }

        private bool Put(uint sample)
        {
            if (_availOut < _bytesPerSample) return false;
            _rsi[_rsip++] = sample;
            _availOut -= _bytesPerSample;
            return true;
        }

        private bool CopySample()
        {
            if (!Ask(_bps) || _availOut < _bytesPerSample) return false;
            Put(Get(_bps));
            Drop(_bps);
            return true;
        }

        private Status LowEntropy()
        {
            if (!Ask(1)) return Status.Exit;
            uint id = Get(1);
            Drop(1);
            if (_ref != 0 && !CopySample()) return Status.Exit;
            return id == 1 ? SecondExtension() : ZeroBlock();
        }

        private Status SecondExtension()
        {
            for (int i = _ref; i < _blockSize;)
            {
                if (!Fs(out uint m)) return Status.Exit;
                if (m > SeTableSize) return Status.Error;
                int d1 = (int)m - SeTable[2 * m + 1];
                if ((i & 1) == 0)
                {
                    if (!Put((uint)(SeTable[2 * m] - d1))) return Status.Exit;
                    i++;
                }
                if (!Put((uint)d1)) return Status.Exit;
                i++;
            }
            return Status.Continue;
        }

        private Status ZeroBlock()
        {
            if (!Fs(out uint fs)) return Status.Exit;
            long zeroBlocks = fs + 1L;
            if (zeroBlocks == Ros)
            {
                int b = _rsip / _blockSize;
                zeroBlocks = Math.Min(_rsiBlocks - b, 64 - b % 64);
            }
            else if (zeroBlocks > Ros) zeroBlocks--;
            long zeroSamples = zeroBlocks * _blockSize - _ref;
            if (_rsi.Length - _rsip < zeroSamples) return Status.Error;
            for (long i = 0; i < zeroSamples; i++)
                if (!Put(0)) return Status.Exit;
            return Status.Continue;
        }

        private Status Split(int k)
        {
            if (_ref != 0 && !CopySample()) return Status.Exit;
            int start = _rsip;
            if (start + _encodedBlockSize > _rsi.Length) return Status.Error;
            for (int i = 0; i < _encodedBlockSize; i++)
            {
                if (!Fs(out uint fs)) return Status.Exit;
                _rsi[start + i] = fs << k;
            }
            for (int i = 0; i < _encodedBlockSize; i++)
            {
                if ((k != 0 && !Ask(k)) || _availOut < _bytesPerSample) return Status.Exit;
                if (k != 0) { _rsi[_rsip] += Get(k); Drop(k); }
                _rsip++;
                _availOut -= _bytesPerSample;
            }
            return Status.Continue;
        }

        private Status Uncompressed()
        {
            for (int i = 0; i < _blockSize; i++)
                if (!CopySample()) return Status.Exit;
            return Status.Continue;
        }

        // FLUSH: writes the interval's new samples, undoing the unit-delay predictor's mapping when preprocessing is on.
        private void Flush()
        {
            if (_pp)
            {
                if (_flushStart == 0 && _rsip > 0)
                {
                    _lastOut = _rsi[0];
                    Emit(_lastOut);
                    _flushStart++;
                }
                uint data = _lastOut, xmax = _xmax, med = xmax / 2 + 1;
                for (int bp = _flushStart; bp < _rsip; bp++)
                {
                    uint d = _rsi[bp];
                    uint halfD = (d >> 1) + (d & 1);
                    uint mask = (data & med) != 0 ? xmax : 0;
                    if (halfD <= (mask ^ data)) data += (d >> 1) ^ ~((d & 1) - 1);
                    else data = mask ^ d;
                    Emit(data);
                }
                _lastOut = data;
            }
            else
                for (int bp = _flushStart; bp < _rsip; bp++) Emit(_rsi[bp]);
            _flushStart = _rsip;
        }

        private void Emit(uint v)
        {
            switch (_bytesPerSample)
            {
                case 1: _out[_outPos++] = (byte)v; break;
                case 2:
                    if (_msb) BinaryPrimitives.WriteUInt16BigEndian(_out.AsSpan(_outPos), (ushort)v);
                    else BinaryPrimitives.WriteUInt16LittleEndian(_out.AsSpan(_outPos), (ushort)v);
                    _outPos += 2;
                    break;
                default:
                    if (_msb) BinaryPrimitives.WriteUInt32BigEndian(_out.AsSpan(_outPos), v);
                    else BinaryPrimitives.WriteUInt32LittleEndian(_out.AsSpan(_outPos), v);
                    _outPos += 4;
                    break;
            }
        }

        private static int[] CreateSeTable()
        {
            var table = new int[2 * (SeTableSize + 1)];
            int k = 0;
            for (int i = 0; i < 13; i++)
            {
                int ms = k;
                for (int j = 0; j <= i; j++) { table[2 * k] = i; table[2 * k + 1] = ms; k++; }
            }
            return table;
        }
    }
}
