using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using WeightScope.Analysis;
using WeightScope.Output;
using WeightScope.Plotting;
using WeightScope.Printing;
using WeightScope.Tensors;

namespace WeightScope.Web;

/// <summary>
/// The viewer's HTTP interface: the page's three assets and a JSON API over the session's files. Every route is GET;
/// files are addressed by slot (0, and 1 when comparing) and tensors by their index in the file's collection or by name
/// (<c>?name=</c>, looked up in the collection): no parameter is ever used as a path.
/// </summary>
/// <remarks>
/// <code>
/// GET /                                        the page (also /index.html, /app.js, /app.css)
/// GET /api/session                             {"comparing","light_elements","files":[summary…]}
/// GET /api/files/{slot}/summary                file, format, totals (tensors, params, bytes, by dtype, by role)
/// GET /api/files/{slot}/tree                   tree --json, each tensor with its index
/// GET /api/files/{slot}/tensors                list --json, each tensor with its index
/// GET /api/files/{slot}/tensors/{index}/{view} view of one tensor: stats | hist | hist.svg | heatmap.png | values
/// GET /api/files/{slot}/tensor/{view}?name=N   the same, the tensor named N
/// GET /api/diff                                diff --json, each pair with its index in A and B (two files only)
/// GET /api/diff/pairs/{pair}                   one pair: A's, B's and the delta's (A − B) statistics
/// </code>
/// Views take query parameters: <c>hist</c>/<c>hist.svg</c> <c>bins</c> (1–10000, default 50), <c>min</c> and
/// <c>max</c> (numpy's <c>range</c>; default the finite values' own) and <c>log</c> (svg); <c>values</c>
/// <c>precision threshold edgeitems linewidth sci_mode profile</c> (torch.set_printoptions); <c>hist</c>,
/// <c>hist.svg</c>, <c>heatmap.png</c> and <c>values</c> a numpy-style <c>slice</c> (<c>[0,:]</c>). Bad values: 400 with
/// a JSON error; unknown file, tensor, pair or route: 404; a tensor whose data cannot be decoded: 422 with the reader's
/// message; more heavy work pending than <see cref="ViewerLimits.MaxPendingHeavy"/>: 503 with Retry-After.
/// <para>
/// Sizes come as numbers (<c>bytes</c>) and, in summaries and lists, as the CLI writes them (<c>size</c>: "1.50 KiB",
/// from <see cref="Units.Bytes"/>): the page shows the CLI's strings without a second implementation of them.
/// <c>light_elements</c> is <see cref="ViewerLimits.LightElements"/>: a view of a larger tensor is heavy, and the page
/// shows a spinner at once for it.
/// </para>
/// <para>
/// Every computed view (statistics, histogram, plots, print, comparison, delta) is kept in the session's
/// <see cref="ResultCache"/> under its tensor and options and computed once however many requests ask at once; one
/// that reads more than <see cref="ViewerLimits.LightElements"/> values waits on <see cref="HeavyWork"/> and is
/// cancelled when every client asking for it has disconnected. Everything else is answered at once.
/// </para>
/// </remarks>
internal static class ViewerApi
{
    /// <summary>Most bins a histogram request may ask for.</summary>
    public const int MaxBins = 10_000;

    /// <summary>Most values one <c>values</c> request may print (a summarized print shows far fewer).</summary>
    public const long MaxPrintedValues = 1_000_000;

    /// <summary>Most elements whose A − B delta is materialised for its statistics (two float32 copies and a float64 one).</summary>
    public const long MaxDeltaElements = 64L << 20;

