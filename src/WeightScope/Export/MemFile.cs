namespace WeightScope.Export;

/// <summary>
/// Verilog <c>$readmemh</c> / <c>$readmemb</c> memory files (IEEE 1364 §17.2.8): one word per line, hex or binary digits,
/// <c>//</c> comments. Load with <c>$readmemh("w.mem", mem)</c> into <c>reg [W-1:0] mem [0:DEPTH-1]</c>.
/// </summary>
public static class MemFile
{
    /// <summary>File extension.</summary>
    public const string Extension = ".mem";

    /// <summary>Writes <paramref name="t"/>'s words.</summary>
    /// <exception cref="Writing.ModelWriteException">No integer words, a decimal radix, or a word wider than the width.</exception>
    public static void Write(ExportTensor t, TextWriter output, MemoryFileOptions? options = null)
    {
        options ??= new MemoryFileOptions();
        if (options.Radix == Radix.Decimal)
            throw new Writing.ModelWriteException("$readmemh/$readmemb files are hex or binary; use --radix hex or bin");
        var (words, width) = MemoryWords.Prepare(t, options, ".mem");
        // Checked before anything is written: the caller may be streaming to the final file.
        if (options.Source is not null) output.WriteLine($"// from {CommentText.Escape(options.Source)}");
        output.WriteLine($"// {CommentText.Escape(MemoryWords.Describe(t, width))}; load with $readmem{(options.Radix == Radix.Hex ? "h" : "b")}");
        foreach (var w in words) output.WriteLine(MemoryWords.Format(w, width, options.Radix));
    }
}
