using System.Net;
using System.Text.Json;
using WeightScope.Analysis;
using WeightScope.Printing;
using WeightScope.Tensors;
using WeightScope.Tests;
using Xunit;

namespace WeightScope.Web.Tests;

/// <summary>
/// The viewer's JSON API on real fixtures, against the library's own results (which its tests check against numpy and
/// torch) and against torch's committed answers where the fixture has them.
/// </summary>
public sealed class ViewerApiTests
{
    private static string F(params string[] parts) => TestPaths.Fixture(parts);

    private static JsonElement Answers(params string[] parts) => JsonDocument.Parse(File.ReadAllText(F(parts))).RootElement;

    private static double? D(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => double.Parse(e.GetString()!, System.Globalization.CultureInfo.InvariantCulture), // NaN, ±Infinity
        _ => e.GetDouble(),
    };

    [Fact]
    public void Summary_and_list_are_the_librarys_and_torchs()
    {
        var path = F("pytorch", "resnet_tiny_whole.pth");
        var torch = Answers("pytorch", "resnet_tiny_whole.expected.json");
        using var model = ModelFile.Open(path);
        using var s = new Served(path);

        var session = s.Json("/api/session");
        Assert.False(session.GetProperty("comparing").GetBoolean());
        var summary = s.Json("/api/files/0/summary");
        Assert.Equal(session.GetProperty("files")[0].GetRawText(), summary.GetRawText());
        Assert.Equal("resnet_tiny_whole.pth", summary.GetProperty("file").GetString());
        Assert.Equal(model.Format.Name, summary.GetProperty("format").GetString());
        var totals = summary.GetProperty("totals");
        Assert.Equal(torch.GetProperty("totals").GetProperty("tensors").GetInt32(), totals.GetProperty("tensors").GetInt32());
        Assert.Equal(torch.GetProperty("totals").GetProperty("elements").GetInt64(), totals.GetProperty("elements").GetInt64());
        Assert.Equal(model.Tensors.Totals.Parameters, totals.GetProperty("params").GetInt64());
        Assert.Equal(model.Tensors.Totals.Bytes, totals.GetProperty("bytes").GetInt64());
        foreach (var (dtype, group) in model.Tensors.Totals.ByDType)
            Assert.Equal(group.Parameters, totals.GetProperty("by_dtype").GetProperty(dtype).GetProperty("params").GetInt64());

        var list = s.Json("/api/files/0/tensors").GetProperty("tensors").EnumerateArray().ToList();
        var expected = torch.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(expected.Count, list.Count);
        for (int i = 0; i < list.Count; i++)
        {
            Assert.Equal(i, list[i].GetProperty("index").GetInt32());
            Assert.Equal(expected[i].GetProperty("name").GetString(), list[i].GetProperty("name").GetString());
            Assert.Equal(expected[i].GetProperty("dtype").GetString(), list[i].GetProperty("dtype").GetString());
            Assert.Equal(expected[i].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), list[i].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
            Assert.Equal(expected[i].GetProperty("numel").GetInt64(), list[i].GetProperty("params").GetInt64());
            Assert.Equal(expected[i].GetProperty("role").GetString(), list[i].GetProperty("role").GetString());
        }
    }

    [Fact]
    public void Sizes_come_as_the_CLI_writes_them_and_light_elements_as_the_limit()
    {
        var path = F("pytorch", "resnet_tiny_whole.pth");
        using var model = ModelFile.Open(path);
        using var s = new Served(path);
        var session = s.Json("/api/session");
        Assert.Equal(s.Server.Session.Limits.LightElements, session.GetProperty("light_elements").GetInt64());
        var totals = session.GetProperty("files")[0].GetProperty("totals");
        Assert.Equal(WeightScope.Output.Units.Bytes(model.Tensors.Totals.Bytes), totals.GetProperty("size").GetString());
        foreach (var (dtype, group) in model.Tensors.Totals.ByDType)
            Assert.Equal(WeightScope.Output.Units.Bytes(group.Bytes), totals.GetProperty("by_dtype").GetProperty(dtype).GetProperty("size").GetString());
        var list = s.Json("/api/files/0/tensors");
        foreach (var t in list.GetProperty("tensors").EnumerateArray())
            Assert.Equal(WeightScope.Output.Units.Bytes(t.GetProperty("bytes").GetInt64()), t.GetProperty("size").GetString());
        Assert.Equal(totals.GetProperty("size").GetString(), list.GetProperty("totals").GetProperty("size").GetString());
        Assert.Contains(list.GetProperty("tensors").EnumerateArray(), t => t.GetProperty("size").GetString()!.EndsWith(" KiB", StringComparison.Ordinal));
    }

