using System.Text.Json;
using Xunit;

namespace WeightScope.Tests.Cli;

/// <summary>
/// <c>info</c> and <c>tree --summary</c> on Keras models give one "Total params" figure and the same words about optimizer
/// state (Keras 3 counts optimizer variables in model.summary()'s Total, Keras 2 does not; metric state is no layer's).
/// The figures themselves are checked against Keras's own summaries in ModelSummaryTests.
/// </summary>
public sealed class KerasTotalsCliTests
{
    public static TheoryData<string> KerasFiles()
    {
        var files = new TheoryData<string>();
        foreach (var f in new[] { "nested_full_model.h5", "chunked_layer_names.h5", "keras3_deflated.keras", "keras3_functional.keras", "keras3_zoo.keras", "keras3_plain.weights.h5" })
            files.Add(TestPaths.Fixture("keras", f));
        foreach (var f in new[] { "keras3/churn-ann/churn_model.keras", "keras3/digits-dense-keras3.5/digits_dense_keras3.5.0.keras" })
            files.Add(TestPaths.CorpusFile(f));
        return files;
    }

    [Theory]
    [MemberData(nameof(KerasFiles))]
    public void Info_and_tree_summary_agree(string file)
    {
        if (!File.Exists(file)) return; // corpus absent: the fixtures still run
        var tree = CliRunner.Run("tree", file, "--summary");
        var info = CliRunner.Run("info", file);
        Assert.Equal(0, tree.ExitCode);
        Assert.Equal(0, info.ExitCode);
        // the footer of the summary table, from " Total params:" on, appears in info word for word
        var lines = tree.Stdout.Split('\n');
        int first = Array.FindIndex(lines, l => l.StartsWith(" Total params: ", StringComparison.Ordinal));
        Assert.True(first > 0, tree.Stdout);
        string footer = string.Join('\n', lines[first..]).TrimEnd('\n');
        Assert.Contains(footer, info.Stdout);
        using var summaryJson = JsonDocument.Parse(CliRunner.Run("tree", file, "--summary", "--json").Stdout);
        using var infoJson = JsonDocument.Parse(CliRunner.Run("info", file, "--json").Stdout);
        long total = summaryJson.RootElement.GetProperty("total_params").GetInt64();
        Assert.Contains($"parameters: {total.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} (Total params, as model.summary() counts them)", info.Stdout.Split('\n'));
        var s = infoJson.RootElement.GetProperty("summary");
        foreach (var key in new[] { "total_params", "trainable_params", "non_trainable_params", "optimizer_params", "optimizer_in_total", "outside_model_params" })
            Assert.Equal(summaryJson.RootElement.GetProperty(key).GetRawText(), s.GetProperty(key).GetRawText());
    }

    [Fact]
    public void Info_does_not_count_metric_state_as_parameters()
    {
        // churn_model.keras (Keras 2.15): 2,945 weights in its layers (Keras's own summary in corpus_summaries.json) and 4
        // values of metric state that no layer owns; info counted 2,949 before.
        string file = TestPaths.CorpusFile("keras3/churn-ann/churn_model.keras");
        if (!File.Exists(file)) return;
        using var keras = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("keras", "corpus_summaries.json")));
        long total = keras.RootElement.GetProperty("keras3/churn-ann/churn_model.keras").GetProperty("total")[0].GetInt64();
        Assert.Contains($"parameters: {total.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} (Total params, as model.summary() counts them)", CliRunner.Run("info", file).Stdout.Split('\n'));
    }
}
