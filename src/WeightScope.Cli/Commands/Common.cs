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
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            return Fail(e.Message, ExitCode.Unreadable);
        }
        catch (Exception e) when (e is KeyNotFoundException or FormatException or IndexOutOfRangeException or ArgumentException or UsageException)
        {
            return Fail(e.Message, ExitCode.Usage);
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
