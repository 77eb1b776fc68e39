using System.Net;
using System.Net.Sockets;
using System.Text;
using WeightScope.Tensors;
using WeightScope.Tests;
using Xunit;

namespace WeightScope.Web.Tests;

/// <summary>
/// What keeps the viewer local and confined to its files: loopback binding, the Host check (DNS rebinding), GET only,
/// no parameter used as a path, the page's headers (CSP, no-cache, content types) and assets that reference nothing
/// outside the server.
/// </summary>
public sealed class ViewerSecurityTests
{
    private static string F(params string[] parts) => TestPaths.Fixture(parts);

    // The served file (resnet: conv1, layer1…, fc) and another fixture whose tensor names it does not have.
    private static readonly string Served_ = F("pytorch", "resnet_tiny_whole.pth");
    private static readonly string Other = F("pytorch", "simple_nn_state_dict.pth");
    private static readonly string[] OtherNames = ["fc1.weight", "fc2.weight", "fc1.bias"];

    [Fact]
    public void The_other_fixture_has_names_the_served_one_lacks()
    {
        using var other = ModelFile.Open(Other);
        using var served = ModelFile.Open(Served_);
        foreach (var n in OtherNames)
        {
            Assert.True(other.Tensors.Contains(n));
            Assert.False(served.Tensors.Contains(n));
        }
    }

    public static TheoryData<string> OtherPaths()
    {
        var rel = Path.GetRelativePath(Path.GetDirectoryName(Served_)!, Other); // simple_nn_state_dict.pth
        var fromCwd = Path.GetRelativePath(Environment.CurrentDirectory, Other);
        return new TheoryData<string> { Other, "../pytorch/" + rel, rel, fromCwd, "../../../../" + Other.TrimStart('/'), "file://" + Other, "/etc/passwd" };
    }

