using System.CommandLine;

namespace WeightScope.Cli.Commands;

/// <summary>Exit codes (DESIGN.md): 0 success, 1 the verb found a problem, 2 usage error, 3 file unreadable or corrupt.</summary>
internal static class ExitCode
{
    public const int Ok = 0, Findings = 1, Usage = 2, Unreadable = 3;
}

/// <summary>Arguments and options shared by several verbs, and the one place errors become exit codes.</summary>
internal static class Common
{
    public static Argument<string> FileArgument() => new("file") { Description = "Weight file or folder (format detected from content)" };

    public static Option<bool> JsonOption() => new("--json") { Description = "Print machine-readable JSON (schema in README)" };

    /// <summary>Runs a verb, mapping failures to exit codes and one-line messages on stderr.</summary>
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (Unwrap(e) is not OperationCanceledException)
        {
            return Report(Unwrap(e));
        }
    }

    // Work that runs in parallel reports through OrderedParallel, which throws the first failure itself; anything that
    // still arrives wrapped (a Task, a Parallel loop elsewhere) is reported as its first inner exception, so a corrupt
    // tensor is never an "internal error".
    private static Exception Unwrap(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: > 0 } a) e = a.Flatten().InnerExceptions[0];
        return e;
    }

    private static int Report(Exception e) => e switch
    {
        ModelFormatException => Fail(e.Message, ExitCode.Unreadable),
        // The format cannot hold what was asked (a dtype, a name) or the destination cannot be written: nothing was written.
        Writing.ModelWriteException => Fail(e.Message, ExitCode.Usage),
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException => Fail(e.Message, ExitCode.Unreadable),
        KeyNotFoundException or FormatException or IndexOutOfRangeException or ArgumentException or UsageException
            or System.Text.RegularExpressions.RegexParseException => Fail(e.Message, ExitCode.Usage),
        // Values that cannot be produced (a view too large to materialise, a dtype with no conversion): the file is
        // readable but this request on it is not; reported like an unreadable file, with the reason.
        NotSupportedException or InvalidOperationException or OutOfMemoryException or OverflowException => Fail(e.Message, ExitCode.Unreadable),
        // A bug in WeightScope, not a problem of the file: say so, without a stack trace, and never exit 1
        // (which means "the verb found a problem in the model").
        _ => Fail($"internal error ({e.GetType().Name}: {e.Message}); please report it with the file", ExitCode.Unreadable),
    };

    public static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"weightscope: {message}");
        return code;
    }

    /// <summary>
    /// The reader limit flags (<c>--max-tensors</c>, …; one per <see cref="ReaderLimits.All"/>): recursive options of the
    /// root command, so every verb accepts them without declaring them.
    /// </summary>
    public static IReadOnlyList<(ReaderLimitInfo Limit, Option<long> Option)> LimitOptions { get; } =
        [.. ReaderLimits.All.Select(i => (i, LimitOption(i)))];

    /// <summary>
    /// <c>--allow-external-paths</c>: lets a file's references to other files leave its folder
    /// (<see cref="WeightScope.ReaderOptions.AllowExternalPaths"/>); recursive like the limit flags.
    /// </summary>
    public static Option<bool> AllowExternalPathsOption { get; } = new("--allow-external-paths")
    {
        Description = "Follow a file's references to other files (HDF5 external raw data) even when they leave the file's folder: absolute paths, '..', symbolic links. Only for trusted files",
        Recursive = true,
    };

    private static ParseResult? s_parse;

    /// <summary>Remembers the parse so <see cref="Open"/> can apply the reader flags given on the command line.</summary>
    public static void UseLimitsFrom(ParseResult parse) => s_parse = parse;

    /// <summary>The reader options the limit flags and <c>--allow-external-paths</c> ask for (the defaults for flags not given).</summary>
    public static ReaderOptions ReaderOptions()
    {
        if (s_parse is null) return WeightScope.ReaderOptions.Default;
        var limits = ReaderLimits.Default;
        foreach (var (info, option) in LimitOptions)
            if (s_parse.GetResult(option) is { Implicit: false }) limits = info.With(limits, s_parse.GetValue(option));
        return new ReaderOptions { Limits = limits, AllowExternalPaths = s_parse.GetValue(AllowExternalPathsOption) };
    }

    public static ModelFile Open(string path)
    {
        RequireModelPath(path);
        return ModelFile.Open(path, ReaderOptions());
    }

    /// <summary>
    /// A folder of files (checkpoints, a download) is not one model: a usage error saying which verb takes folders,
    /// rather than the readers' "not a known format".
    /// </summary>
    public static void RequireModelPath(string path)
    {
        if (Directory.Exists(path) && !ModelFile.IsModelFolder(path, ReaderOptions()))
            throw new UsageException($"{path} is a folder, not a model: this verb reads one model, a file or a model folder (TensorFlow SavedModel or " +
                                     "checkpoint, TF.js, sharded safetensors); 'weightscope scan FOLDER' takes any folder and checks every file in it");
    }

    private static string DefaultText(ReaderLimitInfo info)
    {
        long v = info.Get(ReaderLimits.Default);
        string n = v.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        return !info.IsBytes ? n : v % (1L << 20) == 0 ? Output.Text.Bytes(v) : n + " bytes";
    }

    private static Option<long> LimitOption(ReaderLimitInfo info) => new(info.Flag)
    {
        Description = $"Raise (or lower) the reader limit on {info.What} (default {DefaultText(info)}){(info.IsBytes ? "; sizes like 200MB or 4GiB" : "")}",
        HelpName = info.IsBytes ? "size" : "n",
        Recursive = true,
        CustomParser = r =>
        {
            string text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            if (Sizes.TryParse(text, info.IsBytes, out long value) && value > 0)
            {
                if (value <= info.Ceiling) return value;
                r.AddError($"{info.Flag}: {info.Format(value)} is more than the largest accepted, {info.Format(info.Ceiling)}");
                return 0;
            }
            r.AddError($"{info.Flag}: '{text}' is not a positive {(info.IsBytes ? "size (e.g. 200MB, 4GiB, 1048576)" : "whole number")}");
            return 0;
        },
    };
}

/// <summary>Sizes and counts given to the limit flags: digits (with optional _ or , separators) and, for sizes, a unit.</summary>
internal static class Sizes
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
        ("K", 1L << 10), ("M", 1L << 20), ("G", 1L << 30), ("T", 1L << 40), ("B", 1),
    ];

    /// <summary>Parses "4GiB", "200MB", "1048576" (sizes) or "2000000", "2_000_000" (counts).</summary>
    public static bool TryParse(string text, bool allowUnits, out long value)
    {
        value = 0;
        string t = text.Trim().Replace("_", "").Replace(",", "");
        long factor = 1;
        if (allowUnits)
        {
            foreach (var (suffix, f) in Units)
            {
                if (t.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
                {
                    t = t[..^suffix.Length].TrimEnd();
                    factor = f;
                    break;
                }
            }
        }
        if (t.Length == 0 || !t.All(char.IsAsciiDigit) || !long.TryParse(t, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n))
            return false;
        try
        {
            value = checked(n * factor);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }
}

/// <summary>A usage problem found after parsing (bad option combination, malformed value).</summary>
internal sealed class UsageException(string message) : Exception(message);
