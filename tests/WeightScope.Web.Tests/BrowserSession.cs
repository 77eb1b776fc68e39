using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Playwright;
using WeightScope.Tests;
using Xunit;

namespace WeightScope.Web.Tests;

/// <summary>
/// A fact that needs Debian's Chromium (<c>apt-get install chromium</c>; <c>.ci/run</c> installs it): skipped, with the
/// reason, when <see cref="BrowserSession.Chromium"/> is absent. Playwright drives it by path: no browser download.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    /// <summary>Skips unless the browser is there.</summary>
    public ChromiumFactAttribute()
    {
        if (!File.Exists(BrowserSession.Chromium)) Skip = $"{BrowserSession.Chromium} not found (apt-get install chromium)";
    }
}

/// <summary>
/// A Chromium page on a viewer, recording every URL the page requests and every script error. Screenshots go to
/// <see cref="Screenshots"/>.
/// </summary>
internal sealed class BrowserSession : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";

    public const float Timeout = 30_000;

    /// <summary>A desktop window, as the older tests used.</summary>
    public static readonly ViewportSize Desktop = new() { Width = 1400, Height = 900 };

    /// <summary>
    /// Where screenshots are kept: <c>$WEIGHTSCOPE_ARTIFACTS</c>, or <c>TestResults/screenshots/</c> in this test project's
    /// folder, the test output folder <c>dotnet test</c> writes its results to (and the CI keeps).
    /// </summary>
    public static string Screenshots
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("WEIGHTSCOPE_ARTIFACTS") is { Length: > 0 } env
                ? env
                : Path.Combine(TestPaths.RepoRoot, "tests", "WeightScope.Web.Tests", "TestResults", "screenshots");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    private BrowserSession(string url, IPlaywright playwright, IBrowser browser, IPage page)
    {
        Url = url;
        Playwright = playwright;
        Browser = browser;
        Page = page;
    }

    /// <summary>The server's address (the page's origin).</summary>
    public string Url { get; }

    /// <summary>The server when it runs in this process (null for a CLI's).</summary>
    public Served? Served { get; private init; }

    public IPlaywright Playwright { get; }

    public IBrowser Browser { get; }

    public IPage Page { get; }

    public ConcurrentQueue<string> Requests { get; } = new();

    public ConcurrentQueue<string> Errors { get; } = new();

    /// <summary>A page on a fresh in-process server for <paramref name="files"/>.</summary>
    public static Task<BrowserSession> OpenFiles(params string[] files) => Open(new Served(files));

    /// <summary>A page on <paramref name="served"/> (disposed with the session).</summary>
    public static async Task<BrowserSession> Open(Served served, ViewportSize? viewport = null, string hash = "")
    {
        try
        {
            var s = await OpenUrl(served.Server.Url, viewport, hash, served);
            return s;
        }
        catch
        {
            served.Dispose();
            throw;
        }
    }

    /// <summary>A page on the viewer at <paramref name="url"/> (a CLI's), opened at <paramref name="hash"/>.</summary>
    public static async Task<BrowserSession> OpenUrl(string url, ViewportSize? viewport = null, string hash = "", Served? served = null)
    {
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"], // root in CI; containers with a small /dev/shm
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions
        {
            ViewportSize = viewport ?? Desktop,
            Permissions = ["clipboard-read", "clipboard-write"], // the copy tests read what the page copied
        });
        page.SetDefaultTimeout(Timeout);
        var s = new BrowserSession(url, playwright, browser, page) { Served = served };
        page.Request += (_, r) => s.Requests.Enqueue(r.Url);
        page.PageError += (_, e) => s.Errors.Enqueue(e);
        page.Console += (_, m) => { if (m.Type == "error") s.Errors.Enqueue(m.Text); };
        await page.GotoAsync(url + hash);
        return s;
    }

    /// <summary>Every request went to this server, and no script failed.</summary>
    public void AssertLocalAndClean()
    {
        Assert.NotEmpty(Requests);
        foreach (var url in Requests)
            Assert.True(url.StartsWith(Url, StringComparison.Ordinal) || url.StartsWith("data:", StringComparison.Ordinal), $"the page requested {url}");
        Assert.True(Errors.IsEmpty, "script errors: " + string.Join("\n", Errors));
    }

    /// <summary>A full-page PNG in <see cref="Screenshots"/>, checked to be one.</summary>
    public async Task<string> Screenshot(string name, bool fullPage = true)
    {
        string path = Path.Combine(Screenshots, name);
        // from the top, the panel's own scroll too (a full-page shot cannot show what a scrolled box hides)
        if (fullPage) await Page.EvaluateAsync("() => { window.scrollTo(0, 0); document.getElementById('panel').scrollTop = 0; }");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage });
        Assert.True(new FileInfo(path).Length > 1000, $"{path} is empty");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(path)[..4]);
        return path;
    }

    /// <summary>The page's location hash, decoded into its parameters.</summary>
    public async Task<Dictionary<string, string>> Hash()
    {
        var pairs = await Page.EvaluateAsync<string[][]>("() => [...new URLSearchParams(location.hash.slice(1))]");
        return pairs.ToDictionary(p => p[0], p => p[1]);
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.CloseAsync();
        Playwright.Dispose();
        Served?.Dispose();
    }
}

/// <summary><c>weightscope serve</c> run as a user runs it (<c>dotnet WeightScope.Cli.dll</c>), stopped with SIGTERM.</summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Process _process;

    public ServeProcess(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "WeightScope.Cli.dll"));
        psi.ArgumentList.Add("serve");
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        _process = Process.Start(psi)!;
        _ = _process.StandardError.ReadToEndAsync();
        var line = _process.StandardOutput.ReadLineAsync();
        Assert.True(line.Wait(60_000), "serve printed nothing within 60 s");
        var text = line.Result ?? "";
        int at = text.IndexOf(" at http://127.0.0.1:", StringComparison.Ordinal);
        Assert.True(at > 0, $"unexpected first line: '{text}'");
        Url = text[(at + 4)..text.IndexOf(' ', at + 4)];
    }

    /// <summary>The URL serve printed.</summary>
    public string Url { get; }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
            if (!_process.WaitForExit(30_000)) _process.Kill(true);
        }
        _process.Dispose();
    }
}
