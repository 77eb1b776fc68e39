namespace WeightScope.Formats.Hdf5.Filters;

/// <summary>
/// LZF decompression (liblzf's lzf_d.c), as h5py's filter 32000 stores chunks. A control byte below 32 starts a literal
/// run of control+1 bytes; otherwise its top 3 bits (7 = extended by the next byte) give a back-reference length − 2
/// and its low 5 bits with the next byte the distance − 1.
/// </summary>
internal static class Lzf
{
    private const int LiteralLimit = 32;
    private const int ExtendedLength = 7;

    /// <summary>Decompresses <paramref name="input"/> into at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] Decompress(byte[] input, int maxBytes, long at, string path)
    {
        // Grow with the output actually produced rather than trusting the declared chunk size up front.
        var output = new byte[Math.Min(maxBytes, Math.Max(64, input.Length * 4))];
        int ip = 0, op = 0;
        while (ip < input.Length)
        {
            int ctrl = input[ip++];
            if (ctrl < LiteralLimit)
            {
                int run = ctrl + 1;
                if (ip + run > input.Length || op + run > maxBytes) throw Corrupt(at, path);
                Ensure(ref output, op + run, maxBytes);
                Array.Copy(input, ip, output, op, run);
                ip += run;
                op += run;
                continue;
            }
            int len = ctrl >> 5;
            if (len == ExtendedLength)
            {
                if (ip >= input.Length) throw Corrupt(at, path);
                len += input[ip++];
            }
            if (ip >= input.Length) throw Corrupt(at, path);
            int reference = op - ((ctrl & 0x1f) << 8) - input[ip++] - 1;
            len += 2;
            if (reference < 0 || op + len > maxBytes) throw Corrupt(at, path);
            Ensure(ref output, op + len, maxBytes);
            for (int i = 0; i < len; i++) output[op++] = output[reference++]; // overlapping copies repeat bytes
        }
        return op == output.Length ? output : output[..op];
    }

    private static void Ensure(ref byte[] output, int needed, int maxBytes)
    {
        if (needed <= output.Length) return;
        Array.Resize(ref output, (int)Math.Min(maxBytes, Math.Max(needed, 2L * output.Length)));
    }

    private static InvalidModelContentException Corrupt(long at, string path) =>
        Hdf5Errors.Invalid("LZF chunk is corrupt (a run or back-reference leaves the chunk)", at, path);
}
