using Microsoft.Playwright;
using WeightScope.Tests;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace WeightScope.Web.Tests;

/// <summary>
/// The page at 1280×720 (table and panel side by side) and in a 400 px window (stacked), issue 18 §5: the page never
/// scrolls sideways, the tables fit their column, the panel's plots fit the window.
/// </summary>
public sealed class BrowserLayoutTests
{
    private static readonly string Resnet = TestPaths.Fixture("pytorch", "resnet_tiny_whole.pth");

    /// <summary>Boxes of the table, the panel and the plots, and the page's scroll width.</summary>
    private sealed class Layout
    {
        public double Width { get; set; }
        public double ScrollWidth { get; set; }
        public double[] Left { get; set; } = [];
        public double[] Panel { get; set; } = [];
        public double LeftScroll { get; set; }
        public double LeftClient { get; set; }
        public double[] Hist { get; set; } = [];
        public double[] Heatmap { get; set; } = [];
    }

    private static Task<Layout> Measure(IPage page) => page.EvaluateAsync<Layout>("""
        () => {
          const box = (id) => { const r = document.getElementById(id).getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
          const left = document.getElementById('left');
          return { Width: window.innerWidth, ScrollWidth: document.documentElement.scrollWidth, Left: box('left'), Panel: box('panel'),
                   LeftScroll: left.scrollWidth, LeftClient: left.clientWidth, Hist: box('hist'), Heatmap: box('heatmap') };
        }
        """);

    private static async Task<BrowserSession> OpenWithTensor(int width, int height)
    {
        var s = await BrowserSession.Open(new Served(Resnet), new ViewportSize { Width = width, Height = height });
        await s.Page.ClickAsync("tr[data-name='layer2.0.conv1.weight']");
        await Expect(s.Page.Locator("#hist svg rect.bin")).ToHaveCountAsync(50);
        await s.Page.WaitForFunctionAsync("() => { const i = document.querySelector('#heatmap img'); return i && i.complete && i.naturalWidth > 0; }");
        return s;
    }

    [ChromiumFact]
    public async Task At_1280x720_table_and_panel_sit_side_by_side_without_sideways_scroll()
    {
        await using var s = await OpenWithTensor(1280, 720);
        var l = await Measure(s.Page);
        Assert.True(l.ScrollWidth <= l.Width, $"the page scrolls sideways: {l.ScrollWidth} > {l.Width}");
        Assert.True(l.LeftScroll <= l.LeftClient, $"the tensor table scrolls sideways: {l.LeftScroll} > {l.LeftClient}");
        Assert.True(l.Panel[0] >= l.Left[2], $"panel {string.Join(',', l.Panel)} is not beside the table {string.Join(',', l.Left)}");
        Assert.True(l.Panel[1] < 720 / 2, "the panel starts in the first screen");
        Assert.True(l.Hist[2] <= l.Width && l.Heatmap[2] <= l.Width);
        await s.Screenshot("layout-1280x720.png", fullPage: false);
        await s.Screenshot("layout-1280x720-full.png");
        s.AssertLocalAndClean();
    }

    [ChromiumFact]
    public async Task In_a_400px_window_table_and_panel_stack_without_sideways_scroll()
    {
        await using var s = await OpenWithTensor(400, 800);
        var page = s.Page;
        var l = await Measure(page);
        Assert.True(l.ScrollWidth <= l.Width, $"the page scrolls sideways: {l.ScrollWidth} > {l.Width}");
        Assert.True(l.LeftScroll <= l.LeftClient, $"the tensor table scrolls sideways: {l.LeftScroll} > {l.LeftClient}");
        Assert.True(l.Panel[1] >= l.Left[3], $"panel {string.Join(',', l.Panel)} is not below the table {string.Join(',', l.Left)}");
        Assert.True(l.Panel[2] <= l.Width && l.Hist[2] <= l.Width && l.Heatmap[2] <= l.Width, "the panel is wider than the window");
        // the clicked tensor's panel was brought into view
        Assert.True(await page.EvaluateAsync<bool>("() => { const r = document.getElementById('panel').getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; }"));
        await s.Screenshot("layout-400.png", fullPage: false);
        await s.Screenshot("layout-400-full.png");

        // the compare view of two files too
        await using var c = await BrowserSession.Open(new Served(TestPaths.Fixture("diff", "base.pt"), TestPaths.Fixture("diff", "tuned.pt")), new ViewportSize { Width = 400, Height = 800 });
        await Expect(c.Page.Locator("#diff-table tbody tr").First).ToBeVisibleAsync();
        await c.Page.Locator("#diff-table tbody tr").First.ClickAsync();
        await Expect(c.Page.Locator("#stats td[data-column='delta'][data-stat='max']")).Not.ToHaveTextAsync("–");
        var lc = await Measure(c.Page);
        Assert.True(lc.ScrollWidth <= lc.Width, $"the compare page scrolls sideways: {lc.ScrollWidth} > {lc.Width}");
        Assert.True(lc.LeftScroll <= lc.LeftClient, $"the diff table scrolls sideways: {lc.LeftScroll} > {lc.LeftClient}");
        await c.Screenshot("layout-400-compare.png");
        s.AssertLocalAndClean();
        c.AssertLocalAndClean();
    }
}
