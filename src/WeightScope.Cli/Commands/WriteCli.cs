using System.CommandLine;
using WeightScope.Analysis;
using WeightScope.Cli.Output;
using WeightScope.Output;
using WeightScope.Tensors;
using WeightScope.Writing;

namespace WeightScope.Cli.Commands;

/// <summary>What <c>convert</c> and <c>edit</c> share: output format and sharing options, renames, the write itself and its report.</summary>
internal static class WriteCli
{
    public static Option<string?> FormatOption() => new("--format") { Description = $"Output format: {string.Join(", ", TensorWriters.All.Select(w => w.Name))} (default: from OUT's ending)" };

    public static Option<bool> CompressOption() => new("--compress") { Description = "Compress where the format can (.npz: like np.savez_compressed)" };

    public static Option<bool> RefuseSharedOption() => new("--refuse-shared") { Description = "Fail instead of writing separate copies when tensors share storage (tied weights) and the format cannot record that" };

    public static Option<string[]> MetadataOption() => new("--metadata") { Description = "KEY=VALUE string metadata (safetensors __metadata__); repeatable. A safetensors input's own metadata is kept" };

    public static Option<bool> JsonOption() => new("--json") { Description = "Print what was written as JSON: {\"file\",\"format\",\"tensors\",\"bytes\",\"warnings\"}" };

