using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using WeightScope.Tests;
using Xunit;

namespace WeightScope.Web.Tests;

/// <summary>
/// <c>weightscope serve</c> as a user runs it (the CLI built beside these tests, as <c>dotnet WeightScope.Cli.dll</c>):
/// the printed URL, the port rules and exit codes (2 usage, 3 unreadable file), and a clean stop on SIGTERM.
/// </summary>
public sealed partial class ServeCommandTests
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "WeightScope.Cli.dll");
    private static readonly string Model = TestPaths.Fixture("pytorch", "resnet_tiny_whole.pth");

    [GeneratedRegex(@"^WeightScope serving (.+) at (http://127\.0\.0\.1:(\d+)/) \(Ctrl\+C to stop\)$")]
    private static partial Regex ServingLine();

    private static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        return Process.Start(psi)!;
    }

    private static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        using var p = Start(args);
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException(string.Join(' ', args)); }
        return (p.ExitCode, stdout, stderr.Result);
    }

    /// <summary>Runs serve until it prints its URL, checks the page answers, stops it with SIGTERM; returns the URL and stderr.</summary>
    private static (string Url, string Stderr) ServeAndStop(params string[] args)
    {
        using var p = Start(["serve", .. args]);
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            var lineTask = p.StandardOutput.ReadLineAsync();
            Assert.True(lineTask.Wait(60_000), "serve printed nothing within 60 s");
            string line = lineTask.Result ?? "";
            var m = ServingLine().Match(line);
            Assert.True(m.Success, $"unexpected first line: '{line}'");
            string url = m.Groups[2].Value;
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
            var session = http.GetStringAsync(url + "api/session").GetAwaiter().GetResult();
            Assert.Contains("resnet_tiny_whole.pth", session);
            using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
            Assert.True(p.WaitForExit(30_000), "serve did not stop on SIGTERM");
            Assert.Equal(0, p.ExitCode);
            return (url, stderr.Result);
        }
        finally
        {
            if (!p.HasExited) p.Kill(true);
        }
    }

    [Fact]
    public void Prints_its_url_serves_and_stops_on_SIGTERM()
    {
        var (url, stderr) = ServeAndStop(Model, "--port", "0");
        Assert.DoesNotContain("info:", stderr); // no ASP.NET logging on the console
        Assert.Equal("", stderr.Trim());
        Assert.StartsWith("http://127.0.0.1:", url);
    }

    [Fact]
    public void A_taken_default_port_is_replaced_by_a_free_one_and_said()
    {
        // Hold 8080 (if something else already holds it, the rule is the same).
        TcpListener? holder = null;
        try
        {
            holder = new TcpListener(IPAddress.Loopback, ViewerServer.DefaultPort);
            holder.Start();
        }
        catch (SocketException)
        {
            holder = null;
        }
        try
        {
            var (url, stderr) = ServeAndStop(Model);
            Assert.NotEqual($"http://127.0.0.1:{ViewerServer.DefaultPort}/", url);
            Assert.Contains($"port {ViewerServer.DefaultPort} is in use; serving on port {new Uri(url).Port} instead", stderr);
        }
        finally
        {
            holder?.Stop();
        }
    }

    [Fact]
    public void A_taken_port_given_with_port_is_a_usage_error()
    {
        using var other = new Served(Model);
        var (code, _, stderr) = Run("serve", Model, "--port", other.Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, code);
        Assert.Contains($"port {other.Server.Port} on 127.0.0.1 is already in use", stderr);
        Assert.Contains("--port", stderr);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("65536")]
    [InlineData("http")]
    public void A_bad_port_is_a_usage_error(string port)
    {
        var (code, _, stderr) = Run("serve", Model, "--port", port);
        Assert.Equal(2, code);
        Assert.Contains("port", stderr);
    }

    [Fact]
    public void An_unreadable_or_missing_file_exits_3_before_serving()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ws-serve-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string bad = Path.Combine(dir, "bad.pt");
            File.WriteAllText(bad, "not a weight file at all");
            var r = Run("serve", bad, "--port", "0");
            Assert.Equal(3, r.Code);
            Assert.Contains("bad.pt", r.Stderr);
            Assert.DoesNotContain("serving", r.Stdout);
            var missing = Run("serve", Path.Combine(dir, "missing.pt"), "--port", "0");
            Assert.Equal(3, missing.Code);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Three_files_are_a_usage_error()
    {
        Assert.Equal(2, Run("serve", Model, Model, Model).Code);
    }

    [Theory]
    [InlineData("--atol", "-1")]
    [InlineData("--map", "s/unclosed")]
    public void A_bad_comparison_option_is_a_usage_error(string option, string value)
    {
        Assert.Equal(2, Run("serve", Model, Model, option, value).Code);
    }

    [Fact]
    public void Help_has_an_example()
    {
        var (code, stdout, _) = Run("serve", "--help");
        Assert.Equal(0, code);
        Assert.Contains("weightscope serve model.pth", stdout);
        Assert.Contains("--port", stdout);
    }
}