    [Fact]
    public void Tree_types_and_parameter_counts_are_torchs()
    {
        var path = F("pytorch", "resnet_tiny_whole.pth");
        var torch = Answers("pytorch", "resnet_tiny_whole.expected.json");
        var numel = torch.GetProperty("tensors").EnumerateArray().Select(t => (Name: t.GetProperty("name").GetString()!, Numel: t.GetProperty("numel").GetInt64())).ToList();
        using var s = new Served(path);
        var nodes = new Dictionary<string, JsonElement>();
        void Walk(JsonElement n)
        {
            nodes[n.GetProperty("path").GetString()!] = n;
            foreach (var c in n.GetProperty("children").EnumerateArray()) Walk(c);
        }
        Walk(s.Json("/api/files/0/tree"));
        var list = s.Json("/api/files/0/tensors").GetProperty("tensors");

        var modules = torch.GetProperty("modules").EnumerateArray().ToList();
        Assert.Equal(modules.Count, nodes.Count);
        foreach (var m in modules)
        {
            string p = m.GetProperty("path").GetString()!;
            var node = nodes[p];
            Assert.Equal(m.GetProperty("type").GetString(), node.GetProperty("type").GetString());
            // torch: the state_dict entries under this module (parameters and persistent buffers)
            long expected = numel.Where(t => p.Length == 0 || t.Name.StartsWith(p + ".", StringComparison.Ordinal)).Sum(t => t.Numel);
            Assert.True(expected == node.GetProperty("params").GetInt64(), $"{p}: {node.GetProperty("params")} != torch's {expected}");
            // each tensor link points at the tensor of that name in the list
            foreach (var t in node.GetProperty("parameters").EnumerateArray().Concat(node.GetProperty("buffers").EnumerateArray()))
            {
                if (t.GetProperty("tensor").ValueKind == JsonValueKind.Null) continue;
                Assert.Equal(t.GetProperty("tensor").GetString(), list[t.GetProperty("index").GetInt32()].GetProperty("name").GetString());
            }
        }
    }

    [Fact]
    public void A_tensor_that_cannot_be_decoded_is_422_with_the_formats_message_in_every_view()
    {
        // analysis/corrupt_chunks.h5: h5py cannot read b, d, f (generate/corrupt_tensors.py); the viewer answers each
        // view of them with the reader's message (file, format, entry, offset), never a 500 "internal error".
        var path = F("analysis", "corrupt_chunks.h5");
        using var s = new Served(path);
        foreach (var view in new[] { "stats", "values", "hist.svg?bins=20" })
        {
            var r = s.Get($"/api/files/0/tensors/1/{view}");
            Assert.True(r.Status == HttpStatusCode.UnprocessableEntity, $"{view}: {(int)r.Status} {r.Body}");
            Assert.StartsWith($"{path}, hdf5, entry 'b', offset ", r.Json.GetProperty("error").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.OK, s.Get("/api/files/0/tensors/0/stats").Status);
    }

    [Fact]
    public void A_tensor_that_cannot_be_decoded_is_never_cached_as_a_result()
    {
        // Each request for b's statistics reads it again and answers the reader's error again; a's are computed once.
        var path = F("analysis", "corrupt_chunks.h5");
        using var s = new Served(path);
        var cache = s.Server.Session.Cache;
        string[] errors = [.. Enumerable.Range(0, 2).Select(_ =>
        {
            var r = s.Get("/api/files/0/tensors/1/stats");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, r.Status);
            return r.Json.GetProperty("error").GetString()!;
        })];
        Assert.StartsWith($"{path}, hdf5, entry 'b', offset ", errors[0], StringComparison.Ordinal);
        Assert.Equal(errors[0], errors[1]);
        Assert.Equal((2, 2, 0), (cache.Computations, cache.Failures, cache.Count));
        for (int k = 0; k < 2; k++) Assert.Equal(HttpStatusCode.OK, s.Get("/api/files/0/tensors/0/stats").Status);
        Assert.Equal((3, 1, 1), (cache.Computations, cache.Hits, cache.Count));
    }

