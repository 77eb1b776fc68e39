namespace WeightScope.Export;

/// <summary>
/// Intel (Altera) Memory Initialization Files (<c>.mif</c>) for Quartus: <c>WIDTH=…; DEPTH=…; ADDRESS_RADIX=UNS;
/// DATA_RADIX=HEX;</c> then <c>CONTENT BEGIN</c>, one <c>address : word;</c> per line, <c>END;</c>. Comments start with
/// <c>--</c>. Decimal data is written as <c>DEC</c> (signed numbers) for signed words and <c>UNS</c> for unsigned ones.
/// </summary>
public static class Mif
{
    /// <summary>File extension.</summary>
    public const string Extension = ".mif";

    /// <summary>Writes <paramref name="t"/>'s words.</summary>
    /// <exception cref="Writing.ModelWriteException">No integer words, or a word wider than the width.</exception>
    public static void Write(ExportTensor t, TextWriter output, MemoryFileOptions? options = null)
    {
        options ??= new MemoryFileOptions();
        var (words, width) = MemoryWords.Prepare(t, options, ".mif");
        bool signedDecimal = options.Radix == Radix.Decimal && t.Signed;
        string radix = options.Radix switch { Radix.Hex => "HEX", Radix.Binary => "BIN", _ => signedDecimal ? "DEC" : "UNS" };
        if (options.Source is not null) output.WriteLine($"-- from {Comment(options.Source)}");
        output.WriteLine($"-- {Comment(MemoryWords.Describe(t, width))}");
        output.WriteLine($"WIDTH={width};");
        output.WriteLine($"DEPTH={words.LongLength};");
        output.WriteLine("ADDRESS_RADIX=UNS;");
        output.WriteLine($"DATA_RADIX={radix};");
        output.WriteLine("CONTENT BEGIN");
        for (long i = 0; i < words.LongLength; i++)
            output.WriteLine($"\t{i} : {MemoryWords.Format(words[i], width, options.Radix, signedDecimal)};");
        output.WriteLine("END;");
    }

    // MIF has block comments too (% … %, Quartus' MIF syntax): a % in a name must not open one.
    private static string Comment(string text) => CommentText.Escape(text).Replace("%", @"\x25", StringComparison.Ordinal);
}
