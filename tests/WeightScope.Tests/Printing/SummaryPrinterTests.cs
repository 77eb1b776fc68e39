using WeightScope.Modules;
using WeightScope.Printing;
using Xunit;

namespace WeightScope.Tests.Printing;

/// <summary>The model.summary()-style table: shape of the table, wrapping, marks and total lines.</summary>
public class SummaryPrinterTests
{
    private static string Print(string file, bool expand = false, int? width = null)
    {
        using var model = ModelFile.Open(file);
        return SummaryPrinter.Format(ModelSummary.Of(model, expand), width);
    }

    private static List<string> TableLines(string text) =>
        text.Split('\n').Where(l => l.Length > 0 && "┏┃┡│├└".Contains(l[0])).ToList();

    [Fact]
    public void Table_is_rectangular_with_keras_header_and_totals()
    {
        var text = Print(TestPaths.Fixture("keras", "nested_full_model.h5"), expand: true);
        var lines = text.Split('\n');
        Assert.Equal("Model: \"model\"", lines[0]);
        var table = TableLines(text);
        Assert.All(table, l => Assert.Equal(table[0].Length, l.Length));
        Assert.Matches(@"^┃ Layer \(type\) +┃ Weights +┃ Param # ┃ Trainable ┃$", table[1]);
        Assert.Contains(table, l => l.StartsWith("│    └ enc_frozen (Dense) ", StringComparison.Ordinal) && l.Contains("│     N     │", StringComparison.Ordinal));
        Assert.Contains(table, l => l.StartsWith("│ input_1 (InputLayer) ", StringComparison.Ordinal) && l.Contains("│     -     │", StringComparison.Ordinal));
        Assert.Contains(" Total params: 76 (304.00 B)", lines);
        Assert.Contains(" Trainable params: 35 (140.00 B)", lines);
        Assert.Contains(" Non-trainable params: 41 (164.00 B)", lines);
        Assert.Contains(" Optimizer state: 7 (32.00 B), not in Total", lines); // Keras 2 file: the optimizer is not in Total
    }

    [Fact]
    public void Long_weight_lists_wrap_inside_their_cell_and_the_table_fits_the_width()
    {
        var text = Print(TestPaths.Fixture("keras", "nested_full_model.h5"), width: 72);
        var table = TableLines(text);
        Assert.All(table, l => Assert.True(l.Length <= 72, $"{l.Length} > 72: {l}"));
        // bn's four weights do not fit on one line: the row continues on the next, names never cut in half.
        int bn = table.FindIndex(l => l.StartsWith("│ bn (BatchNormalization)", StringComparison.Ordinal));
        Assert.StartsWith("│                         │ ", table[bn + 1]);
        var weightsCells = table.Skip(bn).TakeWhile(l => l[0] == '│').Select(l => l.Split('│')[2].Trim()).ToList();
        Assert.True(weightsCells.Count >= 2, text);
        Assert.Contains("moving_variance (3,)", string.Join(" ", weightsCells));
    }

    [Fact]
    public void State_dict_rows_are_marked_unknown_and_the_total_says_why()
    {
        var text = Print(Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth"));
        Assert.Contains(TableLines(text), l => l.StartsWith("│ fc1 ", StringComparison.Ordinal) && l.Contains("│     ?     │", StringComparison.Ordinal));
        Assert.Contains(" Unknown-role params: 61 (244.00 B): the file does not record which are trainable", text.Split('\n'));
        Assert.Contains(" Total params: 61 (244.00 B)", text.Split('\n'));
    }
}