    /// <summary>
    /// The page loads only its own script, style and images (the heatmap PNG, and data: URIs inside SVG plots); nothing
    /// from elsewhere, no inline script, no plugin, no framing.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly JsonWriterOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Adds the guard (headers, Host and method checks, 404 for unknown routes) and the routes to <paramref name="app"/>.</summary>
    public static void Map(WebApplication app, ViewerSession s)
    {
        var routes = new RouteTable();
        app.Run(ctx => Guard(ctx, s) ?? Dispatch(ctx, routes));
        // Routes whose handler answers at once (Get) and those that may wait for a computation (GetAsync).

        Get(routes, "/", _ => Asset("index.html"));
        Get(routes, "/index.html", _ => Asset("index.html"));
        Get(routes, "/app.js", _ => Asset("app.js"));
        Get(routes, "/app.css", _ => Asset("app.css"));

        Get(routes, "/api/session", _ => Json(w =>
        {
            w.WriteStartObject();
            w.WriteBoolean("comparing", s.Comparing);
            w.WriteNumber("light_elements", s.Limits.LightElements);
            w.WriteStartArray("files");
            foreach (var f in s.Files) ModelJson.Summary(w, f, sizes: true);
            w.WriteEndArray();
            w.WriteEndObject();
        }));
        Get(routes, "/api/files/{slot}/summary", ctx =>
        {
            var file = File(ctx, s);
            return Json(w => ModelJson.Summary(w, file, sizes: true));
        });
        Get(routes, "/api/files/{slot}/tree", ctx =>
        {
            var file = File(ctx, s);
            return Json(w => ModelJson.Tree(w, file.Modules, null, t => s.IndexOf(file, t.Name)));
        });
        Get(routes, "/api/files/{slot}/tensors", ctx =>
        {
            var file = File(ctx, s);
            return Json(w => ModelJson.TensorList(w, file, file.Tensors, file.Tensors.Totals, t => s.IndexOf(file, t.Name), sizes: true));
        });
        GetAsync(routes, "/api/files/{slot}/tensors/{index}/{view}", ctx => TensorView(ctx, s, byName: false));
        GetAsync(routes, "/api/files/{slot}/tensor/{view}", ctx => TensorView(ctx, s, byName: true));
        GetAsync(routes, "/api/diff", async ctx =>
        {
            if (!s.Comparing) throw new NotFoundException("only one file is open: start serve with two files to compare them");
            var r = await s.Diff(ctx.RequestAborted);
            return Json(w => ModelJson.Diff(w, s.Files[0], s.Files[1], r, s.DiffOptions, indexOf: s.IndexOf));
        });
        GetAsync(routes, "/api/diff/pairs/{pair}", ctx => DiffPair(ctx, s));
    }

    /// <summary>
    /// Headers on every response, then the two refusals: a Host that is not this server's loopback address (a page on
    /// another site reaching 127.0.0.1 through DNS rebinding sends its own host name), and any method but GET.
    /// </summary>
    private static Task? Guard(HttpContext ctx, ViewerSession s)
    {
        var h = ctx.Response.Headers;
        h.ContentSecurityPolicy = ContentSecurityPolicy;
        h.CacheControl = "no-cache";
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h["Referrer-Policy"] = "no-referrer";
        if (!HostAllowed(ctx.Request.Host.Value, s.Port))
            return Write(ctx, Error(StatusCodes.Status400BadRequest, "this server answers only requests addressed to 127.0.0.1 or localhost with its port"));
        if (!HttpMethods.IsGet(ctx.Request.Method))
        {
            h.Allow = "GET";
            return Write(ctx, Error(StatusCodes.Status405MethodNotAllowed, "only GET requests are served"));
        }
        return null;
    }

    /// <summary>Runs the route matching the path; anything else (/x, /../etc/passwd, /api/files/0/../../y) is a JSON 404, never a file.</summary>
    private static async Task Dispatch(HttpContext ctx, RouteTable routes)
    {
        var reply = routes.Match(ctx) is { } handler ? await Handle(ctx, handler) : Error(StatusCodes.Status404NotFound, "no such page or API route");
        if (reply is { } r) await Write(ctx, r);
    }

    /// <summary>True when <paramref name="host"/> is <c>127.0.0.1:PORT</c> or <c>localhost:PORT</c> (case-insensitive).</summary>
    internal static bool HostAllowed(string? host, int port) =>
        port > 0 && host is not null &&
        (host.Equals($"127.0.0.1:{port}", StringComparison.OrdinalIgnoreCase) || host.Equals($"localhost:{port}", StringComparison.OrdinalIgnoreCase));

    private static void Get(RouteTable routes, string pattern, Func<HttpContext, Reply> handler) => routes.Add(pattern, ctx => Task.FromResult(handler(ctx)));

    private static void GetAsync(RouteTable routes, string pattern, Func<HttpContext, Task<Reply>> handler) => routes.Add(pattern, handler);

