namespace WeightScope.Formats.Hdf5.Filters;

/// <summary>
/// BloscLZ decompression (c-blosc <c>blosclz.c</c>, <c>blosclz_decompress</c>), the default codec of blosc frames. The
/// first control byte's low 5 bits (its top bits mark the format) start the stream. A control byte below 32 is a literal
/// run of control+1 bytes; otherwise its top 3 bits are a match length − 2 (7: extended by following bytes while they
/// are 255), its low 5 bits with the next byte the distance − 1; a distance byte of 255 with high bits 31 takes a 16-bit
/// distance from the next two bytes, plus 8191.
/// </summary>
internal static class BloscLz
{
    private const int LiteralLimit = 32;
    private const int ExtendedLength = 7;
    private const int MaxDistance = 8191;

    /// <summary>Decompresses <paramref name="input"/>, which must fill <paramref name="output"/> exactly.</summary>
    public static void Decompress(ReadOnlySpan<byte> input, Span<byte> output, long at, string path)
    {
        if (input.Length == 0) throw Corrupt(at, path);
        int ip = 0, op = 0;
        int ctrl = input[ip++] & 31;
        while (true)
        {
            if (ctrl >= LiteralLimit)
            {
                int len = (ctrl >> 5) - 1;
                int ofs = (ctrl & 31) << 8;
                int code;
                if (len == ExtendedLength - 1)
                {
                    do
                    {
                        if (ip + 1 >= input.Length) throw Corrupt(at, path);
                        code = input[ip++];
                        len += code;
                    } while (code == 255);
                }
                else if (ip + 1 >= input.Length) throw Corrupt(at, path);
                code = input[ip++];
                len += 3;
                long reference = (long)op - ofs - code;
                if (code == 255 && ofs == 31 << 8)
                {
                    if (ip + 1 >= input.Length) throw Corrupt(at, path);
                    ofs = input[ip++] << 8;
                    ofs += input[ip++];
                    reference = (long)op - ofs - MaxDistance;
                }
                if ((long)op + len > output.Length || reference - 1 < 0) throw Corrupt(at, path);
                if (ip >= input.Length) break; // as blosclz_decompress: a stream never ends on a match (the compressor ends with literals)
                ctrl = input[ip++];
                reference--;
                for (int i = 0; i < len; i++) output[op++] = output[(int)reference++]; // overlapping copies repeat bytes
            }
            else
            {
                int run = ctrl + 1;
                if (op + run > output.Length || ip + run > input.Length) throw Corrupt(at, path);
                input.Slice(ip, run).CopyTo(output[op..]);
                op += run;
                ip += run;
                if (ip >= input.Length) break;
                ctrl = input[ip++];
            }
        }
        if (op != output.Length) throw Codecs.Corrupt("blosc (filter 32001)", $"a BloscLZ stream decodes to {op} bytes, expected {output.Length}", at, path);
    }

    private static InvalidModelContentException Corrupt(long at, string path) =>
        Codecs.Corrupt("blosc (filter 32001)", "a BloscLZ stream is corrupt (a run or match leaves the block)", at, path);
}
