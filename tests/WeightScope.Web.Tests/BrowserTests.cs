using System.Globalization;
using Microsoft.Playwright;
using WeightScope.Analysis;
using WeightScope.Printing;
using WeightScope.Tests;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace WeightScope.Web.Tests;

/// <summary>
/// The page in a real browser: search, open a tensor, the statistics shown are the library's, the histogram's bars are
/// the library's bins, the heatmap and the printed values appear, the compare view highlights what changed; and the page
/// asks nothing of any host but the server. Screenshots are kept in <see cref="BrowserSession.Screenshots"/>.
/// </summary>
public sealed class BrowserTests
{
    private static double? Parse(string text) => text == "–" ? null : double.Parse(text, CultureInfo.InvariantCulture);

    [ChromiumFact]
    public async Task Search_open_a_tensor_see_the_librarys_stats_histogram_heatmap_and_values()
    {
        var path = TestPaths.Fixture("pytorch", "resnet_tiny_whole.pth");
        using var model = ModelFile.Open(path);
        await using var s = await BrowserSession.OpenFiles(path);
        var page = s.Page;
        var rows = page.Locator("#tensor-table tbody tr");
        await Expect(rows).ToHaveCountAsync(model.Tensors.Count);
        await Expect(page.Locator("#files")).ToContainTextAsync("resnet_tiny_whole.pth");

        // search: the table keeps the names containing the text
        await page.FillAsync("#search", "layer2.0.CONV");
        int matching = model.Tensors.Count(t => t.Name.Contains("layer2.0.conv", StringComparison.OrdinalIgnoreCase));
        Assert.True(matching is > 0 and < 74);
        await Expect(rows).ToHaveCountAsync(matching);
        foreach (var name in await rows.Locator("td.name").AllTextContentsAsync())
            Assert.Contains("layer2.0.conv", name, StringComparison.Ordinal);

        // open a tensor (one click): its statistics are the library's, to the last bit (every digit is in the title)
        const string Name = "layer2.0.conv1.weight";
        var tensor = model.Tensors[Name];
        await page.ClickAsync($"tr[data-name='{Name}']");
        await Expect(page.Locator("#panel-title")).ToHaveTextAsync(Name);
        await Expect(page.Locator("#stats td[data-stat='mean']")).Not.ToHaveTextAsync("–");
        var expected = Stats.Compute(model.Tensors).Tensors.Single(t => t.Name == Name);
        async Task<double?> Shown(string key) => Parse(await page.Locator($"#stats td[data-stat='{key}']").GetAttributeAsync("title") ?? "–");
        Assert.Equal(expected.Count, await Shown("count"));
        Assert.Equal(expected.Min, await Shown("min"));
        Assert.Equal(expected.Max, await Shown("max"));
        Assert.Equal(expected.Mean, await Shown("mean"));
        Assert.Equal(expected.Std, await Shown("std"));
        Assert.Equal(expected.L1, await Shown("l1"));
        Assert.Equal(expected.L2, await Shown("l2"));
        Assert.Equal(expected.MeanAbs, await Shown("mean_abs"));
        Assert.Equal(expected.Zeros, await Shown("zeros"));
        Assert.Equal(expected.NearZero, await Shown("near_zero"));
        Assert.Equal(expected.NaN, await Shown("nan"));

        // the histogram appeared with the same click: one bar per bin (50 by default), with the library's counts
        var bars = page.Locator("#hist svg rect.bin");
        await Expect(bars).ToHaveCountAsync(50);
        Assert.Equal(Histogram.Compute(tensor, 50).Counts, await bars.EvaluateAllAsync<long[]>("bs => bs.map(b => Number(b.getAttribute('data-count')))"));
        await Expect(page.Locator("#hist-svg")).ToBeVisibleAsync();

        // and the heatmap: the library's PNG, decoded by the browser
        var img = page.Locator("#heatmap img");
        await Expect(img).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('#heatmap img'); return i && i.complete && i.naturalWidth > 0; }");