    /// <summary>
    /// The routes: patterns of literal and <c>{name}</c> segments, matched whole against the request path's segments
    /// (which Kestrel has already percent-decoded and freed of dot segments); a match puts the named segments in
    /// <see cref="HttpRequest.RouteValues"/>. A dozen fixed routes need no routing framework, and leaving
    /// Microsoft.AspNetCore.Routing out keeps it out of the Native AOT CLI, whose every verb pays its start-up.
    /// </summary>
    private sealed class RouteTable
    {
        private readonly List<(string[] Segments, Func<HttpContext, Task<Reply>> Handler)> _routes = [];

        public void Add(string pattern, Func<HttpContext, Task<Reply>> handler) => _routes.Add((Split(pattern), handler));

        public Func<HttpContext, Task<Reply>>? Match(HttpContext ctx)
        {
            var path = Split(ctx.Request.Path.Value ?? "");
            foreach (var (segments, handler) in _routes)
            {
                if (segments.Length != path.Length) continue;
                bool ok = true;
                for (int i = 0; i < segments.Length && ok; i++)
                    ok = IsParameter(segments[i]) ? path[i].Length > 0 : string.Equals(segments[i], path[i], StringComparison.Ordinal);
                if (!ok) continue;
                for (int i = 0; i < segments.Length; i++)
                    if (IsParameter(segments[i])) ctx.Request.RouteValues[segments[i][1..^1]] = path[i];
                return handler;
            }
            return null;
        }

        private static bool IsParameter(string segment) => segment.Length > 2 && segment[0] == '{' && segment[^1] == '}';

        // "/" → [], "/api/session" → ["api", "session"], "/api/session/" → ["api", "session", ""] (no route matches)
        private static string[] Split(string path) => path is "" or "/" ? [] : path[1..].Split('/');
    }

    /// <summary>
    /// Runs a handler, turning failures into JSON errors with the status they deserve; null when the client has gone
    /// (nothing is sent).
    /// </summary>
    private static async Task<Reply?> Handle(HttpContext ctx, Func<HttpContext, Task<Reply>> handler)
    {
        try
        {
            return await handler(ctx);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException)
        {
            return Error(StatusCodes.Status503ServiceUnavailable, "the viewer is stopping");
        }
        catch (ViewerBusyException e)
        {
            ctx.Response.Headers.RetryAfter = "1";
            return Error(StatusCodes.Status503ServiceUnavailable, e.Message);
        }
        catch (AggregateException e) when (e.Flatten().InnerExceptions.Count > 0)
        {
            // Parallel work reports through OrderedParallel; anything still wrapped is answered as its first failure.
            var first = e.Flatten().InnerExceptions[0];
            return await Handle(ctx, _ => throw first);
        }
        catch (NotFoundException e)
        {
            return Error(StatusCodes.Status404NotFound, e.Message);
        }
        catch (Exception e) when (e is BadRequestException or ArgumentException or FormatException or IndexOutOfRangeException)
        {
            return Error(StatusCodes.Status400BadRequest, e.Message);
        }
        catch (Exception e) when (e is ModelFormatException or NotSupportedException or InvalidOperationException or OverflowException
                                      or OutOfMemoryException or IOException)
        {
            // The file is open but this view of this tensor cannot be produced (corrupt data, a dtype with no values).
            return Error(StatusCodes.Status422UnprocessableEntity, e.Message);
        }
        catch (Exception e)
        {
            return Error(StatusCodes.Status500InternalServerError, $"internal error ({e.GetType().Name}: {e.Message}); please report it with the file");
        }
    }

    private static ModelFile File(HttpContext ctx, ViewerSession s) =>
        s.File(ctx.Request.RouteValues["slot"] as string) ?? throw new NotFoundException(
            s.Comparing ? "no such file: files are numbered 0 (A) and 1 (B)" : "no such file: the one file is number 0");

