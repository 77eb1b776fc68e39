using System.Net;
using WeightScope.Analysis;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace WeightScope.Web;

/// <summary>
/// The <c>weightscope serve</c> viewer: an HTTP server on 127.0.0.1 that shows one weight file (or compares two) in a
/// browser. It reads only the files it was started with: no request names a path; tensors are addressed by index or by
/// name within those files.
/// </summary>
public sealed class ViewerServer : IAsyncDisposable, IDisposable
{
    /// <summary>The port the CLI uses when none is given.</summary>
    public const int DefaultPort = 8080;

    private readonly WebApplication _app;
    private readonly ViewerSession _session;
    private int _disposed;

    private ViewerServer(WebApplication app, ViewerSession session, int port)
    {
        _app = app;
        _session = session;
        Port = port;
    }

    /// <summary>The port the server listens on (the one chosen by the system when started with port 0).</summary>
    public int Port { get; }

    /// <summary>The page's address, <c>http://127.0.0.1:PORT/</c>.</summary>
    public string Url => $"http://127.0.0.1:{Port}/";

    /// <summary>The files, results and queue being served (tests read its counters).</summary>
    internal ViewerSession Session => _session;

    /// <summary>
    /// Opens <paramref name="files"/> (one to view, two to compare: headers and indexes only, no tensor data) and starts
    /// serving them on 127.0.0.1:<paramref name="port"/> (0: a free port chosen by the system).
    /// </summary>
    /// <param name="files">One or two weight files or folders, as <see cref="ModelFile.Open(string, ReaderOptions?)"/> takes them.</param>
    /// <param name="port">TCP port on the loopback address; 0 for any free port.</param>
    /// <param name="options">Reader limits for opening the files.</param>
    /// <param name="diff">How two files are paired and compared (renames, tolerances), as <c>weightscope diff</c> takes them; defaults when null.</param>
    /// <exception cref="ModelFormatException">A file cannot be read.</exception>
    /// <exception cref="PortInUseException">Something else listens on <paramref name="port"/>.</exception>
    public static ViewerServer Start(IReadOnlyList<string> files, int port, ReaderOptions? options = null, DiffOptions? diff = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count is < 1 or > 2) throw new ArgumentException("serve takes one file to view or two to compare", nameof(files));
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        var models = new List<ModelFile>();
        try
        {
            foreach (var f in files) models.Add(ModelFile.Open(f, options));
        }
        catch
        {
            foreach (var m in models) m.Dispose();
            throw;
        }
        return Start(models, port, diff);
    }

    /// <summary>Serves models already open (tests build them in memory); they are disposed with the server, or on failure.</summary>
    internal static ViewerServer Start(IReadOnlyList<ModelFile> models, int port, DiffOptions? diff = null, ViewerLimits? limits = null)
    {
        var session = new ViewerSession(models, diff ?? new DiffOptions(), limits);
        try
        {
            return Start(session, port);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static ViewerServer Start(ViewerSession session, int port)
    {
        // The empty builder: no configuration files or environment variables (ASPNETCORE_URLS cannot move the server off
        // the loopback address), no logging providers (the console stays quiet), no file watchers in the current folder.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, port); // never 0.0.0.0: the viewer is for this machine only
        });
        var app = builder.Build();
        ViewerApi.Map(app, session);
        try
        {
            app.StartAsync().GetAwaiter().GetResult();
        }
        catch (IOException e) when (e.InnerException is AddressInUseException)
        {
            DisposeQuietly(app);
            throw new PortInUseException(port, e);
        }
        catch
        {
            DisposeQuietly(app);
            throw;
        }
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        int bound = new Uri(address).Port;
        session.Port = bound; // from now on requests addressed to 127.0.0.1:PORT or localhost:PORT are answered
        return new ViewerServer(app, session, bound);
    }

    private static void DisposeQuietly(WebApplication app)
    {
        try { app.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        catch (Exception) { /* the start failure is the error worth reporting */ }
    }

    /// <summary>Blocks until the process is asked to stop (Ctrl+C, SIGTERM) or <see cref="Stop"/> is called.</summary>
    public void WaitForShutdown() => _app.WaitForShutdownAsync().GetAwaiter().GetResult();

    /// <summary>Stops serving and closes the files.</summary>
    public void Stop() => Dispose();

    /// <inheritdoc />
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            // Computations first: requests waiting for them answer 503 at once instead of holding the shutdown.
            _session.CancelWork();
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _session.Dispose();
        }
    }
}

/// <summary>The port asked for is taken by another program.</summary>
public sealed class PortInUseException : IOException
{
    /// <summary>Creates the exception for <paramref name="port"/>.</summary>
    public PortInUseException(int port, Exception inner)
        : base($"port {port} on 127.0.0.1 is already in use", inner) => Port = port;

    /// <summary>The port that was taken.</summary>
    public int Port { get; }
}
