namespace WeightScope.IO;

/// <summary>Turns a (line, byte in line) position, as System.Text.Json reports it, into a byte offset.</summary>
internal static class TextPosition
{
    /// <summary>Offset of <paramref name="bytePositionInLine"/> on zero-based <paramref name="line"/> of <paramref name="text"/>.</summary>
    public static long Offset(ReadOnlySpan<byte> text, long line, long bytePositionInLine)
    {
        long offset = 0;
        for (long l = 0; l < line; l++)
        {
            int nl = text[(int)offset..].IndexOf((byte)'\n');
            if (nl < 0) return text.Length;
            offset += nl + 1;
        }
        return Math.Min(text.Length, offset + bytePositionInLine);
    }
}