    /// <summary>A <c>--rename</c> value: a sed rule <c>s/regex/replacement/[g][i]</c> or an exact <c>OLD=NEW</c>.</summary>
    public static Func<string, string> ParseRename(string text)
    {
        if (text.Length >= 4 && text[0] == 's' && !char.IsLetterOrDigit(text[1]) && text[1] != '\\' && text[1] != '=')
        {
            try { return RenameRule.Parse(text).Apply; }
            catch (FormatException e) { throw new UsageException(e.Message); }
        }
        int eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0 || eq == text.Length - 1)
            throw new UsageException($"--rename '{text}': expected OLD=NEW or a sed rule s/regex/replacement/");
        string from = text[..eq], to = text[(eq + 1)..];
        return name => name == from ? to : name;
    }

    /// <summary>
    /// True when two paths name the same file: by device and inode, so a folder symlink, <c>/proc/self/cwd</c>, a bind
    /// mount or a hard link is seen through (path text is not identity).
    /// </summary>
    public static bool SamePath(string a, string b) => WeightScope.IO.FileIdentity.Same(a, b);

    /// <summary>
    /// Refuses an OUT that is one of the files the model was read from (a shard of a sharded checkpoint, a TF
    /// checkpoint's data file, a tfjs shard) — writing there would destroy part of the input while it is being read —
    /// and an OUT that looks like a mistyped option.
    /// </summary>
    public static void CheckOutput(ModelFile input, string output, bool inPlace)
    {
        RefuseOptionLike(output);
        foreach (var source in input.SourceFiles)
            if (SamePath(source, output) && !(inPlace && input.SourceFiles.Count == 1))
                throw new UsageException(inPlace
                    ? $"--in-place: {input.Path} was read from {input.SourceFiles.Count} files; write the result to a new file instead"
                    : $"{output} is one of the files {input.Path} was read from; write elsewhere" + (input.SourceFiles.Count == 1 ? " (or use 'weightscope edit IN --in-place')" : ""));
    }

    /// <summary>An OUT that starts with '-' is a mistyped option (System.CommandLine took it as the argument), not a file name.</summary>
    public static void RefuseOptionLike(string output)
    {
        if (output.StartsWith('-'))
            throw new UsageException($"'{output}' looks like an option, not an output file (unknown option? see --help); write ./{output} for a file of that name");
    }

    /// <summary>Parses <c>KEY=VALUE</c>.</summary>
    public static (string Key, string Value) KeyValue(string option, string text)
    {
        int eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0) throw new UsageException($"{option} '{text}': expected NAME=VALUE");
        return (text[..eq], text[(eq + 1)..]);
    }

    /// <summary>
    /// The tensors an exact name or a glob (<c>*</c>, <c>?</c>, <c>[…]</c>, matching the whole name as fnmatch does)
    /// selects. Unlike <c>list --filter</c>, a plain word is not a substring search: a verb that writes must not zero
    /// <c>enc.fc.weight</c> when asked for <c>fc.weight</c>. A pattern that matches nothing is a usage error (a typo
    /// should not silently do nothing).
    /// </summary>
    public static List<TensorEntry> MatchOrFail(IReadOnlyList<TensorEntry> tensors, string glob, string option)
    {
        bool wildcard = glob.IndexOfAny(['*', '?', '[']) >= 0;
        var re = wildcard ? TensorCollection.GlobToRegex(glob) : null;
        var hits = tensors.Where(t => re is null ? t.Name == glob : re.IsMatch(t.Name)).ToList();
        if (hits.Count == 0)
        {
            var near = tensors.Select(t => t.Name).Where(n => n.Contains(glob.Trim('*'), StringComparison.OrdinalIgnoreCase)).Take(5).ToList();
            throw new UsageException($"{option} '{glob}' matches no tensor" + (near.Count > 0 ? $" (similar: {string.Join(", ", near)})" : ""));
        }
        return hits;
    }

    /// <summary>Applies renames in order to every name; two tensors ending with one name is a usage error.</summary>
    public static List<TensorEntry> Rename(IReadOnlyList<TensorEntry> tensors, IReadOnlyList<Func<string, string>> renames)
    {
        if (renames.Count == 0) return [.. tensors];
        var result = new List<TensorEntry>(tensors.Count);
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            var name = renames.Aggregate(t.Name, (n, r) => r(n));
            if (name.Length == 0) throw new UsageException($"--rename turns '{t.Name}' into an empty name");
            if (seen.TryGetValue(name, out var other))
                throw new UsageException($"--rename gives '{other}' and '{t.Name}' the same name '{name}'");
            seen[name] = t.Name;
            result.Add(name == t.Name ? t : t.With(name: name));
        }
        return result;
    }

    /// <summary>Metadata to write: a safetensors input's own, then <c>--metadata</c> values over it.</summary>
    public static Dictionary<string, string>? Metadata(ModelFile input, string[]? given)
    {
        var md = new Dictionary<string, string>(StringComparer.Ordinal);
        if (input.Format.Name.StartsWith("safetensors", StringComparison.Ordinal))
            foreach (var (k, v) in input.Metadata)
                if (v is string s) md[k] = s;
        foreach (var kv in given ?? [])
        {
            var (k, v) = KeyValue("--metadata", kv);
            md[k] = v;
        }
        return md.Count == 0 ? null : md;
    }

    /// <summary>Writes atomically with a progress bar for large outputs, then reports on stdout (text or JSON) and warnings on stderr.</summary>
    public static int Save(IReadOnlyList<TensorEntry> tensors, string output, string? format, WriteOptions options, bool json, string verb)
    {
        var writer = format is null ? TensorWriters.ForPath(output) : TensorWriters.ByName(format);
        if (options.Compress && !writer.Name.StartsWith("npz", StringComparison.Ordinal))
            throw new UsageException("--compress applies to .npz output (np.savez_compressed); the other formats are written uncompressed, as their frameworks write them");
        var warnings = new List<string>();
        long bytes = tensors.Sum(t => t.ByteSize);
        Progress.Run("writing", bytes, bytes, report =>
        {
            long last = 0;
            TensorWriters.Save(tensors, output, writer.Name, options with { Warning = warnings.Add, Progress = new SyncProgress(n => { report(n - last); last = n; }) });
            return 0;
        });
        if (!writer.KeepsNames) warnings.AddRange(RenamedOnReading(tensors, output, writer.Name));
        foreach (var w in warnings) Console.Error.WriteLine($"weightscope: note: {w}");
        if (json)
        {
            Json.Write(w =>
            {
                w.WriteStartObject();
                w.WriteString("file", output);
                w.WriteString("format", writer.Name);
                w.WriteNumber("tensors", tensors.Count);
                w.WriteNumber("bytes", new FileInfo(output).Length);
                ModelJson.Strings(w, "warnings", warnings);
                w.WriteEndObject();
            });
        }
        else
        {
            Console.WriteLine($"{verb} {tensors.Count} tensor{(tensors.Count == 1 ? "" : "s")} to {output} ({writer.Name}, {Text.Bytes(new FileInfo(output).Length)})");
        }
        return ExitCode.Ok;
    }

    // A format that records positions rather than names (Keras 3), or no name at all (.npy: the file's), gives tensors
    // other names when read back: say which.
    private static IEnumerable<string> RenamedOnReading(IReadOnlyList<TensorEntry> written, string path, string format)
    {
        using var back = Common.Open(path);
        var names = back.Tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var lost = written.Where(t => !names.Contains(t.Name)).Select(t => t.Name).ToList();
        if (lost.Count > 0)
            yield return $"{format} does not store tensor names as given: {lost.Count} tensor{(lost.Count == 1 ? "" : "s")} ({string.Join(", ", lost.Take(3))}{(lost.Count > 3 ? ", …" : "")}) will be read back as " +
                         string.Join(", ", back.Tensors.Select(t => t.Name).Where(n => !written.Any(w => w.Name == n)).Take(3)) + (lost.Count > 3 ? ", …" : "");
    }

    // Progress<T> posts to the thread pool; the bar wants the count now, on the writing thread.
    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
