using System.Text.RegularExpressions;

namespace WeightScope.Tests.Corpus;

/// <summary>A row of ../shared/corpus/MANIFEST.md: the file and what its "contents" column says is inside.</summary>
public sealed record ManifestRow(string Path, string Writer, string Contents)
{
    public string Folder => Path.Split('/')[0];
}

/// <summary>Reads the corpus manifest's tables (pipes escaped as \| inside cells).</summary>
public static class CorpusManifest
{
    private static readonly Lazy<IReadOnlyList<ManifestRow>> Lazy = new(Load);

    public static IReadOnlyList<ManifestRow> Rows => Lazy.Value;

    private static IReadOnlyList<ManifestRow> Load()
    {
        var path = System.IO.Path.Combine(TestPaths.Corpus, "MANIFEST.md");
        if (!File.Exists(path)) return [];
        var rows = new List<ManifestRow>();
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith("| `", StringComparison.Ordinal)) continue;
            var cells = Regex.Split(line.Trim().Trim('|'), @"(?<!\\)\|").Select(c => c.Trim().Replace("\\|", "|")).ToArray();
            if (cells.Length < 7) continue;
            rows.Add(new ManifestRow(cells[0].Trim('`'), cells[5], cells[6]));
        }
        return rows;
    }
}