    private static (ModelFile File, int Index) Tensor(HttpContext ctx, ViewerSession s, bool byName)
    {
        var file = File(ctx, s);
        int index;
        if (byName)
        {
            string name = Single(ctx, "name") ?? throw new BadRequestException("name: missing (the tensor's name, as in the tensor list)");
            index = s.IndexOf(file, name);
            if (index < 0) throw new NotFoundException($"no tensor named '{name}' in {FileName(file)}");
        }
        else
        {
            var text = ctx.Request.RouteValues["index"] as string;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out index) || index >= file.Tensors.Count)
                throw new NotFoundException($"no tensor number '{text}' in {FileName(file)} (it has {file.Tensors.Count}, numbered from 0)");
        }
        return (file, index);
    }

    private static string FileName(ModelFile file) => Path.GetFileName((file.Path ?? "the file").TrimEnd('/', '\\'));

    private static async Task<Reply> TensorView(HttpContext ctx, ViewerSession s, bool byName)
    {
        var (file, index) = Tensor(ctx, s, byName);
        int slot = s.SlotOf(file);
        var tensor = file.Tensors[index];
        var aborted = ctx.RequestAborted;
        switch (ctx.Request.RouteValues["view"] as string)
        {
            case "stats":
                {
                    var r = await s.Stats(file, index, aborted);
                    if (r.Stats is null) throw new NotSupportedException($"{tensor.Name}: {r.Skipped}");
                    return Json(w => ModelJson.Stats(w, r.Stats));
                }
            case "hist":
                {
                    var h = await Hist(ctx, s, slot, index, tensor);
                    return Json(w => ModelJson.Histogram(w, h.Histogram));
                }
            case "hist.svg":
                {
                    bool log = Bool(ctx, "log") ?? false;
                    var h = await Hist(ctx, s, slot, index, tensor);
                    var svg = await s.Compute(new CacheKey(slot, index, "hist.svg", $"{h.Options}|{log}"), 0,
                        _ => Render(Plot.Histogram([h.Histogram], new HistogramPlotOptions { LogScale = log }).WriteSvg), b => b.Length, aborted);
                    return new Reply(StatusCodes.Status200OK, "image/svg+xml", svg);
                }
            case "heatmap.png":
                {
                    var (t, slice) = Slice(ctx, tensor);
                    var png = await s.Compute(new CacheKey(slot, index, "heatmap.png", slice), t.ElementCount,
                        token => Render(Plot.Heatmap(t, cancellationToken: token).WritePng), b => b.Length, aborted);
                    return new Reply(StatusCodes.Status200OK, "image/png", png);
                }
            case "values":
                {
                    var ((t, slice), o) = (Slice(ctx, tensor), PrintOptionsFrom(ctx));
                    long shown = Printed(t.Shape, o);
                    if (shown > MaxPrintedValues)
                        throw new BadRequestException($"{t.Name}{t.Shape} would print {shown:N0} values (at most {MaxPrintedValues:N0}): lower threshold, or choose a slice");
                    string options = FormattableString.Invariant($"{slice}|{o.Precision}|{o.Threshold:R}|{o.EdgeItems}|{o.LineWidth}|{o.SciMode}");
                    string text = await s.Compute(new CacheKey(slot, index, "values", options), shown,
                        _ => TensorFormatter.Format(t, o), x => 2L * x.Length, aborted);
                    return Json(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("name", t.Name);
                        w.WriteString("dtype", t.DType.Name());
                        ModelJson.Shape(w, "shape", t.Shape);
                        w.WriteString("text", text);
                        w.WriteEndObject();
                    });
                }
            default:
                throw new NotFoundException("no such view: stats, hist, hist.svg, heatmap.png or values");
        }
    }

    /// <summary>A histogram and the options it was computed with (the key its plots are kept under too).</summary>
    private sealed record HistResult(Histogram Histogram, string Options);

    /// <summary>The histogram the query asks for (<c>slice bins min max</c>), from the cache or computed once.</summary>
    private static Task<HistResult> Hist(HttpContext ctx, ViewerSession s, int slot, int index, TensorEntry tensor)
    {
        var ((t, slice), bins, min, max) = (Slice(ctx, tensor), Bins(ctx), Finite(ctx, "min"), Finite(ctx, "max"));
        if (min > max) throw new BadRequestException($"min ({min}) must not exceed max ({max})");
        string options = FormattableString.Invariant($"{slice}|{bins}|{min:R}|{max:R}");
        return s.Compute(new CacheKey(slot, index, "hist", options), t.ElementCount,
            token => new HistResult(Histogram.Compute(t, bins, min, max, token), options),
            h => 16L * h.Histogram.Edges.Count + 256, ctx.RequestAborted);
    }

    private static async Task<Reply> DiffPair(HttpContext ctx, ViewerSession s)
    {
        if (!s.Comparing) throw new NotFoundException("only one file is open: start serve with two files to compare them");
        var aborted = ctx.RequestAborted;
        var r = await s.Diff(aborted);
        var text = ctx.Request.RouteValues["pair"] as string;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p >= r.Pairs.Count)
            throw new NotFoundException($"no pair number '{text}' (the comparison has {r.Pairs.Count}, numbered from 0)");
        var c = r.Pairs[p];
        var (a, b) = (s.Files[0], s.Files[1]);
        int ia = s.IndexOf(a, c.NameA), ib = s.IndexOf(b, c.NameB);
        // A's and B's statistics are queued together, then the delta's.
        var statsA = s.Stats(a, ia, aborted);
        var statsB = s.Stats(b, ib, aborted);
        TensorStatistics? delta = null;
        string? deltaNote = null;
        if (!c.Compared) deltaNote = "shapes differ: no element-wise delta";
        else if (c.BytesOnly) deltaNote = "complex tensors are compared byte for byte: no delta statistics";
        else if (c.Elements > MaxDeltaElements) deltaNote = $"{c.Elements:N0} elements: too large for delta statistics here (max |Δ| and mean |Δ| are above)";
        else delta = await s.Compute(new CacheKey(-1, p, "delta", ""), c.Elements,
            token => DeltaStats(a.Tensors[ia], b.Tensors[ib], token), _ => StatsResult.Bytes, aborted);
        var (sa, sb) = (await statsA, await statsB);
        return Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("pair", p);
            w.WriteNumber("index_a", ia);
            w.WriteNumber("index_b", ib);
            w.WriteString("name_a", c.NameA);
            w.WriteString("name_b", c.NameB);
            StatsOrNull(w, "a", sa.Stats);
            StatsOrNull(w, "b", sb.Stats);
            StatsOrNull(w, "delta", delta);
            w.WriteString("delta_note", deltaNote);
            w.WriteEndObject();
        });
    }

    private static void StatsOrNull(Utf8JsonWriter w, string name, TensorStatistics? stats)
    {
        w.WritePropertyName(name);
        if (stats is null) w.WriteNullValue();
        else ModelJson.Stats(w, stats);
    }

    /// <summary>
    /// Statistics of A − B, element by element, each value read as float32 as <see cref="Diff"/> reads them, the
    /// difference taken in float64 (what max |Δ| and mean |Δ| are computed from) and, as every statistic reads values,
    /// as float32: so the delta is kept as float32, 4 bytes an element, streamed from A and B a chunk at a time.
    /// </summary>
    private static TensorStatistics DeltaStats(TensorEntry a, TensorEntry b, CancellationToken token)
    {
        var bytes = new byte[checked(a.ElementCount * sizeof(float))];
        TensorChunks.ForEachPair(a, b, (x, y, first) =>
        {
            var d = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(checked((int)(first * sizeof(float))), x.Length * sizeof(float)));
            for (int i = 0; i < d.Length; i++) d[i] = (float)((double)x[i] - y[i]);
        }, cancellationToken: token);
        var delta = new TensorEntry($"{a.Name} − {b.Name}", DType.Float32, a.Shape, new ArrayStorage(bytes, "delta"));
        // The difference was taken in float64: that is the dtype the page shows for it.
        return Analysis.Stats.Compute([delta], cancellationToken: token).Tensors[0] with { DType = DType.Float64.Name() };
    }

    /// <summary>How many values a print shows: all, or edgeitems at each end of each dimension when summarized.</summary>
    internal static long Printed(Shape shape, PrintOptions o)
    {
        long count = shape.ElementCount;
        if (count <= o.Threshold) return count;
        long shown = 1;
        foreach (var d in shape) shown = Math.Min(count, checked(shown * Math.Min(d, 2L * o.EdgeItems)));
        return shown;
    }

    // ----- query parameters: each at most once, validated, 400 otherwise -----

    private static string? Single(HttpContext ctx, string name)
    {
        var values = ctx.Request.Query[name];
        if (values.Count > 1) throw new BadRequestException($"{name}: given {values.Count} times");
        return values.Count == 0 ? null : values[0];
    }

    private static int? Int(HttpContext ctx, string name, int min, int max)
    {
        if (Single(ctx, name) is not { } text) return null;
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
            throw new BadRequestException($"{name}: '{text}' is not a whole number from {min} to {max}");
        return v;
    }

    private static bool? Bool(HttpContext ctx, string name) => Single(ctx, name) switch
    {
        null => null,
        "true" or "1" => true,
        "false" or "0" => false,
        var text => throw new BadRequestException($"{name}: '{text}' is not true or false"),
    };

    private static int Bins(HttpContext ctx) => Int(ctx, "bins", 1, MaxBins) ?? 50;

    private static double? Finite(HttpContext ctx, string name) => Single(ctx, name) switch
    {
        null => null,
        var text => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
            : throw new BadRequestException($"{name}: '{text}' is not a finite number"),
    };

    /// <summary>The tensor or the view the <c>slice</c> parameter asks for, and the slice's text ("" for none).</summary>
    private static (TensorEntry Tensor, string Slice) Slice(HttpContext ctx, TensorEntry t) =>
        Single(ctx, "slice") is { Length: > 0 } index ? (t.Slice(index), index) : (t, "");

    /// <summary>
    /// torch.set_printoptions from the query: <c>profile</c> (default, short, full) first, then <c>precision</c> (0–30),
    /// <c>threshold</c> (a number ≥ 0, or <c>inf</c>), <c>edgeitems</c> (0–1000), <c>linewidth</c> (1–10000) and
    /// <c>sci_mode</c> (true, false, or none: torch decides) override it, as keyword arguments override a profile.
    /// </summary>
    internal static PrintOptions PrintOptionsFrom(HttpContext ctx)
    {
        var o = Single(ctx, "profile") switch
        {
            null => PrintOptions.Default,
            var p when p is "default" or "short" or "full" => PrintOptions.FromProfile(p),
            var p => throw new BadRequestException($"profile: '{p}' is not default, short or full"),
        };
        double? threshold = Single(ctx, "threshold") switch
        {
            null => null,
            "inf" => double.PositiveInfinity,
            var text => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= 0 && double.IsFinite(v) ? v
                : throw new BadRequestException($"threshold: '{text}' is not a number ≥ 0 or inf"),
        };
        bool? sci = Single(ctx, "sci_mode") switch
        {
            null or "none" => o.SciMode,
            "true" => true,
            "false" => false,
            var text => throw new BadRequestException($"sci_mode: '{text}' is not true, false or none"),
        };
        return o with
        {
            Precision = Int(ctx, "precision", 0, 30) ?? o.Precision,
            Threshold = threshold ?? o.Threshold,
            EdgeItems = Int(ctx, "edgeitems", 0, 1000) ?? o.EdgeItems,
            LineWidth = Int(ctx, "linewidth", 1, 10_000) ?? o.LineWidth,
            SciMode = sci,
        };
    }

    // ----- replies -----

    /// <summary>A response computed in full before anything is sent, so a failure never leaves half a document.</summary>
    private readonly record struct Reply(int Status, string ContentType, byte[] Body);

    private static Reply Json(Action<Utf8JsonWriter> body, int status = StatusCodes.Status200OK)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, s_json)) body(w);
        return new Reply(status, "application/json; charset=utf-8", ms.ToArray());
    }

    private static byte[] Render(Action<Stream> write)
    {
        using var ms = new MemoryStream();
        write(ms);
        return ms.ToArray();
    }

    private static Reply Error(int status, string message) => Json(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("status", status);
        w.WriteString("error", message);
        w.WriteEndObject();
    }, status);

    private static Reply Asset(string name) => StaticAssets.Get(name) is { } a
        ? new Reply(StatusCodes.Status200OK, a.ContentType, a.Bytes)
        : throw new NotFoundException($"no asset {name}");

    private static Task Write(HttpContext ctx, Reply r)
    {
        ctx.Response.StatusCode = r.Status;
        ctx.Response.ContentType = r.ContentType;
        ctx.Response.ContentLength = r.Body.Length;
        return ctx.Response.Body.WriteAsync(r.Body, 0, r.Body.Length);
    }
}

/// <summary>A file, tensor, pair or route the request names does not exist: 404.</summary>
internal sealed class NotFoundException(string message) : Exception(message);

/// <summary>A query parameter is malformed or out of range: 400.</summary>
internal sealed class BadRequestException(string message) : Exception(message);
