using System.CommandLine;
using WeightScope.Cli.Output;
using WeightScope.Output;
using WeightScope.Security;

namespace WeightScope.Cli.Commands;

/// <summary>
/// <c>weightscope scan FILE</c>: every global every pickle in the file names, classified, without running or building
/// anything. The verdict is an allow-list verdict: exit 0 only when every global every pickle can reach is on the safe
/// list; anything else — dangerous or merely unknown ("suspicious": a pickled module's own classes, say) — exits 1 and is
/// named; 3 when a pickle or the container could not be read and nothing outside the list was found before.
/// </summary>
internal static class ScanCommand
{
    public static Command Create()
    {
        var file = Common.FileArgument();
        var json = Common.JsonOption();
        var cmd = new Command("scan", """
            List every global (module.name) every pickle inside a file references — PyTorch zip, legacy and TorchScript
            files, bare pickles, NumPy object arrays, .npz and .keras members — with the opcodes that use it and where,
            classified as safe (what torch.load(weights_only=True) allows, numpy's array reconstruction, a few value
            constructors), suspicious (unknown) or dangerous (runs commands or code, imports, opens files). Bytes a
            pickle hands to pickle.loads or torch.load are scanned too. Keras Lambda layers are dangerous. Nothing is executed.
            Exit code: 0 only when everything is safe; 1 when anything is dangerous or suspicious; 3 unreadable.
            A folder that is not itself a model (a SavedModel, TF.js or sharded safetensors folder is one) is walked: every
            file whose content is a model format or a pickle is scanned, one line each, then a summary; other files are
            counted as skipped; symbolic links are not followed. Exit 1 if any file is dangerous or suspicious, else 3
            if any could not be read; --json gives one object per file (the single-file shape) in an array.

            Examples:
              weightscope scan downloaded.pt
              weightscope scan model.keras --json
              weightscope scan ~/Downloads/checkpoints/
            """) { file, json };
        cmd.SetAction(p => Common.Run(() =>
        {
            string path = p.GetValue(file)!;
            if (Directory.Exists(path) && !ModelFile.IsModelFolder(path, Common.ReaderOptions()))
                return ScanFolder(path, p.GetValue(json));
            var report = PickleScanner.Scan(path, Common.ReaderOptions().Limits);
            if (p.GetValue(json)) WriteJson(report);
            else WriteText(report);
            int dangerous = Count(report, ScanVerdict.Dangerous), suspicious = Count(report, ScanVerdict.Suspicious);
            foreach (var (source, message) in report.Errors)
                Console.Error.WriteLine($"weightscope: {Where(source)}: {message}");
            if (report.Globals.Any(g => g.Verdict == ScanVerdict.Suspicious))
            {
                var names = report.Globals.Where(g => g.Verdict == ScanVerdict.Suspicious).Select(g => g.ResolvedName).Distinct().ToList();
                Console.Error.WriteLine($"weightscope: {names.Count} global(s) outside the allow-list ({string.Join(", ", names.Take(8))}{(names.Count > 8 ? ", …" : "")}): " +
                                        "loading this file imports them and runs their code paths, and torch.load(weights_only=True) refuses them; " +
                                        "for weights alone, save and load a state_dict (torch.save(model.state_dict())) or safetensors");
            }
            if (dangerous > 0 || suspicious > 0) return ExitCode.Findings;
            if (report.Errors.Count > 0) return ExitCode.Unreadable;
            return ExitCode.Ok;
        }));
        return cmd;
    }

    // scan DIR: each file's own verdict (its exit status as scan FILE gives it), then the totals.
    private static int ScanFolder(string path, bool json)
    {
        var result = FolderScan.Scan(path, Common.ReaderOptions().Limits);
        if (json)
        {
            Json.Write(w =>
            {
                w.WriteStartArray();
                foreach (var e in result.Entries)
                {
                    if (e.Report is { } r) WriteJsonObject(w, r);
                    else
                    {
                        w.WriteStartObject();
                        w.WriteString("file", e.Path);
                        w.WriteString("verdict", "unreadable");
                        w.WriteStartArray("errors");
                        w.WriteStartObject();
                        w.WriteString("source", "");
                        w.WriteString("message", e.Error);
                        w.WriteEndObject();
                        w.WriteEndArray();
                        w.WriteEndObject();
                    }
                }
                w.WriteEndArray();
            });
        }
        else
        {
            var o = Console.Out;
            foreach (var e in result.Entries)
            {
                string rel = Path.GetRelativePath(path, e.Path);
                string detail = e.Report is { } r
                    ? $"{r.Container}; {Count(r, ScanVerdict.Dangerous)} dangerous, {Count(r, ScanVerdict.Suspicious)} suspicious, {Count(r, ScanVerdict.Safe)} safe"
                      + (r.Errors.Count > 0 ? $", {r.Errors.Count} unreadable part(s): {r.Errors[0].Message}" : "")
                    : e.Error!;
                o.WriteLine($"{Status(e.Status),-11} {rel}  ({detail})");
            }
            int links = result.SymlinksNotFollowed.Count;
            o.WriteLine($"summary: {result.Entries.Count} file(s) scanned, {result.Skipped} skipped (not a model or pickle)"
                        + (links > 0 ? $", {links} symbolic link(s) not followed" : "")
                        + $"; {result.Count(FolderScanStatus.Safe)} safe, {result.Count(FolderScanStatus.Suspicious)} suspicious, "
                        + $"{result.Count(FolderScanStatus.Dangerous)} dangerous, {result.Count(FolderScanStatus.Unreadable)} unreadable"
                        + (result.Count(FolderScanStatus.Dangerous) > 0 ? " — DO NOT load the dangerous files" : ""));
        }
        if (result.Count(FolderScanStatus.Dangerous) > 0 || result.Count(FolderScanStatus.Suspicious) > 0) return ExitCode.Findings;
        return result.Count(FolderScanStatus.Unreadable) > 0 ? ExitCode.Unreadable : ExitCode.Ok;
    }

