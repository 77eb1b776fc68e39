namespace WeightScope.Export;

/// <summary>
/// Xilinx coefficient files (<c>.coe</c>) for Block Memory Generator / Distributed Memory initialisation:
/// <c>memory_initialization_radix=16;</c> then <c>memory_initialization_vector=</c> with the words separated by commas and
/// ended by <c>;</c>. Comments start with <c>;</c>. Words are the width-bit two's complement patterns in every radix
/// (radix 10 writes the unsigned pattern: the memory holds bits, not signed numbers).
/// </summary>
public static class Coe
{
    /// <summary>File extension.</summary>
    public const string Extension = ".coe";

    /// <summary>Writes <paramref name="t"/>'s words.</summary>
    /// <exception cref="Writing.ModelWriteException">No integer words, or a word wider than the width.</exception>
    public static void Write(ExportTensor t, TextWriter output, MemoryFileOptions? options = null)
    {
        options ??= new MemoryFileOptions();
        var (words, width) = MemoryWords.Prepare(t, options, ".coe");
        if (options.Source is not null) output.WriteLine($"; from {CommentText.Escape(options.Source)}");
        output.WriteLine($"; {CommentText.Escape(MemoryWords.Describe(t, width))}");
        output.WriteLine($"memory_initialization_radix={options.Radix switch { Radix.Hex => 16, Radix.Binary => 2, _ => 10 }};");
        output.WriteLine("memory_initialization_vector=");
        for (long i = 0; i < words.LongLength; i++)
            output.WriteLine(MemoryWords.Format(words[i], width, options.Radix) + (i == words.LongLength - 1 ? ";" : ","));
        if (words.LongLength == 0) output.WriteLine(";");
    }
}