    [Theory]
    [InlineData("analysis", "stats_mixed.pt")]
    [InlineData("pytorch", "special_values.pt")]
    [InlineData("numpy", "random_64x64.npy")]
    public void Stats_are_the_numbers_weightscope_stats_prints(string folder, string file)
    {
        var path = F(folder, file);
        using var model = ModelFile.Open(path);
        var report = Stats.Compute(model.Tensors);
        using var s = new Served(path);
        for (int i = 0; i < model.Tensors.Count; i++)
        {
            var t = model.Tensors[i];
            var r = s.Get($"/api/files/0/tensors/{i}/stats");
            var expected = report.Tensors.SingleOrDefault(x => x.Name == t.Name);
            if (expected is null)
            {
                // complex: stats skip it, as weightscope stats does, with its reason
                Assert.Equal(HttpStatusCode.UnprocessableEntity, r.Status);
                Assert.Contains(report.Skipped.Single(x => x.Name == t.Name).Reason, r.Json.GetProperty("error").GetString());
                continue;
            }
            Assert.Equal(HttpStatusCode.OK, r.Status);
            var j = r.Json;
            Assert.Equal(expected.Name, j.GetProperty("name").GetString());
            Assert.Equal(expected.Count, j.GetProperty("count").GetInt64());
            Assert.Equal(expected.Min, D(j.GetProperty("min")));
            Assert.Equal(expected.Max, D(j.GetProperty("max")));
            Assert.Equal(expected.Mean, D(j.GetProperty("mean")));
            Assert.Equal(expected.Std, D(j.GetProperty("std")));
            Assert.Equal(expected.L1, D(j.GetProperty("l1")));
            Assert.Equal(expected.L2, D(j.GetProperty("l2")));
            Assert.Equal(expected.MeanAbs, D(j.GetProperty("mean_abs")));
            Assert.Equal(expected.Zeros, j.GetProperty("zeros").GetInt64());
            Assert.Equal(expected.NearZero, j.GetProperty("near_zero").GetInt64());
            Assert.Equal(expected.NaN, j.GetProperty("nan").GetInt64());
            Assert.Equal(expected.PosInf, j.GetProperty("pos_inf").GetInt64());
            Assert.Equal(expected.NegInf, j.GetProperty("neg_inf").GetInt64());
            // by name: the same answer
            Assert.Equal(r.Body, s.Get($"/api/files/0/tensor/stats?name={Uri.EscapeDataString(t.Name)}").Body);
        }
    }

