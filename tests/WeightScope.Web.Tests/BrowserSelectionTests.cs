using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Playwright;
using WeightScope.Analysis;
using WeightScope.Output;
using WeightScope.Tensors;
using WeightScope.Tests;
using Xunit;
using static Microsoft.Playwright.Assertions;

namespace WeightScope.Web.Tests;

/// <summary>
/// Selecting a tensor (issue 18 §5): its statistics, histogram and heatmap come with the click, a large tensor's with
/// spinners, and the next click cancels what the last one asked for; statistics are rounded for reading with every digit
/// on hover and on copy; the histogram has a y axis of counts; sizes are the CLI's strings.
/// </summary>
public sealed class BrowserSelectionTests
{
    private static readonly string Resnet = TestPaths.Fixture("pytorch", "resnet_tiny_whole.pth");

    /// <summary>Float32 values <c>(i mod 1000) / 1000</c>, generated on read; reads wait at <see cref="Gate"/> while it is closed.</summary>
    private sealed class GatedStorage(long elements, string key) : TensorStorage(key)
    {
        public int Reads;

        public readonly ManualResetEventSlim Gate = new(initialState: false);

        public override long ByteLength => elements * sizeof(float);

        protected override void ReadCore(long offset, Span<byte> destination)
        {
            Interlocked.Increment(ref Reads);
            Gate.Wait(TimeSpan.FromSeconds(60));
            var values = MemoryMarshal.Cast<byte, float>(destination);
            long first = offset / sizeof(float);
            for (int i = 0; i < values.Length; i++) values[i] = (first + i) % 1000 / 1000f;
        }
    }

    [ChromiumFact]
    public async Task A_large_tensor_shows_spinners_and_the_next_selection_cancels_its_requests()
    {
        // "big": 64 chunks of values whose reads wait at a gate (heavy work, well over light_elements); "small": 12 values.
        var shape = new Shape(64, TensorChunks.DefaultChunkElements);
        var gated = new GatedStorage(shape.ElementCount, "big");
        var smallBytes = new byte[12 * sizeof(float)];
        MemoryMarshal.Cast<byte, float>(smallBytes.AsSpan()).Fill(0.5f);
        var model = new ModelFile(new ModelFormatInfo("memory"), new TensorCollection([
            new TensorEntry("big", DType.Float32, shape, gated), new TensorEntry("small", DType.Float32, new Shape(3, 4), new ArrayStorage(smallBytes, "small"))]));
        var served = new Served(ViewerServer.Start([model], 0, limits: new ViewerLimits { HeavyConcurrency = 1 }));
        var (cache, heavy) = (served.Server.Session.Cache, served.Server.Session.Heavy);
        string State() => $"pending {heavy.Pending}, started {heavy.Started}, stopped {heavy.Stopped}, completed {heavy.Completed}; " +
                          $"cache: {cache.Computations} computations, {cache.Cancellations} cancelled; reads {gated.Reads}";
        try
        {
            await using var s = await BrowserSession.Open(served);
            var page = s.Page;
            Assert.True(shape.ElementCount > served.Server.Session.Limits.LightElements);

            // One click on "big": statistics, histogram and heatmap are asked for at once, each with a spinner.
            await page.ClickAsync("tr[data-name='big']");
            foreach (var id in new[] { "stats", "hist", "heatmap" })
                await Expect(page.Locator($"#{id}-status .loading .spinner")).ToBeVisibleAsync();
            await Expect(page.Locator("#stats-status")).ToContainTextAsync("67,108,864 values");
            ViewerCancellationTests.Until(() => heavy.Pending == 3 && gated.Reads == 1, "the three views to queue, one running", State);
            await s.Screenshot("select-large-spinners.png", fullPage: false);

            // The next click cancels them: the two queued leave the queue at once, while the running one is still held
            // at the gate; "small" is answered meanwhile, without waiting behind them.
            await page.ClickAsync("tr[data-name='small']");
            await Expect(page.Locator("#panel-title")).ToHaveTextAsync("small");
            await Expect(page.Locator("#stats td[data-stat='mean']")).ToHaveTextAsync("0.5");
            await Expect(page.Locator("#hist svg rect.bin")).ToHaveCountAsync(50);
            await Expect(page.Locator("#heatmap img")).ToBeVisibleAsync();
            foreach (var id in new[] { "stats", "hist", "heatmap" })
                await Expect(page.Locator($"#{id}-status .loading")).ToHaveCountAsync(0);
            ViewerCancellationTests.Until(() => heavy.Pending == 1, "the queued views of big to leave the queue", State);
            Assert.Equal(1, gated.Reads);

            // The running one stops at its next chunk once the gate opens; none of big's views completes or is cached.
            gated.Gate.Set();
            ViewerCancellationTests.Until(() => heavy.Pending == 0, "big's running view to stop", State);
            Assert.Equal((1, 1, 0), (heavy.Started, heavy.Stopped, heavy.Completed));
            ViewerCancellationTests.Until(() => cache.Cancellations == 3, "the cache to drop big's three views", State);
            Assert.True(gated.Reads < 64, State());
            await s.Screenshot("select-small-after-large.png", fullPage: false);
            s.AssertLocalAndClean();
        }
        finally
        {
            gated.Gate.Set();
        }
    }

