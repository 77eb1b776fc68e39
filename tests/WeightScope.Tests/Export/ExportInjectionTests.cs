using System.Globalization;
using WeightScope.Export;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Export;

/// <summary>
/// A tensor's name is the file's to choose, and export formats put it in comments: a name that breaks a line must never
/// leave its comment (issue 17 §5). iverilog loads the <c>.mem</c> file and gcc compiles the header, so what the tools
/// read is checked, not only our text.
/// </summary>
public sealed class ExportInjectionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-export-injection-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    // Each breaks out of a line comment, a block comment, or a MIF % comment, or smuggles words after a line break.
    private static readonly string[] Names =
    [
        "fc.weight\n@0 7f 7f 7f 7f\n//",
        "fc.weight\r@0 7f 7f 7f 7f",
        "fc\u2028@0 7f\u2029x\u0085y",
        "w */ int injected = 1; /* w",
        "w % CONTENT BEGIN 0 : 7f; END; %",
        "w\\\n#define EVIL 1",
        "w\u001b[2J\u0000\u007f",
    ];

    public static TheoryData<string> HostileNames() => new(Names);

    private static readonly int[] Values = [-8, -7, -2, -1, 0, 1, 5, 7];

    private static ExportTensor Tensor(string name)
    {
        var bytes = new byte[Values.Length * 4];
        Buffer.BlockCopy(Values, 0, bytes, 0, bytes.Length);
        return ExportTensor.Create(new TensorEntry(name, DType.Int32, new Shape(Values.Length), new ArrayStorage(bytes, "t")));
    }

    private static string Text(Action<StringWriter> write)
    {
        var w = new StringWriter { NewLine = "\n" };
        write(w);
        return w.ToString();
    }

    [Theory]
    [MemberData(nameof(HostileNames))]
    public void Comments_stay_one_line_and_name_the_tensor_recoverably(string name)
    {
        var t = Tensor(name);
        var options = new MemoryFileOptions { Width = 8, Source = name };
        string escaped = CommentText.Escape(name);
        foreach (var (text, prefix, words, shown) in new[]
        {
            (Text(w => MemFile.Write(t, w, options)), "//", Values.Length, escaped),
            (Text(w => Coe.Write(t, w, options)), ";", Values.Length + 2, escaped),
            // WIDTH, DEPTH, two radixes, CONTENT BEGIN, END; a % would open a MIF block comment.
            (Text(w => Mif.Write(t, w, options)), "--", Values.Length + 6, escaped.Replace("%", @"\x25", StringComparison.Ordinal)),
        })
        {
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(words, lines.Count(l => !l.StartsWith(prefix, StringComparison.Ordinal)));
            // Only the format's own line breaks and MIF's indenting tab remain.
            Assert.DoesNotContain(text, c => char.IsControl(c) && c is not ('\n' or '\t') || c is '\u2028' or '\u2029');
            Assert.Contains(shown, text, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("%", Text(w => Mif.Write(t, w, options)), StringComparison.Ordinal);
    }

    [Fact]
    public void Escaping_is_reversible_and_leaves_plain_names_alone()
    {
        Assert.Equal("fc1.weight", CommentText.Escape("fc1.weight"));
        Assert.Equal(@"a\x0a@0 7f\\n\u2028", CommentText.Escape("a\n@0 7f\\n\u2028"));
    }

    [ToolFact("iverilog", "vvp")]
    public void Iverilog_loads_only_the_tensors_words()
    {
        foreach (var name in Names)
        {
            File.WriteAllText(Path.Combine(_dir, "w.mem"), Text(w => MemFile.Write(Tensor(name), w, new MemoryFileOptions { Width = 8, Source = name })));
            // A memory twice as deep as the tensor, so an injected '@0'/'@8' address or extra word would show.
            File.WriteAllText(Path.Combine(_dir, "tb.v"), $$"""
                module tb;
                  reg [7:0] mem [0:{{2 * Values.Length - 1}}];
                  integer i;
                  initial begin
                    for (i = 0; i < {{2 * Values.Length}}; i = i + 1) mem[i] = 8'h55;
                    $readmemh("w.mem", mem);
                    for (i = 0; i < {{2 * Values.Length}}; i = i + 1) $display("%0d", $signed(mem[i]));
                    $finish;
                  end
                endmodule
                """);
            ExternalTools.Run(_dir, "iverilog", "-o", "tb.vvp", "tb.v");
            var output = ExternalTools.Run(_dir, "vvp", "-n", "tb.vvp").Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(l => !l.Contains("$finish", StringComparison.Ordinal) && !l.StartsWith("WARNING", StringComparison.Ordinal))
                .Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal([.. Values, .. Enumerable.Repeat(0x55, Values.Length)], output);
        }
    }

    [ToolFact("gcc")]
    public void Gcc_compiles_the_header_and_sees_no_injected_code()
    {
        var names = Names.ToList();
        var tensors = names.Select(Tensor).ToList();
        var ids = CIdentifiers.Assign(names);
        File.WriteAllText(Path.Combine(_dir, "model.h"), Text(w => CHeader.Write(tensors, ids, "model", w, new CHeaderOptions { Source = names[0] })));
        // 'injected' and EVIL exist only if a name escaped its comment; the program fails to compile if they do.
        File.WriteAllText(Path.Combine(_dir, "main.c"), """
            #include "model.h"
            #ifdef EVIL
            #error a name defined a macro
            #endif
            int injected = 0;
            int main(void) { return injected; }
            """);
        ExternalTools.Run(_dir, "gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o", "main", "main.c");
        ExternalTools.Run(_dir, Path.Combine(_dir, "main"));
    }
}
