using System.Collections.Frozen;

namespace WeightScope.Web;

/// <summary>
/// The page's files, embedded in this assembly (<c>assets/</c>): one HTML page, its script and its style sheet. Vanilla
/// JavaScript, no framework, no web fonts, nothing fetched from another host.
/// </summary>
internal static class StaticAssets
{
    /// <summary>An asset's bytes and content type.</summary>
    public sealed record Asset(string Name, string ContentType, byte[] Bytes);

    private static readonly FrozenDictionary<string, Asset> s_assets = Load();

    /// <summary>Every embedded asset, by file name.</summary>
    public static IReadOnlyCollection<Asset> All => s_assets.Values;

    /// <summary>The asset named <paramref name="name"/> (<c>index.html</c>, <c>app.js</c>, <c>app.css</c>), or null.</summary>
    public static Asset? Get(string name) => s_assets.GetValueOrDefault(name);

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(StaticAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith("assets/", StringComparison.Ordinal)) continue;
            string name = resource["assets/".Length..];
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var ms = new MemoryStream();
            stream.CopyTo(ms);
            assets[name] = new Asset(name, ContentType(name), ms.ToArray());
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };
}
