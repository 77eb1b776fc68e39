using System.Text.Json;
using WeightScope.Modules;
using WeightScope.Printing;
using Xunit;

namespace WeightScope.Tests.Modules;

/// <summary>
/// <see cref="ModelSummary"/> against Keras's own counts: the roles keras_fixtures.py derived from Keras's saving rules
/// (tests/fixtures/keras/*expected.json) and model.summary() outputs printed by Keras in the corpus files' source
/// repositories (tests/fixtures/keras/corpus_summaries.json, quoted with repository, path and commit).
/// </summary>
public class ModelSummaryTests
{
    private static JsonElement Answers(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Fixture("keras", file)));
        return doc.RootElement.Clone();
    }

    public static TheoryData<string> Fixtures() => new(Answers("expected.json").EnumerateObject().Select(p => p.Name));

    public static TheoryData<string> CorpusFiles() => new(Answers("corpus_expected.json").EnumerateObject().Select(p => p.Name));

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Keras_h5_fixture_totals_split_by_the_roles_keras_gives(string file) =>
        AssertTotals(TestPaths.Fixture("keras", file), "expected.json", file);

    [CorpusTheory]
    [MemberData(nameof(CorpusFiles))]
    public void Keras_h5_corpus_totals_split_by_the_roles_keras_gives(string file) =>
        AssertTotals(TestPaths.CorpusFile(file), "corpus_expected.json", file);

    private static void AssertTotals(string path, string answers, string file)
    {
        var expected = Answers(answers).GetProperty(file).GetProperty("tensors").EnumerateArray().ToList();
        long Sum(string role) => expected.Where(t => t.GetProperty("role").GetString() == role)
            .Sum(t => t.GetProperty("shape").EnumerateArray().Aggregate(1L, (a, d) => a * d.GetInt64()));

        using var model = ModelFile.Open(path);
        var s = ModelSummary.Of(model);
        Assert.Equal(Sum("Parameter"), s.Trainable.Params);
        Assert.Equal(Sum("Buffer"), s.NonTrainable.Params);
        Assert.Equal(Sum("OptimizerState"), s.Optimizer.Params);
        Assert.False(s.TotalIncludesOptimizer); // Keras 2's summary leaves the optimizer out
        Assert.Equal(Sum("Parameter") + Sum("Buffer") + Sum("Other"), s.Total.Params);
        // Every model weight belongs to exactly one layer row (nested models counted in their row).
        Assert.Equal(s.Trainable.Params + s.NonTrainable.Params, s.Rows.Where(r => r.Depth == 0).Sum(r => r.Params));
    }

    public static TheoryData<string> SummarisedCorpusFiles() =>
        new(Answers("corpus_summaries.json").EnumerateObject().Where(p => !p.Name.StartsWith('_')).Select(p => p.Name));

    /// <summary>
    /// The rows and counts Keras printed for these models in their source repositories. Those summaries ran before
    /// compile/fit, so the optimizer state saved later is left out of the comparison (Keras 3 would add it to Total).
    /// </summary>
    [CorpusTheory]
    [MemberData(nameof(SummarisedCorpusFiles))]
    public void Corpus_models_summarise_as_keras_printed_them(string file)
    {
        var expected = Answers("corpus_summaries.json").GetProperty(file);
        using var model = ModelFile.Open(TestPaths.CorpusFile(file));
        var s = ModelSummary.Of(model);
        Assert.Equal(expected.GetProperty("model").GetString(), s.ModelName);
        Assert.Equal(
            expected.GetProperty("rows").EnumerateArray().Select(r => (r[0].GetString()!, r[1].GetString(), r[2].GetInt64())),
            s.Rows.Select(r => (r.Name, r.Type, r.Params)));
        (long, string) Pair(string key) => (expected.GetProperty(key)[0].GetInt64(), expected.GetProperty(key)[1].GetString()!);
        Assert.Equal(Pair("trainable"), (s.Trainable.Params, s.Trainable.ReadableSize()));
        Assert.Equal(Pair("non_trainable"), (s.NonTrainable.Params, s.NonTrainable.ReadableSize()));
        var beforeCompile = s.TotalIncludesOptimizer ? s.Total.Params - s.Optimizer.Params : s.Total.Params;
        Assert.Equal(Pair("total").Item1, beforeCompile);
        // And the printed lines themselves, where the optimizer does not enter the total.
        var text = SummaryPrinter.Format(s);
        if (!s.TotalIncludesOptimizer)
            Assert.Contains($" Total params: {Pair("total").Item1:N0} ({Pair("total").Item2})", text.Split('\n'));
        Assert.Contains($" Trainable params: {Pair("trainable").Item1:N0} ({Pair("trainable").Item2})", text.Split('\n'));
    }

    [Fact]
    public void Frozen_layers_and_batchnorm_statistics_are_non_trainable_rows_and_counts()
    {
        using var model = ModelFile.Open(TestPaths.Fixture("keras", "nested_full_model.h5"));
        var s = ModelSummary.Of(model, expandNested: true);
        var rows = s.Rows.ToDictionary(r => r.Name);
        Assert.Equal(LayerTrainable.NoWeights, rows["input_1"].Trainable);
        Assert.Equal(LayerTrainable.Yes, rows["encoder"].Trainable);
        Assert.Equal(1, rows["enc_frozen"].Depth);
        Assert.Equal(LayerTrainable.No, rows["enc_frozen"].Trainable);
        Assert.Equal(LayerTrainable.No, rows["frozen_conv"].Trainable);
        Assert.Equal(LayerTrainable.Yes, rows["bn"].Trainable); // layer.trainable is True; only its moving stats are not
        Assert.Equal(rows["enc_dense"].Params + rows["enc_frozen"].Params, rows["encoder"].Params);
        Assert.Equal("model", s.ModelName);
        // Not expanded: the model's 5 layers, then the weight the Functional model owns itself (top_level_model_weights).
        var top = ModelSummary.Of(model).Rows;
        Assert.Equal(6, top.Count);
        Assert.Equal(ModelSummary.OwnWeightsRowName, top[^1].Name);
        Assert.Equal(["temperature"], top[^1].Weights.Select(w => w.Name));
    }

    [Fact]
    public void A_state_dict_has_unknown_roles_counted_in_the_total()
    {
        using var model = ModelFile.Open(Path.Combine(TestPaths.RepoRoot, "samples", "simple_nn.pth"));
        var s = ModelSummary.Of(model);
        Assert.Equal(["fc1", "fc2"], s.Rows.Select(r => r.Name));
        Assert.All(s.Rows, r => Assert.Equal(LayerTrainable.Unknown, r.Trainable));
        Assert.Equal(model.Tensors.Sum(t => t.ElementCount), s.Total.Params);
        Assert.Equal(s.Total, s.Other);
        Assert.Equal(0, s.Trainable.Params);
    }

    [Theory]
    [InlineData(0, "0.00 B")]
    [InlineData(1023, "1023.00 B")]
    [InlineData(1024, "1.00 KB")]
    [InlineData(251156, "245.27 KB")] // 62,789 float32 weights: the emoji LSTM's summary line
    [InlineData(11780, "11.50 KB")]   // 2,945 float32 weights: the churn ANN's summary line
    [InlineData(1152, "1.12 KB")]      // 1.125: Python rounds the tie to even, .NET's F2 would give 1.13
    [InlineData(3L << 30, "3.00 GB")]
    public void Sizes_read_as_keras_prints_them(long bytes, string expected) =>
        Assert.Equal(expected, new WeightCount(0, bytes).ReadableSize());
}
