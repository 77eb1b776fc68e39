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
        catch (ModelFormatException e)
        {
            return Fail(e.Message, ExitCode.Unreadable);
        }
        catch (Writing.ModelWriteException e)
        {
            // The format cannot hold what was asked (a dtype, a name) or the destination cannot be written: nothing was written.
            return Fail(e.Message, ExitCode.Usage);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            return Fail(e.Message, ExitCode.Unreadable);
        }
        catch (Exception e) when (e is KeyNotFoundException or FormatException or IndexOutOfRangeException or ArgumentException
                                      or UsageException or System.Text.RegularExpressions.RegexParseException)
        {
            return Fail(e.Message, ExitCode.Usage);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or OutOfMemoryException or OverflowException)
        {
            // Values that cannot be produced (a view too large to materialise, a dtype with no conversion): the file is
            // readable but this request on it is not; reported like an unreadable file, with the reason.
            return Fail(e.Message, ExitCode.Unreadable);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A bug in WeightScope, not a problem of the file: say so, without a stack trace, and never exit 1
            // (which means "the verb found a problem in the model").
            return Fail($"internal error ({e.GetType().Name}: {e.Message}); please report it with the file", ExitCode.Unreadable);
        }
    }

    public static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"weightscope: {message}");
        return code;
    }

    public static ModelFile Open(string path) => ModelFile.Open(path);
}

/// <summary>A usage problem found after parsing (bad option combination, malformed value).</summary>
internal sealed class UsageException(string message) : Exception(message);
