using System.Runtime.InteropServices;
using System.Text.Json;
using WeightScope.Analysis;
using WeightScope.Tensors;
using Xunit;

namespace WeightScope.Tests.Analysis;

/// <summary>
/// Diff against what torch/numpy compute for the same pairs (tests/fixtures/diff/expected.json, written by
/// tests/fixtures/generate/diff_fixtures.py), across formats, with rename rules and prefix detection.
/// </summary>
public sealed class DiffTests
{
    private static string F(string name) => TestPaths.Fixture("diff", name);
    private static readonly JsonElement Expected = JsonDocument.Parse(File.ReadAllText(F("expected.json"))).RootElement;

    public static TheoryData<string> Pairs => new(Expected.EnumerateObject().Where(p => p.Name.Contains('|')).Select(p => p.Name));

    private static double Value(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? e.GetString() switch { "NaN" => double.NaN, "Infinity" => double.PositiveInfinity, _ => double.NegativeInfinity }
        : e.GetDouble();

    private static void Close(double expected, double actual, string what)
    {
        if (double.IsNaN(expected)) { Assert.True(double.IsNaN(actual), $"{what}: expected NaN, got {actual}"); return; }
        Assert.True(Math.Abs(expected - actual) <= 1e-12 * Math.Max(1, Math.Abs(expected)), $"{what}: expected {expected:R}, got {actual:R}");
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Metrics_match_torch_and_numpy(string pair)
    {
        var files = pair.Split('|');
        var want = Expected.GetProperty(pair);
        using var a = ModelFile.Open(F(files[0]));
        using var b = ModelFile.Open(F(files[1]));
        foreach (bool equalNan in new[] { false, true })
        {
            var r = Diff.Compare(a, b, new DiffOptions { EqualNan = equalNan });
            Assert.Equal(want.GetProperty("only_in_a").EnumerateArray().Select(e => e.GetString()), r.OnlyInA);
            Assert.Equal(want.GetProperty("only_in_b").EnumerateArray().Select(e => e.GetString()), r.OnlyInB);
            Assert.Equal(want.GetProperty("shape_mismatch").EnumerateArray().Select(e => e.GetString()), r.Pairs.Where(p => p.ShapeMismatch).Select(p => p.NameA));
            var compared = r.Compared.ToDictionary(c => c.NameA);
            var tensors = want.GetProperty("tensors").EnumerateObject().ToList();
            Assert.Equal(tensors.Select(t => t.Name), compared.Keys);
            foreach (var t in tensors)
            {
                var c = compared[t.Name];
                var e = t.Value;
                Assert.Equal(e.GetProperty("dtype_a").GetString(), c.DTypeA.Name());
                Assert.Equal(e.GetProperty("dtype_b").GetString(), c.DTypeB.Name());
                Assert.Equal(c.DTypeA != c.DTypeB, c.DTypeMismatch);
                Close(Value(e.GetProperty("max_abs")), c.MaxAbsDiff, $"{pair} {t.Name} max_abs");
                Close(Value(e.GetProperty("mean_abs")), c.MeanAbsDiff, $"{pair} {t.Name} mean_abs");
                if (e.GetProperty("rel_l2").ValueKind != JsonValueKind.Null)
                    Close(Value(e.GetProperty("rel_l2")), c.RelativeL2, $"{pair} {t.Name} rel_l2");
                bool bothZero = c.Elements > 0 && c.MaxAbsDiff == 0 && e.GetProperty("rel_l2").ValueKind == JsonValueKind.Null;
                if (!bothZero) Close(Value(e.GetProperty("cosine")), c.Cosine, $"{pair} {t.Name} cosine");
                Assert.Equal(e.GetProperty(equalNan ? "allclose_equal_nan" : "allclose").GetBoolean(), c.Equal);
            }
        }
    }

    [Fact]
    public void Zero_norm_cases_follow_the_documented_definitions()
    {
        using var a = ModelFile.Open(F("zeros_a.pt"));
        using var b = ModelFile.Open(F("zeros_b.pt"));
        var r = Diff.Compare(a, b).Compared.ToDictionary(c => c.NameA);
        // torch's cosine_similarity gives 0 for two zero vectors (its eps clamp); a diff calls them identical.
        Assert.Equal(1.0, r["z"].Cosine);
        Assert.Equal(0.0, r["z"].RelativeL2);
        Assert.True(r["z"].Equal);
        // ‖a‖ = 0 and a ≠ b: the change relative to nothing is infinite; cosine with a zero vector is 0 (as torch).
        Assert.Equal(double.PositiveInfinity, r["zx"].RelativeL2);
        Assert.Equal(0.0, r["zx"].Cosine);
        Assert.Equal(1.0, r["xz"].RelativeL2, 15);
        Assert.Equal(0.0, r["xz"].Cosine);
    }

    [Fact]
    public void Nan_against_nan_is_equal_only_with_equal_nan()
    {
        using var a = ModelFile.Open(F("nan_a.pt"));
        using var b = ModelFile.Open(F("nan_b.pt"));
        var strict = Diff.Compare(a, b).Compared.ToDictionary(c => c.NameA);
        Assert.False(strict["w"].Equal);
        Assert.Equal(1, strict["w"].DifferentElements);
        Assert.True(double.IsNaN(strict["w"].MaxAbsDiff));
        var lenient = Diff.Compare(a, b, new DiffOptions { EqualNan = true }).Compared.ToDictionary(c => c.NameA);
        Assert.True(lenient["w"].Equal);
        Assert.False(lenient["v"].Equal); // NaN against 1.0 never counts as equal
        Assert.Equal(1, lenient["v"].DifferentElements);
    }

    [Theory]
    [InlineData("base.npz")]
    [InlineData("base.onnx")]
    public void A_checkpoint_equals_its_conversion(string other)
    {
        using var a = ModelFile.Open(F("base.pt"));
        using var b = ModelFile.Open(F(other));
        var r = Diff.Compare(a, b);
        Assert.True(r.Identical);
        Assert.Equal(4, r.Compared.Count());
        Assert.All(r.Compared, c => { Assert.Equal(0, c.MaxAbsDiff); Assert.Equal(1, c.Cosine, 12); });
    }

    [Fact]
    public void Dtype_mismatch_is_reported_and_values_still_compared()
    {
        using var a = ModelFile.Open(F("base.pt"));
        using var b = ModelFile.Open(F("half.pt"));
        var r = Diff.Compare(a, b, new DiffOptions { Atol = 1e-3 });
        Assert.Equal(4, r.Mismatches.Count());
        Assert.All(r.Compared, c => { Assert.True(c.DTypeMismatch); Assert.True(c.Equal); Assert.True(c.MaxAbsDiff > 0); });
        Assert.False(r.Identical); // same values within tolerance, but not the same file content
    }

    [Fact]
    public void DataParallel_prefix_is_detected_and_reported()
    {
        using var a = ModelFile.Open(F("dp.pt"));
        using var b = ModelFile.Open(F("tuned.pt"));
        var r = Diff.Compare(a, b);
        Assert.Equal("module.", r.StrippedPrefixA);
        Assert.Null(r.StrippedPrefixB);
        Assert.Empty(r.OnlyInA);
        Assert.Equal(["module.0.bias", "module.2.weight"], r.Compared.Where(c => !c.Equal).Select(c => c.NameA));
        Assert.Equal(["0.bias", "2.weight"], r.Compared.Where(c => !c.Equal).Select(c => c.NameB));
        // The other way round, the prefix is stripped from B.
        var back = Diff.Compare(b, a);
        Assert.Equal("module.", back.StrippedPrefixB);
        Assert.Equal(4, back.Compared.Count());
    }

    [Fact]
    public void Auto_map_can_be_disabled_and_rename_rules_replace_it()
    {
        using var a = ModelFile.Open(F("dp.pt"));
        using var b = ModelFile.Open(F("base.pt"));
        var off = Diff.Compare(a, b, new DiffOptions { AutoMap = false });
        Assert.Equal(4, off.OnlyInA.Count);
        Assert.Equal(4, off.OnlyInB.Count);
        Assert.Empty(off.Pairs);
        var mapped = Diff.Compare(a, b, new DiffOptions { AutoMap = false, Renames = [RenameRule.Parse(@"s/^module\.//")] });
        Assert.True(mapped.Identical);
        Assert.Null(mapped.StrippedPrefixA);
        // Rules apply to both sides, in order.
        var both = Diff.Compare(a, b, new DiffOptions { AutoMap = false, Renames = [RenameRule.Parse(@"s/^module\.//"), RenameRule.Parse("s/^/net./")] });
        Assert.True(both.Identical);
    }

    [Fact]
    public void Rename_rules_follow_sed()
    {
        // .NET regex syntax (ERE-like: unescaped groups), sed's replacement syntax (\1, &).
        Assert.Equal("layers.0.w", RenameRule.Parse(@"s/^layer_([0-9]+)\./layers.\1./").Apply("layer_0.w"));
        Assert.Equal("a_b.c", RenameRule.Parse(@"s/\./_/").Apply("a.b.c"));
        Assert.Equal("a_b_c", RenameRule.Parse(@"s/\./_/g").Apply("a.b.c"));
        Assert.Equal("xfc", RenameRule.Parse("s/FC/x&/i").Apply("fc"));
        Assert.Equal("model_weights/d/k", RenameRule.Parse(@"s|^|model_weights/|").Apply("d/k"));
        Assert.Equal("a/b", RenameRule.Parse(@"s/\./\//").Apply("a.b"));
        Assert.Throws<FormatException>(() => RenameRule.Parse("module."));
        Assert.Throws<FormatException>(() => RenameRule.Parse("s/a/b"));
        Assert.Throws<FormatException>(() => RenameRule.Parse("s/a/b/q"));
        Assert.Throws<FormatException>(() => RenameRule.Parse("s/(/b/"));
    }

    [Fact]
    public void Rename_rules_that_merge_two_names_are_rejected()
    {
        using var a = ModelFile.Open(F("base.pt"));
        var e = Assert.Throws<ArgumentException>(() => Diff.Compare(a, a, new DiffOptions { Renames = [RenameRule.Parse(@"s/\..*//")] }));
        Assert.Contains("0.weight", e.Message);
    }

    private static TensorEntry T(string name, params float[] values) =>
        new(name, DType.Float32, new Shape([values.Length]), new ArrayStorage(MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), name));

    private static ModelFile M(params TensorEntry[] tensors) => new(new ModelFormatInfo("test"), new TensorCollection(tensors));

    [Fact]
    public void Keras_model_weights_prefix_is_detected()
    {
        using var a = M(T("model_weights/dense/dense/kernel:0", 1, 2), T("model_weights/dense/dense/bias:0", 3), T("model_weights/out/out/kernel:0", 4));
        using var b = M(T("dense/dense/kernel:0", 1, 2), T("dense/dense/bias:0", 3), T("out/out/kernel:0", 5));
        var r = Diff.Compare(a, b);
        Assert.Equal("model_weights/", r.StrippedPrefixA);
        Assert.Equal(3, r.Compared.Count());
        Assert.Equal(["model_weights/out/out/kernel:0"], r.Compared.Where(c => !c.Equal).Select(c => c.NameA));
    }

    [Fact]
    public void Different_prefixes_on_both_sides_are_stripped()
    {
        using var a = M(T("module.fc.weight", 1), T("module.fc.bias", 2));
        using var b = M(T("model.fc.weight", 1), T("model.fc.bias", 2));
        var r = Diff.Compare(a, b);
        Assert.Equal("module.", r.StrippedPrefixA);
        Assert.Equal("model.", r.StrippedPrefixB);
        Assert.True(r.Identical);
    }

    [Fact]
    public void A_prefix_is_not_stripped_when_it_pairs_only_a_few_names()
    {
        // One stray match ("head.w" ~ "w") must not rename a file whose names mostly pair already.
        using var a = M(T("w", 1), T("b", 2), T("c", 3), T("head.x", 4));
        using var b = M(T("w", 1), T("b", 2), T("c", 3), T("x", 4));
        var r = Diff.Compare(a, b);
        Assert.Equal("head.", r.StrippedPrefixA); // pairs 4 of 4 instead of 3: worth it
        using var c = M(T("w", 1), T("b", 2), T("head.x", 4), T("head.y", 4));
        using var d = M(T("x", 4), T("q", 1), T("r", 2), T("s", 3), T("t", 3), T("u", 3));
        var r2 = Diff.Compare(c, d);
        Assert.Null(r2.StrippedPrefixA); // would pair 1 of 4: not most names
        Assert.Equal(4, r2.OnlyInA.Count);
    }

    [Fact]
    public void Two_single_tensor_files_are_paired_whatever_their_names()
    {
        using var a = M(T("before", 1, 2));
        using var b = M(T("after", 1, 3));
        var r = Diff.Compare(a, b);
        Assert.True(r.PairedSoleTensors);
        Assert.Empty(r.OnlyInA);
        Assert.Empty(r.OnlyInB);
        Assert.Equal(1.0, Assert.Single(r.Compared).MaxAbsDiff);
        var off = Diff.Compare(a, b, new DiffOptions { AutoMap = false });
        Assert.False(off.PairedSoleTensors);
        Assert.Equal(["before"], off.OnlyInA);
    }

    [Fact]
    public void Shape_mismatch_is_not_compared()
    {
        using var a = M(T("w", 1, 2, 3));
        using var b = M(T("w", 1, 2));
        var r = Diff.Compare(a, b);
        var p = Assert.Single(r.Pairs);
        Assert.True(p.ShapeMismatch);
        Assert.False(p.Compared);
        Assert.Empty(r.Compared);
        Assert.False(r.Identical);
    }

    [Fact]
    public void Tolerances_follow_numpy_allclose()
    {
        // |a-b| <= atol + rtol*|b|, relative to b (numpy's asymmetric definition).
        using var a = M(T("w", 100f, 1f));
        using var b = M(T("w", 100.001f, 1f));
        double d = Math.Abs((double)100f - (double)100.001f);
        Assert.False(Diff.Compare(a, b, new DiffOptions { Atol = 0, Rtol = d / 100.001f * 0.99 }).Identical);
        Assert.True(Diff.Compare(a, b, new DiffOptions { Atol = 0, Rtol = d / (double)100.001f * 1.01 }).Identical);
        Assert.True(Diff.Compare(a, b, new DiffOptions { Atol = d, Rtol = 0 }).Identical);
        using var inf = M(T("w", float.PositiveInfinity, float.NegativeInfinity));
        var r = Diff.Compare(inf, inf);
        Assert.True(r.Identical); // equal infinities are close, as in numpy
    }

    private static TensorEntry C(string name, params float[] realImag) =>
        new(name, DType.Complex64, new Shape([realImag.Length / 2]), new ArrayStorage(MemoryMarshal.AsBytes(realImag.AsSpan()).ToArray(), name));

    [Fact]
    public void Complex_tensors_are_compared_byte_for_byte()
    {
        using var a = M(C("z", 1, 2, 3, 4));
        using var same = M(C("z", 1, 2, 3, 4));
        using var other = M(C("z", 1, 2, 3, 5));
        var r = Diff.Compare(a, same);
        Assert.True(r.Identical);
        Assert.True(r.Pairs[0].BytesOnly);
        Assert.True(double.IsNaN(r.Pairs[0].MaxAbsDiff));
        var d = Diff.Compare(a, other).Pairs[0];
        Assert.False(d.Equal);
        Assert.Equal(1, d.DifferentElements);
    }

    [Fact]
    public void ForEachPair_reads_the_same_element_range_of_both_tensors()
    {
        using var a = ModelFile.Open(F("base.pt"));
        using var b = ModelFile.Open(F("half.pt"));
        var ta = a.Tensors["2.weight"];
        var tb = b.Tensors["2.weight"];
        var fa = ta.ToFloat32();
        var fb = tb.ToFloat32();
        var starts = new List<long>();
        TensorChunks.ForEachPair(ta, tb, (x, y, first) =>
        {
            starts.Add(first);
            Assert.Equal(x.Length, y.Length);
            Assert.Equal(fa.AsSpan((int)first, x.Length).ToArray(), x.ToArray());
            Assert.Equal(fb.AsSpan((int)first, y.Length).ToArray(), y.ToArray());
        }, chunkElements: 5);
        Assert.Equal([0, 5, 10, 15, 20], starts);
        Assert.Throws<ArgumentException>(() => TensorChunks.ForEachPair(ta, a.Tensors["2.bias"], (_, _, _) => { }));
    }
}