    [Fact]
    public void Histogram_is_the_librarys_as_json_and_as_its_svg_plot()
    {
        var path = F("analysis", "stats_mixed.pt");
        using var model = ModelFile.Open(path);
        using var s = new Served(path);
        for (int i = 0; i < model.Tensors.Count; i++)
        {
            var t = model.Tensors[i];
            if (t.DType.IsComplex()) continue;
            var h = Histogram.Compute(t, 7);
            var j = s.Json($"/api/files/0/tensors/{i}/hist?bins=7");
            Assert.Equal(h.Edges.Select(e => (double?)e), j.GetProperty("bins").EnumerateArray().Select(D));
            Assert.Equal(h.Counts, j.GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()));
            Assert.Equal(h.NaN, j.GetProperty("nan").GetInt64());
            Assert.Equal(h.PositiveInfinity, j.GetProperty("pos_inf").GetInt64());
            Assert.Equal(h.NegativeInfinity, j.GetProperty("neg_inf").GetInt64());
        }
        var svg = s.Get("/api/files/0/tensors/0/hist.svg?bins=20&log=true");
        Assert.Equal(HttpStatusCode.OK, svg.Status);
        Assert.Equal("image/svg+xml", svg.ContentType);
        using var expected = new MemoryStream();
        Plotting.Plot.Histogram([Histogram.Compute(model.Tensors[0], 20)], new Plotting.HistogramPlotOptions { LogScale = true }).WriteSvg(expected);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected.ToArray()), svg.Body);
    }

    [Fact]
    public void Heatmap_is_the_librarys_png()
    {
        var path = F("pytorch", "resnet_tiny_whole.pth");
        using var model = ModelFile.Open(path);
        using var s = new Served(path);
        var png = s.GetBytes("/api/files/0/tensor/heatmap.png?name=conv1.weight", out var type);
        Assert.Equal("image/png", type);
        using var expected = new MemoryStream();
        Plotting.Plot.Heatmap(model.Tensors["conv1.weight"]).WritePng(expected);
        Assert.Equal(expected.ToArray(), png);
        var sliced = s.GetBytes("/api/files/0/tensor/heatmap.png?name=fc.weight&slice=" + Uri.EscapeDataString("[0:4]"), out _);
        using var expectedSlice = new MemoryStream();
        Plotting.Plot.Heatmap(model.Tensors["fc.weight"].Slice("[0:4]")).WritePng(expectedSlice);
        Assert.Equal(expectedSlice.ToArray(), sliced);
    }

    public static TheoryData<string, string> PrintCases() => new()
    {
        { "", "" },
        { "precision=2", "p2" },
        { "precision=2&sci_mode=true", "p2 sci" },
        { "threshold=10&edgeitems=1", "t10 e1" },
        { "linewidth=40&sci_mode=false", "w40 nosci" },
        { "profile=short", "short" },
        { "profile=full&precision=6", "full p6" },
        { "threshold=inf", "inf" },
        { "slice=" + Uri.EscapeDataString("[0,:]"), "slice" },
    };

    [Theory]
    [MemberData(nameof(PrintCases))]
    public void Values_are_TensorFormatter_with_the_torch_print_options(string query, string _)
    {
        var path = F("pytorch", "resnet_tiny_whole.pth");
        using var model = ModelFile.Open(path);
        using var s = new Served(path);
        var q = System.Web.HttpUtility.ParseQueryString(query);
        var o = q["profile"] is { } p ? PrintOptions.FromProfile(p) : PrintOptions.Default;
        o = o with
        {
            Precision = q["precision"] is { } pr ? int.Parse(pr) : o.Precision,
            Threshold = q["threshold"] is { } th ? (th == "inf" ? double.PositiveInfinity : double.Parse(th)) : o.Threshold,
            EdgeItems = q["edgeitems"] is { } e ? int.Parse(e) : o.EdgeItems,
            LineWidth = q["linewidth"] is { } w ? int.Parse(w) : o.LineWidth,
            SciMode = q["sci_mode"] is { } sci ? bool.Parse(sci) : o.SciMode,
        };
        var t = model.Tensors["fc.weight"];
        if (q["slice"] is { } slice) t = t.Slice(slice);
        var j = s.Json("/api/files/0/tensor/values?name=fc.weight" + (query.Length > 0 ? "&" + query : ""));
        Assert.Equal(TensorFormatter.Format(t, o), j.GetProperty("text").GetString());
        Assert.Equal(t.Shape.ToArray(), j.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()));
    }

    [Theory]
    [InlineData("values?precision=-1", "precision")]
    [InlineData("values?precision=abc", "precision")]
    [InlineData("values?precision=31", "precision")]
    [InlineData("values?precision=1&precision=2", "given 2 times")]
    [InlineData("values?threshold=nan", "threshold")]
    [InlineData("values?threshold=-5", "threshold")]
    [InlineData("values?edgeitems=1001", "edgeitems")]
    [InlineData("values?linewidth=0", "linewidth")]
    [InlineData("values?sci_mode=maybe", "sci_mode")]
    [InlineData("values?profile=huge", "profile")]
    [InlineData("values?slice=%5B0%2C", "")]
    [InlineData("values?slice=%5B99%5D", "")]
    [InlineData("hist?bins=0", "bins")]
    [InlineData("hist?bins=10001", "bins")]
    [InlineData("hist?bins=ten", "bins")]
    [InlineData("hist.svg?log=yes", "log")]
    public void Bad_parameters_are_400_with_a_json_reason(string view, string mentions)
    {
        using var s = new Served(F("pytorch", "resnet_tiny_whole.pth"));
        var r = s.Get("/api/files/0/tensor/" + view.Replace("?", "?name=fc.weight&"));
        Assert.True(r.Status == HttpStatusCode.BadRequest, $"{view}: {(int)r.Status} {r.Body}");
        Assert.StartsWith("application/json", r.ContentType);
        Assert.Contains(mentions, r.Json.GetProperty("error").GetString());
    }

    [Fact]
    public void A_print_too_large_to_send_is_refused()
    {
        // 1000 × 1001 elements with threshold=inf: over the one-million-value cap; summarized it is fine.
        var data = new byte[1000 * 1001 * 4];
        var t = new TensorEntry("big", DType.Float32, new Shape(1000, 1001), new ArrayStorage(data, "big"));
        using var s = new Served(ViewerServer.Start([new ModelFile(new ModelFormatInfo("memory"), new TensorCollection([t]))], 0));
        var r = s.Get("/api/files/0/tensors/0/values?threshold=inf");
        Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        Assert.Contains("1,001,000 values", r.Json.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, s.Get("/api/files/0/tensors/0/values").Status);
    }

    [Theory]
    [InlineData("/api/files/0/tensors/74/stats")]
    [InlineData("/api/files/0/tensors/-1/stats")]
    [InlineData("/api/files/0/tensors/1e3/stats")]
    [InlineData("/api/files/0/tensors/99999999999999999999/stats")]
    [InlineData("/api/files/0/tensor/stats?name=nope.weight")]
    [InlineData("/api/files/0/tensors/0/nope")]
    [InlineData("/api/files/1/tensors")]
    [InlineData("/api/files/a/tensors")]
    [InlineData("/api/diff")]
    [InlineData("/api/diff/pairs/0")]
    [InlineData("/api/nothing")]
    [InlineData("/favicon.ico")]
    public void Unknown_files_tensors_views_and_routes_are_404_json(string path)
    {
        using var s = new Served(F("pytorch", "resnet_tiny_whole.pth"));
        var r = s.Get(path);
        Assert.True(r.Status == HttpStatusCode.NotFound, $"{path}: {(int)r.Status} {r.Body}");
        Assert.StartsWith("application/json", r.ContentType);
        Assert.Equal(404, r.Json.GetProperty("status").GetInt32());
    }

    [Fact]
    public void The_name_parameter_is_required_for_name_routes()
    {
        using var s = new Served(F("pytorch", "resnet_tiny_whole.pth"));
        Assert.Equal(HttpStatusCode.BadRequest, s.Get("/api/files/0/tensor/stats").Status);
    }

    [Theory]
    [InlineData("dp.pt", false, 0.0)]   // --no-auto-map: the 'module.' prefix of the DataParallel file is not stripped
    [InlineData("tuned.pt", true, 1.0)] // --atol 1: tuned.pt's changes (at most 0.5) count as equal
    public void Compare_view_pairs_and_compares_with_the_options_serve_was_given(string other, bool autoMap, double atol)
    {
        string a = F("diff", "base.pt"), b = F("diff", other);
        using var ma = ModelFile.Open(a);
        using var mb = ModelFile.Open(b);
        var options = new DiffOptions { AutoMap = autoMap, Atol = atol };
        var expected = Diff.Compare(ma, mb, options);
        var defaults = Diff.Compare(ma, mb);
        Assert.True(expected.OnlyInA.Count != defaults.OnlyInA.Count || expected.Identical != defaults.Identical, "the options should change the result");
        using var s = new Served(ViewerServer.Start([a, b], 0, null, options));
        var d = s.Json("/api/diff");
        Assert.Equal(expected.Identical, d.GetProperty("identical").GetBoolean());
        Assert.Equal(expected.OnlyInA, d.GetProperty("only_in_a").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal(expected.OnlyInB, d.GetProperty("only_in_b").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal(atol, d.GetProperty("atol").GetDouble());
    }

    [Fact]
    public void Compare_view_is_diff_json_and_pairs_show_A_B_and_the_delta()
    {
        string a = F("diff", "base.pt"), b = F("diff", "tuned.pt");
        using var ma = ModelFile.Open(a);
        using var mb = ModelFile.Open(b);
        var expected = Diff.Compare(ma, mb);
        using var s = new Served(a, b);
        Assert.True(s.Json("/api/session").GetProperty("comparing").GetBoolean());
        var d = s.Json("/api/diff");
        Assert.Equal(expected.Identical, d.GetProperty("identical").GetBoolean());
        var pairs = d.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(expected.Pairs.Count, pairs.Count);
        var statsA = Stats.Compute(ma.Tensors).Tensors.ToDictionary(x => x.Name);
        var statsB = Stats.Compute(mb.Tensors).Tensors.ToDictionary(x => x.Name);
        for (int i = 0; i < pairs.Count; i++)
        {
            var (e, j) = (expected.Pairs[i], pairs[i]);
            Assert.Equal(i, j.GetProperty("pair").GetInt32());
            Assert.Equal(e.NameA, j.GetProperty("name_a").GetString());
            Assert.Equal(e.NameA, ma.Tensors[j.GetProperty("index_a").GetInt32()].Name);
            Assert.Equal(e.NameB, mb.Tensors[j.GetProperty("index_b").GetInt32()].Name);
            Assert.Equal(e.MaxAbsDiff, D(j.GetProperty("max_abs_diff")));
            Assert.Equal(e.MeanAbsDiff, D(j.GetProperty("mean_abs_diff")));
            Assert.Equal(e.RelativeL2, D(j.GetProperty("rel_l2")));
            Assert.Equal(e.Cosine, D(j.GetProperty("cosine")));
            Assert.Equal(e.Equal, j.GetProperty("equal").GetBoolean());
            Assert.Equal(e.DifferentElements, j.GetProperty("different_elements").GetInt64());

            var p = s.Json($"/api/diff/pairs/{i}");
            Assert.Equal(statsA[e.NameA].Mean, D(p.GetProperty("a").GetProperty("mean")));
            Assert.Equal(statsB[e.NameB].Std, D(p.GetProperty("b").GetProperty("std")));
            // the delta's extremes are max |Δ| (read back through float32, as every statistic reads values)
            var delta = p.GetProperty("delta");
            double maxAbs = Math.Max(Math.Abs(D(delta.GetProperty("min"))!.Value), Math.Abs(D(delta.GetProperty("max"))!.Value));
            Assert.Equal((double)(float)e.MaxAbsDiff, maxAbs);
        }
        var summary = d.GetProperty("summary");
        Assert.Equal(expected.Compared.Count(c => !c.Equal), summary.GetProperty("different").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, s.Get($"/api/diff/pairs/{pairs.Count}").Status);
    }

    [Fact]
    public void Compare_view_lists_names_only_in_one_file_and_shape_mismatches()
    {
        string a = F("diff", "base.pt"), b = F("diff", "reshaped.pt");
        using var ma = ModelFile.Open(a);
        using var mb = ModelFile.Open(b);
        var expected = Diff.Compare(ma, mb);
        using var s = new Served(a, b);
        var d = s.Json("/api/diff");
        Assert.Equal(expected.OnlyInA, d.GetProperty("only_in_a").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(expected.OnlyInB, d.GetProperty("only_in_b").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(expected.Pairs.Count(p => p.ShapeMismatch), d.GetProperty("summary").GetProperty("shape_mismatches").GetInt32());
        Assert.True(expected.Pairs.Any(p => p.ShapeMismatch) || expected.OnlyInA.Count + expected.OnlyInB.Count > 0, "the fixture pair should differ in structure");
        int mismatch = expected.Pairs.ToList().FindIndex(p => p.ShapeMismatch);
        if (mismatch >= 0)
        {
            var p = s.Json($"/api/diff/pairs/{mismatch}");
            Assert.Equal(JsonValueKind.Null, p.GetProperty("delta").ValueKind);
            Assert.Contains("shapes differ", p.GetProperty("delta_note").GetString());
        }
    }
}
