using WeightScope.Analysis;
using WeightScope.Tests;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace WeightScope.Web.Tests;

/// <summary>
/// Where the page opens and what its URL holds (issue 18 §5): <c>serve A B</c> opens on the compare view; the hash holds
/// the view, the file and the selected tensor or pair, so a link or a reload returns to them and the back button steps
/// through the selections.
/// </summary>
public sealed class BrowserNavigationTests
{
    private static readonly string Resnet = TestPaths.Fixture("pytorch", "resnet_tiny_whole.pth");
    private static readonly string Base = TestPaths.Fixture("diff", "base.pt");
    private static readonly string Tuned = TestPaths.Fixture("diff", "tuned.pt");

    [ChromiumFact]
    public async Task Serve_with_two_files_opens_on_the_compare_view()
    {
        using var a = ModelFile.Open(Base);
        using var b = ModelFile.Open(Tuned);
        var diff = Diff.Compare(a, b);
        // the CLI, as a user runs it: weightscope serve A B
        using var serve = new ServeProcess(Base, Tuned, "--port", "0");
        await using var s = await BrowserSession.OpenUrl(serve.Url);
        var page = s.Page;
        await Expect(page.Locator("[data-tab='compare']")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-tab='compare']")).ToHaveClassAsync("active");
        await Expect(page.Locator("#view-compare")).ToBeVisibleAsync();
        await Expect(page.Locator("#view-tensors")).ToBeHiddenAsync();
        await Expect(page.Locator("#diff-table tbody tr")).ToHaveCountAsync(diff.Pairs.Count + diff.OnlyInA.Count + diff.OnlyInB.Count);
        Assert.Equal("compare", (await s.Hash())["tab"]);
        await s.Screenshot("serve-two-files.png", fullPage: false);
        s.AssertLocalAndClean();

        // one file opens on the tensor table
        await using var one = await BrowserSession.OpenFiles(Resnet);
        await Expect(one.Page.Locator("[data-tab='tensors']")).ToHaveClassAsync("active");
        await Expect(one.Page.Locator("[data-tab='compare']")).ToBeHiddenAsync();
        await Expect(one.Page.Locator("#view-tensors")).ToBeVisibleAsync();
    }

    [ChromiumFact]
    public async Task The_URL_holds_the_tab_and_tensor_so_reload_links_and_back_return_to_them()
    {
        await using var s = await BrowserSession.OpenFiles(Resnet);
        var page = s.Page;
        var title = page.Locator("#panel-title");
        var mean = page.Locator("#stats td[data-stat='mean']");

        await page.ClickAsync("tr[data-name='conv1.weight']");
        await Expect(title).ToHaveTextAsync("conv1.weight");
        Assert.Equal(new Dictionary<string, string> { ["tab"] = "tensors", ["tensor"] = "conv1.weight" }, await s.Hash());
        await page.ClickAsync("tr[data-name='fc.weight']");
        await Expect(title).ToHaveTextAsync("fc.weight");
        Assert.Equal("fc.weight", (await s.Hash())["tensor"]);

        // back and forward step through the selections, with their statistics and row highlight
        await page.GoBackAsync();
        await Expect(title).ToHaveTextAsync("conv1.weight");
        await Expect(mean).Not.ToHaveTextAsync("–");
        await Expect(page.Locator("tr.selected")).ToHaveAttributeAsync("data-name", "conv1.weight");
        await page.GoForwardAsync();
        await Expect(title).ToHaveTextAsync("fc.weight");
        await Expect(page.Locator("tr.selected")).ToHaveAttributeAsync("data-name", "fc.weight");

        // the tab is in the URL too; a reload returns to the tree with fc.weight open
        await page.ClickAsync("[data-tab='tree']");
        Assert.Equal(new Dictionary<string, string> { ["tab"] = "tree", ["tensor"] = "fc.weight" }, await s.Hash());
        await page.ReloadAsync();
        await Expect(page.Locator("#view-tree")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-tab='tree']")).ToHaveClassAsync("active");
        await Expect(title).ToHaveTextAsync("fc.weight");
        await Expect(mean).Not.ToHaveTextAsync("–");
        await Expect(page.Locator("#hist svg rect.bin")).ToHaveCountAsync(50);
        await page.GoBackAsync();
        await Expect(page.Locator("#view-tensors")).ToBeVisibleAsync();
        await Expect(title).ToHaveTextAsync("fc.weight");

        // a link opened in a new page (a name with dots and digits, percent-encoded or not)
        await page.GotoAsync(s.Url + "#tab=tensors&tensor=layer1.0.conv1.weight");
        await Expect(title).ToHaveTextAsync("layer1.0.conv1.weight");
        await Expect(mean).Not.ToHaveTextAsync("–");
        await Expect(page.Locator("#heatmap img")).ToBeVisibleAsync();
        await s.Screenshot("url-link.png", fullPage: false);

        // an edited hash is followed; one that names no tensor says so
        await page.EvaluateAsync("() => { location.hash = 'tab=tensors&tensor=bn1.bias'; }");
        await Expect(title).ToHaveTextAsync("bn1.bias");
        await page.EvaluateAsync("() => { location.hash = 'tensor=no.such.tensor'; }");
        await Expect(page.Locator("#error")).ToHaveTextAsync("no tensor named 'no.such.tensor' in resnet_tiny_whole.pth");
        s.AssertLocalAndClean();
    }

