using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Playwright;
using WeightScope.Analysis;
using WeightScope.Printing;
using WeightScope.Tests;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace WeightScope.Web.Tests;

/// <summary>
/// A fact that needs Debian's Chromium (<c>apt-get install chromium</c>; <c>.ci/run</c> installs it): skipped, with the
/// reason, when <see cref="BrowserTests.Chromium"/> is absent. Playwright drives it by path: no browser download.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    /// <summary>Skips unless the browser is there.</summary>
    public ChromiumFactAttribute()
    {
        if (!File.Exists(BrowserTests.Chromium)) Skip = $"{BrowserTests.Chromium} not found (apt-get install chromium)";
    }
}

/// <summary>
/// The page in a real browser: search, open a tensor, the statistics shown are the library's, the histogram's bars are
/// the library's bins, the heatmap and the printed values appear, the compare view highlights what changed; and the page
/// asks nothing of any host but the server. Screenshots are kept in <c>$WEIGHTSCOPE_ARTIFACTS</c> (default
/// <c>artifacts/</c> beside the test assembly).
/// </summary>
public sealed class BrowserTests
{
    public const string Chromium = "/usr/bin/chromium";

    private const float Timeout = 30_000;

    private static string Artifacts
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("WEIGHTSCOPE_ARTIFACTS") is { Length: > 0 } env ? env : Path.Combine(AppContext.BaseDirectory, "artifacts");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>A browser page on a fresh server, recording every URL the page requests and every script error.</summary>
    private sealed class Session : IAsyncDisposable
    {
        public required Served Served { get; init; }
        public required IPlaywright Playwright { get; init; }
        public required IBrowser Browser { get; init; }
        public required IPage Page { get; init; }
        public ConcurrentQueue<string> Requests { get; } = new();
        public ConcurrentQueue<string> Errors { get; } = new();

        public static async Task<Session> Open(params string[] files)
        {
            var served = new Served(files);
            var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Chromium,
                Headless = true,
                Args = ["--no-sandbox", "--disable-dev-shm-usage"], // root in CI; containers with a small /dev/shm
            });
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
            page.SetDefaultTimeout(Timeout);
            var s = new Session { Served = served, Playwright = playwright, Browser = browser, Page = page };
            page.Request += (_, r) => s.Requests.Enqueue(r.Url);
            page.PageError += (_, e) => s.Errors.Enqueue(e);
            page.Console += (_, m) => { if (m.Type == "error") s.Errors.Enqueue(m.Text); };
            await page.GotoAsync(served.Server.Url);
            return s;
        }

        /// <summary>Every request went to this server, and no script failed.</summary>
        public void AssertLocalAndClean()
        {
            Assert.NotEmpty(Requests);
            foreach (var url in Requests)
                Assert.True(url.StartsWith(Served.Server.Url, StringComparison.Ordinal), $"the page requested {url}");
            Assert.True(Errors.IsEmpty, "script errors: " + string.Join("\n", Errors));
        }

        public async Task<string> Screenshot(string name)
        {
            string path = Path.Combine(Artifacts, name);
            await Page.EvaluateAsync("() => window.scrollTo(0, 0)");
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
            return path;
        }

        public async ValueTask DisposeAsync()
        {
            await Browser.CloseAsync();
            Playwright.Dispose();
            Served.Dispose();
        }
    }

    private static double? Parse(string text) => text == "–" ? null : double.Parse(text, CultureInfo.InvariantCulture);

    [ChromiumFact]
    public async Task Search_open_a_tensor_see_the_librarys_stats_histogram_heatmap_and_values()
    {
        var path = TestPaths.Fixture("pytorch", "resnet_tiny_whole.pth");
        using var model = ModelFile.Open(path);
        await using var s = await Session.Open(path);
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

        // open a tensor: its statistics are the library's, to the last bit
        const string Name = "layer2.0.conv1.weight";
        var tensor = model.Tensors[Name];
        await page.ClickAsync($"tr[data-name='{Name}']");
        await Expect(page.Locator("#panel-title")).ToHaveTextAsync(Name);
        await Expect(page.Locator("#stats td[data-stat='mean']")).Not.ToHaveTextAsync("–");
        var expected = Stats.Compute(model.Tensors).Tensors.Single(t => t.Name == Name);
        async Task<double?> Shown(string key) => Parse(await page.Locator($"#stats td[data-stat='{key}']").TextContentAsync() ?? "");
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

        // the histogram: one bar per bin, with the library's counts
        await page.FillAsync("#bins", "30");
        await page.ClickAsync("#hist-button");
        var bars = page.Locator("#hist svg rect.bin");
        await Expect(bars).ToHaveCountAsync(30);
        var h = Histogram.Compute(tensor, 30);
        var counts = await bars.EvaluateAllAsync<long[]>("bs => bs.map(b => Number(b.getAttribute('data-count')))");
        Assert.Equal(h.Counts, counts);
        await Expect(page.Locator("#hist-svg")).ToBeVisibleAsync();

        // the heatmap: the library's PNG, decoded by the browser
        await page.ClickAsync("#heatmap-button");
        var img = page.Locator("#heatmap img");
        await Expect(img).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('#heatmap img'); return i && i.complete && i.naturalWidth > 0; }");

        // values with torch print options
        await page.FillAsync("#precision", "2");
        await page.SelectOptionAsync("#sci-mode", "true");
        await page.ClickAsync("#values-button");
        await Expect(page.Locator("#values")).ToHaveTextAsync(TensorFormatter.Format(tensor, PrintOptions.Default with { Precision = 2, SciMode = true }));

        // the page as a person sees it: table filtered, tensor open with its histogram, heatmap and values
        string shot = await s.Screenshot("serve.png");
        Assert.True(new FileInfo(shot).Length > 1000, $"{shot} is empty");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(shot)[..4]);

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
        await using var s = await Session.Open(a, b);
        var page = s.Page;
        await page.ClickAsync("[data-tab='compare']");
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
        Assert.Equal(statsA.Mean, Parse(await page.Locator("#stats td[data-column='a'][data-stat='mean']").TextContentAsync() ?? ""));
        Assert.Equal(statsB.Mean, Parse(await page.Locator("#stats td[data-column='b'][data-stat='mean']").TextContentAsync() ?? ""));
        await Expect(page.Locator("#stats td[data-column='delta'][data-stat='max']")).Not.ToHaveTextAsync("–");

        // "only differences" hides the equal ones
        await page.CheckAsync("#only-different");
        await Expect(page.Locator("#diff-table tr.equal")).ToHaveCountAsync(0);

        string shot = await s.Screenshot("serve-compare.png");
        Assert.True(new FileInfo(shot).Length > 1000);
        s.AssertLocalAndClean();
    }
}