    [ChromiumFact]
    public async Task Statistics_are_rounded_to_4_digits_with_every_digit_on_hover_and_on_copy()
    {
        using var model = ModelFile.Open(Resnet);
        await using var s = await BrowserSession.OpenFiles(Resnet);
        var page = s.Page;
        const string Name = "layer2.0.conv1.weight";
        await page.ClickAsync($"tr[data-name='{Name}']");
        await Expect(page.Locator("#stats td[data-stat='mean']")).Not.ToHaveTextAsync("–");
        var expected = Stats.Compute([model.Tensors[Name]]).Tensors[0];
        var values = new Dictionary<string, double>
        {
            ["min"] = expected.Min!.Value, ["max"] = expected.Max!.Value, ["mean"] = expected.Mean!.Value, ["std"] = expected.Std!.Value,
            ["l1"] = expected.L1, ["l2"] = expected.L2, ["mean_abs"] = expected.MeanAbs!.Value,
        };
        foreach (var (key, v) in values)
        {
            var cell = page.Locator($"#stats td[data-stat='{key}']");
            string shown = (await cell.TextContentAsync())!;
            string title = (await cell.GetAttributeAsync("title"))!;
            // shown: the value to 4 significant digits (as .NET's G4 rounds it); title: the value itself, every digit
            Assert.Equal(double.Parse(v.ToString("G4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture), double.Parse(shown, CultureInfo.InvariantCulture));
            Assert.True(shown.Replace("-", "").Replace(".", "").TrimStart('0').Length <= 4, $"{key}: '{shown}' has more than 4 digits");
            Assert.Equal(v, double.Parse(title, CultureInfo.InvariantCulture));
            Assert.Equal(title, await cell.GetAttributeAsync("data-full"));
        }
        Assert.NotEqual(values["mean"].ToString("R", CultureInfo.InvariantCulture), await page.Locator("#stats td[data-stat='mean']").TextContentAsync());
        // counts are whole numbers, shown grouped
        Assert.Equal(expected.Count.ToString("N0", CultureInfo.InvariantCulture), await page.Locator("#stats td[data-stat='count']").TextContentAsync());

        // Copy with the keyboard: a selected number is copied with every digit…
        await page.EvaluateAsync("""
            () => { const r = document.createRange(); r.selectNodeContents(document.querySelector("#stats td[data-stat='mean']"));
                    const s = getSelection(); s.removeAllRanges(); s.addRange(r); }
            """);
        await page.Keyboard.PressAsync("Control+C");
        string copied = await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        Assert.Equal(values["mean"], double.Parse(copied, CultureInfo.InvariantCulture));
        Assert.Equal(await page.Locator("#stats td[data-stat='mean']").GetAttributeAsync("title"), copied);

        // …and the whole table as tab-separated lines, every digit
        await page.EvaluateAsync("""
            () => { const r = document.createRange(); r.selectNode(document.querySelector('#stats'));
                    const s = getSelection(); s.removeAllRanges(); s.addRange(r); }
            """);
        await page.Keyboard.PressAsync("Control+C");
        AssertTable(await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"), values);

        // the copy button puts the same table on the clipboard
        await page.EvaluateAsync("() => navigator.clipboard.writeText('')");
        await page.ClickAsync("#stats-copy");
        await Expect(page.Locator("#stats-copy")).ToHaveTextAsync("copied");
        AssertTable(await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"), values);

        await page.HoverAsync("#stats td[data-stat='mean']");
        await s.Screenshot("stats-rounded.png", fullPage: false);
        s.AssertLocalAndClean();

        static void AssertTable(string tsv, Dictionary<string, double> values)
        {
            var rows = tsv.Split('\n').Select(l => l.Split('\t')).ToDictionary(r => r[0], r => r.Length > 1 ? r[1] : "");
            Assert.Equal(14, rows.Count); // the header line and 13 statistics
            foreach (var (label, key) in new[] { ("min", "min"), ("max", "max"), ("mean", "mean"), ("std", "std"), ("L1", "l1"), ("L2", "l2"), ("mean |w|", "mean_abs") })
                Assert.Equal(values[key], double.Parse(rows[label], CultureInfo.InvariantCulture));
        }
    }

    [ChromiumFact]
    public async Task The_histogram_has_a_y_axis_of_counts_that_the_bars_reach()
    {
        using var model = ModelFile.Open(Resnet);
        await using var s = await BrowserSession.OpenFiles(Resnet);
        var page = s.Page;
        const string Name = "layer2.0.conv1.weight";
        await page.ClickAsync($"tr[data-name='{Name}']");
        var bars = page.Locator("#hist svg rect.bin");
        await Expect(bars).ToHaveCountAsync(50);
        var counts = Histogram.Compute(model.Tensors[Name], 50).Counts;

        // ticks: 0, then equal steps of 1, 2 or 5 × 10^k, the last at or above the tallest bar, labelled with counts
        var ticks = await page.Locator("#hist svg g.y-axis text.tick-label").EvaluateAllAsync<double[][]>(
            "ts => ts.map(t => [Number(t.dataset.value), Number(t.textContent.replace(/,/g, '')), Number(t.getAttribute('y'))])");
        Assert.True(ticks.Length >= 3, $"{ticks.Length} ticks");
        Assert.All(ticks, t => Assert.Equal(t[0], t[1]));
        Assert.Equal(0, ticks[0][0]);
        double step = ticks[1][0];
        Assert.Contains(step / Math.Pow(10, Math.Floor(Math.Log10(step))), new double[] { 1, 2, 5 });
        for (int i = 1; i < ticks.Length; i++) Assert.Equal(step * i, ticks[i][0]);
        long max = counts.Max();
        Assert.InRange((double)max, ticks[^1][0] - step + 1, ticks[^1][0]);
        Assert.Equal(ticks.Length, await page.Locator("#hist svg g.y-axis line.tick").CountAsync());
        await Expect(page.Locator("#hist svg g.y-axis text.axis-title")).ToHaveTextAsync("count");

        // each bar's top is where the axis puts its count (labels sit 4 px below their tick: baseline)
        double y0 = ticks[0][2] - 4, yTop = ticks[^1][2] - 4, top = ticks[^1][0];
        var tops = await bars.EvaluateAllAsync<double[][]>("bs => bs.map(b => [Number(b.dataset.count), Number(b.getAttribute('y')), Number(b.getAttribute('height'))])");
        Assert.Equal(counts, tops.Select(b => (long)b[0]));
        foreach (var b in tops)
        {
            Assert.Equal(y0 + (yTop - y0) * b[0] / top, b[1], 6);
            Assert.Equal(y0 - b[1], b[2], 6);
        }
        await page.Locator("#hist").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(BrowserSession.Screenshots, "histogram-axis.png") });
        s.AssertLocalAndClean();
    }

    [ChromiumFact]
    public async Task Sizes_are_the_strings_weightscope_list_prints()
    {
        // A file with sizes in B, KiB and MiB (the fixtures are all under 1 MiB), written at test time.
        string dir = Path.Combine(Path.GetTempPath(), "ws-sizes-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "sizes.safetensors");
            WriteSafetensors(path, [("big.weight", [600, 600]), ("mid.weight", [300]), ("tiny.bias", [3])]);
            using var model = ModelFile.Open(path);
            var cli = Cli("list", path);
            Assert.DoesNotContain("\"size\"", Cli("list", path, "--json")); // list --json is unchanged: sizes as text are the viewer's
            await using var s = await BrowserSession.OpenFiles(path);
            var page = s.Page;
            await Expect(page.Locator("#tensor-table tbody tr")).ToHaveCountAsync(3);
            var shown = await page.Locator("#tensor-table tbody tr").EvaluateAllAsync<string[][]>(
                "rs => rs.map(r => [r.dataset.name, r.querySelector('td.size').textContent])");
            foreach (var (name, size) in shown.Select(r => (r[0], r[1])))
            {
                Assert.Equal(Units.Bytes(model.Tensors[name].ByteSize), size);
                var line = cli.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal));
                Assert.EndsWith("  " + size, line.TrimEnd());
            }
            // one of each unit
            Assert.Collection(shown, r => Assert.EndsWith(" MiB", r[1]), r => Assert.EndsWith(" KiB", r[1]), r => Assert.Matches(@"^\d+ B$", r[1]));
            // the file's total, in the header and in list's summary line
            string total = Units.Bytes(model.Tensors.Totals.Bytes);
            await Expect(page.Locator("#files .size")).ToHaveTextAsync(total);
            Assert.Contains($", {total}  (", cli);
            // and the panel's
            await page.ClickAsync("tr[data-name='big.weight']");
            await Expect(page.Locator("#panel-meta")).ToContainTextAsync("· " + Units.Bytes(model.Tensors["big.weight"].ByteSize));
            await s.Screenshot("sizes.png", fullPage: false);
            s.AssertLocalAndClean();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Float32 zeros in a safetensors file (header as the format's spec lays it out).</summary>
    private static void WriteSafetensors(string path, (string Name, long[] Shape)[] tensors)
    {
        var header = new StringBuilder("{");
        long offset = 0;
        foreach (var (name, shape) in tensors)
        {
            long bytes = shape.Aggregate(1L, (a, d) => a * d) * 4;
            if (header.Length > 1) header.Append(',');
            header.Append(CultureInfo.InvariantCulture, $"\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(',', shape)}],\"data_offsets\":[{offset},{offset + bytes}]}}");
            offset += bytes;
        }
        header.Append('}');
        while (header.Length % 8 != 0) header.Append(' ');
        using var f = File.Create(path);
        f.Write(BitConverter.GetBytes((long)header.Length));
        f.Write(Encoding.ASCII.GetBytes(header.ToString()));
        f.Write(new byte[offset]);
    }

    /// <summary>Runs the CLI built beside these tests; its standard output.</summary>
    private static string Cli(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "WeightScope.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000));
        Assert.True(p.ExitCode == 0, stderr.Result);
        return stdout;
    }
}