    [ChromiumFact]
    public async Task A_compared_pair_and_the_file_shown_are_in_the_URL()
    {
        using var a = ModelFile.Open(Base);
        using var b = ModelFile.Open(Tuned);
        var pair = Diff.Compare(a, b).Pairs.Where(p => p.Compared).OrderByDescending(p => p.MaxAbsDiff).First();
        await using var s = await BrowserSession.OpenFiles(Base, Tuned);
        var page = s.Page;
        await page.ClickAsync($"#diff-table tr[data-name='{pair.NameA}']");
        await Expect(page.Locator("#stats td[data-column='delta'][data-stat='max']")).Not.ToHaveTextAsync("–");
        Assert.Equal(new Dictionary<string, string> { ["tab"] = "compare", ["file"] = "0", ["pair"] = pair.NameA }, await s.Hash());

        // reload: the pair again, with A's, B's and the delta's statistics
        await page.ReloadAsync();
        await Expect(page.Locator("#panel-title")).ToHaveTextAsync(pair.NameA);
        await Expect(page.Locator("#stats td[data-column='b'][data-stat='mean']")).Not.ToHaveTextAsync("–");
        await Expect(page.Locator("#diff-table tr.selected")).ToHaveAttributeAsync("data-name", pair.NameA);

        // file B's table: the file is in the URL; back returns to the pair
        await page.ClickAsync("[data-tab='tensors']");
        await page.SelectOptionAsync("#slot", "1");
        await Expect(page.Locator("#tensor-table tbody tr")).ToHaveCountAsync(b.Tensors.Count);
        await page.ClickAsync($"tr[data-name='{b.Tensors[0].Name}']");
        Assert.Equal(new Dictionary<string, string> { ["tab"] = "tensors", ["file"] = "1", ["tensor"] = b.Tensors[0].Name }, await s.Hash());
        await page.ReloadAsync();
        await Expect(page.Locator("#slot")).ToHaveValueAsync("1");
        await Expect(page.Locator("#panel-meta")).ToContainTextAsync("B · #0");
        await page.GoBackAsync(); // B's table, the pair still open
        await Expect(page.Locator("#panel-title")).ToHaveTextAsync(pair.NameA);
        await Expect(page.Locator("#slot")).ToHaveValueAsync("1");
        await page.GoBackAsync(); // A's table
        await Expect(page.Locator("#slot")).ToHaveValueAsync("0");
        await Expect(page.Locator("#tensor-table tbody tr")).ToHaveCountAsync(a.Tensors.Count);
        await page.GoBackAsync(); // the compare view
        await Expect(page.Locator("#view-compare")).ToBeVisibleAsync();
        await Expect(page.Locator("#panel-title")).ToHaveTextAsync(pair.NameA);
        s.AssertLocalAndClean();
    }
}