        // other bins: Apply (or Enter) redraws with the library's counts
        await page.FillAsync("#bins", "30");
        await page.PressAsync("#bins", "Enter");
        await Expect(bars).ToHaveCountAsync(30);
        Assert.Equal(Histogram.Compute(tensor, 30).Counts, await bars.EvaluateAllAsync<long[]>("bs => bs.map(b => Number(b.getAttribute('data-count')))"));

        // values with torch print options
        await page.FillAsync("#precision", "2");
        await page.SelectOptionAsync("#sci-mode", "true");
        await page.ClickAsync("#values-button");
        await Expect(page.Locator("#values")).ToHaveTextAsync(TensorFormatter.Format(tensor, PrintOptions.Default with { Precision = 2, SciMode = true }));

        // the page as a person sees it: table filtered, tensor open with its histogram, heatmap and values
        await s.Screenshot("serve.png");

        // the module tree, with torch's parameter count at the root
        await page.ClickAsync("[data-tab='tree']");
        var root = page.Locator("#view-tree > details > summary .node-params");
        await Expect(root).ToHaveAttributeAsync("data-params", model.Modules.ParameterCount.ToString(CultureInfo.InvariantCulture));
        await page.ClickAsync("#view-tree details[data-path='layer1'] > summary");
        await Expect(page.Locator("#view-tree details[data-path='layer1.0']")).ToBeVisibleAsync();
        await page.ClickAsync("#view-tree details[data-path='layer1.0'] > summary");
        await page.ClickAsync("#view-tree details[data-path='layer1.0.conv1'] > summary");
        await page.ClickAsync("#view-tree button.tensor-link[data-index='6']");
        await Expect(page.Locator("#panel-title")).ToHaveTextAsync("layer1.0.conv1.weight");
        await s.Screenshot("serve-tree.png");

        s.AssertLocalAndClean();
    }

    [ChromiumFact]
    public async Task Compare_view_highlights_changed_tensors_sorted_by_max_delta()
    {
        string a = TestPaths.Fixture("diff", "base.pt"), b = TestPaths.Fixture("diff", "tuned.pt");
        using var ma = ModelFile.Open(a);
        using var mb = ModelFile.Open(b);
        var diff = Diff.Compare(ma, mb);
        await using var s = await BrowserSession.OpenFiles(a, b);
        var page = s.Page;
        // two files open on the compare view: no click needed
        await Expect(page.Locator("[data-tab='compare']")).ToHaveClassAsync("active");
        var rows = page.Locator("#diff-table tbody tr");
        await Expect(rows).ToHaveCountAsync(diff.Pairs.Count + diff.OnlyInA.Count + diff.OnlyInB.Count);
        int changed = diff.Pairs.Count(p => p.Compared && (!p.Equal || p.DTypeMismatch));
        Assert.True(changed > 0);
        await Expect(page.Locator("#diff-table tr.changed")).ToHaveCountAsync(changed);

        // largest max |Δ| first
        var order = diff.Pairs.Where(p => p.Compared).OrderByDescending(p => p.MaxAbsDiff).ToList();
        await Expect(rows.First).ToHaveAttributeAsync("data-name", order[0].NameA);

        // a changed pair: A's, B's and the delta's statistics
        await rows.First.ClickAsync();
        await Expect(page.Locator("#stats td[data-column='a'][data-stat='mean']")).Not.ToHaveTextAsync("–");
        var statsA = Stats.Compute([ma.Tensors[order[0].NameA]]).Tensors[0];
        var statsB = Stats.Compute([mb.Tensors[order[0].NameB]]).Tensors[0];
        Assert.Equal(statsA.Mean, Parse(await page.Locator("#stats td[data-column='a'][data-stat='mean']").GetAttributeAsync("title") ?? "–"));
        Assert.Equal(statsB.Mean, Parse(await page.Locator("#stats td[data-column='b'][data-stat='mean']").GetAttributeAsync("title") ?? "–"));
        await Expect(page.Locator("#stats td[data-column='delta'][data-stat='max']")).Not.ToHaveTextAsync("–");

        // "only differences" hides the equal ones
        await page.CheckAsync("#only-different");
        await Expect(page.Locator("#diff-table tr.equal")).ToHaveCountAsync(0);

        await s.Screenshot("serve-compare.png");
        s.AssertLocalAndClean();
    }
}