    [Theory]
    [MemberData(nameof(OtherPaths))]
    public void A_path_in_any_parameter_never_opens_another_file(string other)
    {
        using var s = new Served(Served_);
        string e = Uri.EscapeDataString(other);
        string[] requests =
        [
            $"/api/files/0/tensor/stats?name={e}",
            $"/api/files/0/tensor/values?name={e}",
            $"/api/files/0/tensor/hist?name={e}",
            $"/api/files/0/tensor/heatmap.png?name={e}",
            $"/api/files/{e}/tensors",
            $"/api/files/{e}/tree",
            $"/api/files/{e}/summary",
            $"/api/files/0/tensors/{e}/stats",
            $"/api/files/0/tensors/0/{e}",
            $"/api/files/0/tensors/0/values?slice={e}",
            $"/api/files/0/tensors/0/hist?bins={e}",
            $"/api/files/0/tensors?file={e}&path={e}",
            $"/api/session?file={e}&path={e}",
            $"/{e}",
            $"/api/{e}",
            $"/api/diff/pairs/{e}",
        ];
        foreach (var path in requests)
        {
            var r = s.Get(path);
            foreach (var name in OtherNames)
                Assert.DoesNotContain(name, r.Body);
            // a route that ignores unknown parameters answers about the served file only
            if (r.Status == HttpStatusCode.OK) Assert.Contains(path.StartsWith("/api/session") ? "resnet_tiny_whole.pth" : "conv1", r.Body);
            else Assert.True(r.Status is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{path}: {(int)r.Status} {r.Body}");
        }
    }

    [Fact]
    public void Raw_dot_segments_do_not_escape_the_routes()
    {
        // Sent as written (HttpClient would normalise them): Kestrel resolves dot segments before routing.
        using var s = new Served(Served_);
        foreach (var target in new[] { "/../../../../etc/passwd", "/api/files/0/../../../" + Other.TrimStart('/'), "/%2e%2e/%2e%2e/etc/passwd", "/api/files/..%2f..%2fetc/tensors" })
        {
            var (status, body) = Raw(s.Server.Port, $"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{s.Server.Port}\r\nConnection: close\r\n\r\n");
            Assert.True(status is 404 or 400, $"{target}: {status}");
            Assert.DoesNotContain("root:", body);
            foreach (var name in OtherNames) Assert.DoesNotContain(name, body);
        }
    }

    [Fact]
    public void Binds_to_the_loopback_address_only()
    {
        using var s = new Served(Served_);
        Assert.StartsWith("http://127.0.0.1:", s.Server.Url);
        Assert.Equal(s.Server.Port, new Uri(s.Server.Url).Port);
        // Not on the IPv6 loopback either: only 127.0.0.1 was bound.
        using var v6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        Assert.ThrowsAny<SocketException>(() => v6.Connect(IPAddress.IPv6Loopback, s.Server.Port));
    }

    [Theory]
    [InlineData("evil.example:{0}")]
    [InlineData("evil.example")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:1")]
    [InlineData("localhost.evil.example:{0}")]
    [InlineData("0.0.0.0:{0}")]
    public void Requests_for_another_host_are_refused(string host)
    {
        using var s = new Served(Served_);
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/files/0/tensors");
        request.Headers.Host = string.Format(System.Globalization.CultureInfo.InvariantCulture, host, s.Server.Port);
        var r = s.Send(request);
        Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        Assert.DoesNotContain("conv1", r.Body);
    }

    [Theory]
    [InlineData("127.0.0.1:{0}")]
    [InlineData("localhost:{0}")]
    [InlineData("LOCALHOST:{0}")]
    public void Requests_for_this_server_are_answered(string host)
    {
        using var s = new Served(Served_);
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/files/0/tensors");
        request.Headers.Host = string.Format(System.Globalization.CultureInfo.InvariantCulture, host, s.Server.Port);
        Assert.Equal(HttpStatusCode.OK, s.Send(request).Status);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    [InlineData("OPTIONS")]
    public void Only_GET_is_served(string method)
    {
        using var s = new Served(Served_);
        var r = s.Send(new HttpRequestMessage(new HttpMethod(method), "/api/files/0/tensors") { Content = new StringContent("{}") });
        Assert.Equal(HttpStatusCode.MethodNotAllowed, r.Status);
        Assert.Equal("GET", r.Response.Content.Headers.Allow.Single());
    }

    [Theory]
    [InlineData("/", "text/html; charset=utf-8")]
    [InlineData("/index.html", "text/html; charset=utf-8")]
    [InlineData("/app.js", "text/javascript; charset=utf-8")]
    [InlineData("/app.css", "text/css; charset=utf-8")]
    [InlineData("/api/session", "application/json; charset=utf-8")]
    [InlineData("/api/files/0/tensors/0/hist.svg", "image/svg+xml")]
    [InlineData("/api/files/0/tensors/0/heatmap.png", "image/png")]
    [InlineData("/nothing", "application/json; charset=utf-8")]
    public void Every_response_has_its_content_type_CSP_and_no_cache(string path, string contentType)
    {
        using var s = new Served(Served_);
        var r = s.Get(path);
        Assert.Equal(contentType, r.ContentType);
        var h = r.Response.Headers;
        Assert.Equal(ViewerApi.ContentSecurityPolicy, h.GetValues("Content-Security-Policy").Single());
        Assert.StartsWith("default-src 'self'", ViewerApi.ContentSecurityPolicy);
        Assert.Equal("no-cache", h.CacheControl!.ToString());
        Assert.Equal("nosniff", h.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public void The_assets_reference_no_other_host()
    {
        Assert.Equal(["app.css", "app.js", "index.html"], StaticAssets.All.Select(a => a.Name).Order());
        foreach (var a in StaticAssets.All)
        {
            string text = Encoding.UTF8.GetString(a.Bytes);
            Assert.DoesNotContain("http://", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("https://", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("//cdn", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("@import", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("@font-face", text, StringComparison.OrdinalIgnoreCase);
        }
        // what the page loads is what is embedded, by relative URL
        string html = Encoding.UTF8.GetString(StaticAssets.Get("index.html")!.Bytes);
        Assert.Contains("src=\"app.js\"", html);
        Assert.Contains("href=\"app.css\"", html);
        Assert.DoesNotContain("<script>", html); // no inline script: the CSP forbids it
    }

    [Fact]
    public void A_taken_port_is_reported_as_such()
    {
        using var first = new Served(Served_);
        var e = Assert.Throws<PortInUseException>(() => ViewerServer.Start([Served_], first.Server.Port));
        Assert.Equal(first.Server.Port, e.Port);
        Assert.Contains(first.Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
    }

    [Fact]
    public void An_unreadable_file_fails_before_serving()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ws-serve-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string bad = Path.Combine(dir, "bad.pt");
            File.WriteAllBytes(bad, Encoding.ASCII.GetBytes("not a weight file at all"));
            Assert.ThrowsAny<ModelFormatException>(() => ViewerServer.Start([bad], 0));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Host_check_accepts_exactly_the_two_loopback_names_with_the_port()
    {
        Assert.True(ViewerApi.HostAllowed("127.0.0.1:8080", 8080));
        Assert.True(ViewerApi.HostAllowed("localhost:8080", 8080));
        Assert.False(ViewerApi.HostAllowed("localhost:8080", 0)); // not yet bound: nothing is answered
        Assert.False(ViewerApi.HostAllowed("[::1]:8080", 8080));
        Assert.False(ViewerApi.HostAllowed("127.0.0.1:80800", 8080));
        Assert.False(ViewerApi.HostAllowed(null, 8080));
        Assert.False(ViewerApi.HostAllowed("", 8080));
    }

    private static (int Status, string Body) Raw(int port, string request)
    {
        using var c = new TcpClient();
        c.Connect(IPAddress.Loopback, port);
        using var stream = c.GetStream();
        stream.Write(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string all = reader.ReadToEnd();
        int status = int.Parse(all.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        return (status, all);
    }
}
