using System.Net;
using System.Text.Json;

namespace WeightScope.Web.Tests;

/// <summary>A viewer started in-process on a free port, and an HTTP client for it (no proxy: loopback only).</summary>
public sealed class Served : IDisposable
{
    public Served(params string[] files)
        : this(ViewerServer.Start(files, 0))
    {
    }

    internal Served(ViewerServer server)
    {
        Server = server;
        Http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(server.Url) };
    }

    public ViewerServer Server { get; }

    public HttpClient Http { get; }

    public sealed record Reply(HttpStatusCode Status, string? ContentType, string Body, HttpResponseMessage Response)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement;
    }

    public Reply Get(string path) => Send(new HttpRequestMessage(HttpMethod.Get, path));

    public Reply Send(HttpRequestMessage request)
    {
        var r = Http.Send(request);
        var body = r.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        return new Reply(r.StatusCode, r.Content.Headers.ContentType?.ToString(), body, r);
    }

    public byte[] GetBytes(string path, out string? contentType)
    {
        var r = Http.Send(new HttpRequestMessage(HttpMethod.Get, path));
        Xunit.Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        contentType = r.Content.Headers.ContentType?.ToString();
        return r.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
    }

    /// <summary>GETs a JSON route that must answer 200.</summary>
    public JsonElement Json(string path)
    {
        var r = Get(path);
        Xunit.Assert.True(r.Status == HttpStatusCode.OK, $"{path}: {(int)r.Status} {r.Body}");
        Xunit.Assert.StartsWith("application/json", r.ContentType);
        return r.Json;
    }

    public void Dispose()
    {
        Http.Dispose();
        Server.Dispose();
    }
}
