using System.IO.Compression;
using System.Text;
using WeightScope.Security;
using WeightScope.Tests.Interop;
using Xunit;

namespace WeightScope.Tests.Security;

/// <summary>
/// Keras gives the bytes of a <c>.keras</c> archive's <c>config.json</c> to Python's <c>json.loads</c>, which also
/// decodes UTF-16 and UTF-32 (with or without a byte-order mark) and accepts <c>NaN</c>/<c>Infinity</c>. A config written
/// any of these ways still loads its Lambda layers in Keras, so the scan must find them too; Python's json module itself
/// confirms that each variant holds the Lambda layer.
/// </summary>
public sealed class KerasConfigEncodingTests : IDisposable
{
    private const string Config = """
        {"class_name": "Sequential", "config": {"name": "s", "layers": [
          {"class_name": "Lambda", "config": {"name": "evil", "function": ["4wEAAAAAAAAA", null, null], "scale": NaN, "floor": -Infinity, "ceiling": Infinity}},
          {"class_name": "Dense", "config": {"name": "d", "note": "NaN and Infinity inside strings stay text"}}]}}
        """;

    private static readonly string[] s_variants =
        ["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "utf-16-le-bom", "utf-16-be-bom", "utf-32-le", "utf-32-be", "utf-32-le-bom", "utf-32-be-bom"];

    public static TheoryData<string> Variants() => [.. s_variants];

    private readonly string _dir = Directory.CreateTempSubdirectory("weightscope-keras-encoding-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Encode(string variant)
    {
        bool bom = variant.EndsWith("-bom", StringComparison.Ordinal) || variant == "utf-8-sig";
        Encoding e = variant switch
        {
            "utf-8" or "utf-8-sig" => new UTF8Encoding(false),
            _ when variant.StartsWith("utf-16-le", StringComparison.Ordinal) => new UnicodeEncoding(false, false),
            _ when variant.StartsWith("utf-16-be", StringComparison.Ordinal) => new UnicodeEncoding(true, false),
            _ when variant.StartsWith("utf-32-le", StringComparison.Ordinal) => new UTF32Encoding(false, false),
            _ => new UTF32Encoding(true, false),
        };
        var preamble = bom ? (variant == "utf-8-sig" ? new UTF8Encoding(true) : e switch
        {
            UnicodeEncoding u => new UnicodeEncoding(variant.Contains("-be", StringComparison.Ordinal), true),
            _ => (Encoding)new UTF32Encoding(variant.Contains("-be", StringComparison.Ordinal), true),
        }).GetPreamble() : [];
        return [.. preamble, .. e.GetBytes(Config)];
    }

    private string Archive(string variant)
    {
        var path = Path.Combine(_dir, variant + ".keras");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var s = zip.CreateEntry("config.json").Open()) s.Write(Encode(variant));
        using (var s = zip.CreateEntry("metadata.json").Open()) s.Write("""{"keras_version": "3.3.3"}"""u8);
        return path;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Lambda_layer_is_found_in_every_encoding_json_loads_accepts(string variant)
    {
        var report = PickleScanner.Scan(Archive(variant));
        var lambda = Assert.Single(report.Code);
        Assert.Equal(ScanVerdict.Dangerous, lambda.Verdict);
        Assert.Contains("'evil'", lambda.Detail, StringComparison.Ordinal);
        Assert.Empty(report.Errors);
    }

    [PythonFact("json")]
    public void Python_json_loads_reads_the_lambda_layer_from_every_variant()
    {
        foreach (var variant in s_variants)
            File.WriteAllBytes(Path.Combine(_dir, variant + ".json"), Encode(variant));
        var output = Python.Run("""
            import json, os, sys
            for name in sorted(os.listdir(sys.argv[1])):
                with open(os.path.join(sys.argv[1], name), "rb") as f:
                    layers = json.loads(f.read())["config"]["layers"]
                print(name[:-5], layers[0]["class_name"], layers[0]["config"]["name"], layers[0]["config"]["floor"])
            """, _dir);
        var expected = s_variants.Select(v => $"{v} Lambda evil -inf").Order(StringComparer.Ordinal);
        Assert.Equal(expected, output.TrimEnd('\n').Split('\n').Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_config_that_is_not_json_is_noted_not_silently_skipped()
    {
        var path = Path.Combine(_dir, "broken.keras");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        using (var s = zip.CreateEntry("config.json").Open()) s.Write("""{"class_name": "Lambda", """u8);
        var report = PickleScanner.Scan(path);
        Assert.Empty(report.Code);
        Assert.Contains(report.Notes, n => n.StartsWith("config.json is not JSON", StringComparison.Ordinal));
    }
}