    private static string Status(FolderScanStatus s) => s switch
    {
        FolderScanStatus.Safe => "safe",
        FolderScanStatus.Suspicious => "suspicious",
        FolderScanStatus.Dangerous => "dangerous",
        _ => "unreadable",
    };

    private static int Count(ScanReport r, ScanVerdict v) => r.Globals.Count(g => g.Verdict == v) + r.Code.Count(c => c.Verdict == v);

    private static string Where(string source) => source.Length == 0 ? "file" : source;

    private static string Verdict(ScanVerdict v) => v switch
    {
        ScanVerdict.Safe => "safe",
        ScanVerdict.Suspicious => "suspicious",
        _ => "dangerous",
    };

    private static string Uses(PickleGlobalFinding g) =>
        g.Uses.Count == 0 ? "referenced" : string.Join(", ", g.Uses.Select(u => $"{u.Opcode}@{u.Offset}"));

    private static void WriteText(ScanReport r)
    {
        var o = Console.Out;
        o.WriteLine($"file:      {r.Path}");
        o.WriteLine($"container: {r.Container}, {r.Pickles.Count} pickle(s) walked");
        foreach (var g in r.Globals)
            o.WriteLine($"  {Verdict(g.Verdict),-10} {g.FullName,-48} {g.Opcode}@{g.Offset} in {Where(g.Source)}; {Uses(g)}"
                        + (g.ImportedAs is { } imported ? $"; imported as {imported}" : "")
                        + (g.Verdict == ScanVerdict.Safe ? "" : $" ({g.Reason})"));
        foreach (var c in r.Code)
            o.WriteLine($"  {Verdict(c.Verdict),-10} {c.Kind,-48} in {Where(c.Source)}: {c.Detail}");
        foreach (var n in r.Notes) o.WriteLine($"note: {n}");
        int d = Count(r, ScanVerdict.Dangerous), s = Count(r, ScanVerdict.Suspicious), ok = Count(r, ScanVerdict.Safe);
        o.WriteLine($"summary:   {d} dangerous, {s} suspicious, {ok} safe" + (r.Errors.Count > 0 ? $", {r.Errors.Count} unreadable part(s)" : "")
                    + $" — {Advice(r)}");
    }

    // What to do, worded for what was found: pickle globals, or code-bearing content of another format (a Keras Lambda,
    // a TF graph's file ops, an ONNX custom op, an escaping external-data path).
    private static string Advice(ScanReport r)
    {
        bool Globals(ScanVerdict v) => r.Globals.Any(g => g.Verdict == v);
        bool Code(ScanVerdict v) => r.Code.Any(c => c.Verdict == v);
        if (Globals(ScanVerdict.Dangerous)) return "DO NOT load this file with pickle or torch.load(weights_only=False)";
        if (Code(ScanVerdict.Dangerous))
            return r.Container == "tf-savedmodel" ? "DO NOT load and call this model: its graph touches files or runs Python"
                                                  : "DO NOT load or run this model: see the dangerous findings above";
        if (Globals(ScanVerdict.Suspicious))
            return "DO NOT load this file with pickle or torch.load(weights_only=False) unless you trust it: loading runs the code of the globals outside the allow-list";
        if (Code(ScanVerdict.Suspicious)) return "review the suspicious findings above before loading or running this model";
        if (r.Errors.Count > 0) return "nothing outside the allow-list in what could be read";
        return r.Pickles.Count == 0 ? "no code-bearing content" : "every global is on the allow-list";
    }

    private static void WriteJson(ScanReport r) => Json.Write(w => WriteJsonObject(w, r));

    private static void WriteJsonObject(System.Text.Json.Utf8JsonWriter w, ScanReport r)
    {
        w.WriteStartObject();
        w.WriteString("file", r.Path);
        w.WriteString("container", r.Container);
        w.WriteString("verdict", Verdict(r.Worst));
        w.WriteStartArray("pickles");
        foreach (var (source, bytes) in r.Pickles)
        {
            w.WriteStartObject();
            w.WriteString("source", source);
            w.WriteNumber("bytes", bytes);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("globals");
        foreach (var g in r.Globals)
        {
            w.WriteStartObject();
            w.WriteString("verdict", Verdict(g.Verdict));
            w.WriteString("module", g.Module);
            w.WriteString("name", g.Name);
            w.WriteString("opcode", g.Opcode);
            w.WriteNumber("offset", g.Offset);
            w.WriteString("source", g.Source);
            w.WriteString("reason", g.Reason);
            if (g.ImportedAs is { } imported) w.WriteString("imported_as", imported);
            w.WriteStartArray("uses");
            foreach (var u in g.Uses)
            {
                w.WriteStartObject();
                w.WriteString("opcode", u.Opcode);
                w.WriteNumber("offset", u.Offset);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("code");
        foreach (var c in r.Code)
        {
            w.WriteStartObject();
            w.WriteString("verdict", Verdict(c.Verdict));
            w.WriteString("kind", c.Kind);
            w.WriteString("source", c.Source);
            w.WriteString("detail", c.Detail);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        ModelJson.Strings(w, "notes", r.Notes);
        w.WriteStartArray("errors");
        foreach (var (source, message) in r.Errors)
        {
            w.WriteStartObject();
            w.WriteString("source", source);
            w.WriteString("message", message);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
